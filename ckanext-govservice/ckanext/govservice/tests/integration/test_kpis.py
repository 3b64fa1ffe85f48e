"""KPIs against hand-computed values from known rows; parameters refused with reasons."""
from __future__ import annotations

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import helpers

from ckanext.govservice import statistics_publish

from .. import factories as gov
from .test_statistics import HEADER, load_csv

# market-regulation: SR-1 (business) and SR-2 (business, tax; no visit); tax-bureau: TX-1 (tax).
#            code  period   channel  recv compl ontime online  ratings 5..1     n  bad rect
MARKET = HEADER + """\
SR-1,2025-01,online,110,100,90,100,10,5,3,1,1,20,2,1,
SR-1,2025-01,in_person,50,50,50,0,,,,,,,,,
SR-1,2025-12,online,100,100,100,50,,,,,,,,,
SR-1,2026-01,online,210,200,150,180,20,0,0,0,0,20,0,0,
SR-2,2026-01,online,0,0,0,0,,,,,,,,,
"""
TAX = HEADER + "TX-1,2026-01,online,12,10,5,10,,,,,,,,,\n"


@pytest.fixture
def figures(statistics_db, sysadmin, dept):
    gov.service(dept["id"], service_code="SR-1", name="sr-1", themes=["business"])
    gov.service(dept["id"], service_code="SR-2", name="sr-2", themes=["business", "tax"],
                in_person_visits=0)
    tax = gov.department(name="tax-bureau", title="滨江市税务局")
    gov.service(tax["id"], service_code="TX-1", name="tx-1", themes=["tax"], in_person_visits=2,
                committed_limit=15)
    load_csv(sysadmin, "market-regulation", MARKET)
    load_csv(sysadmin, "tax-bureau", TAX)
    return sysadmin


def kpis(**params):
    return helpers.call_action("govservice_kpis", context={"ignore_auth": False, "user": ""}, **params)


def result(answer, **keys):
    matches = [r for r in answer["results"] if all(r.get(k) == v for k, v in keys.items())]
    assert len(matches) == 1, (keys, answer["results"])
    return matches[0]["kpis"]


def test_department_month_with_changes_on_last_month_and_last_year(figures):
    answer = kpis(department="market-regulation", group_by="period",
                  period_from="2026-01", period_to="2026-01")
    jan = result(answer, period="2026-01")
    assert jan["on_time_rate"] == {"value": 0.75, "numerator": 150, "denominator": 200,
                                   "change_previous": -0.25, "change_year": -0.183333,
                                   "standard": None}
    assert jan["digital_take_up"]["value"] == 0.9
    assert jan["volume"]["value"] == 210
    assert jan["rectification_rate"] == {"value": None, "numerator": 0, "denominator": 0,
                                         "change_previous": None, "change_year": None,
                                         "standard": None}


def test_ratings_give_satisfaction_rate_mean_score_and_rectification(figures):
    answer = kpis(department="market-regulation", group_by=["period"],
                  period_from="2025-01", period_to="2025-01")
    jan = result(answer, period="2025-01")
    assert jan["satisfaction_rate"]["value"] == 0.9           # (10 + 5 + 3) / 20
    assert jan["satisfaction_score"]["value"] == 4.1          # (50 + 20 + 9 + 2 + 1) / 20
    assert jan["rectification_rate"]["value"] == 0.5          # 1 / 2


def test_quarters_and_years_add_up_their_months(figures):
    year = kpis(department="market-regulation", group_by="period", period_type="year",
                period_from="2025-01", period_to="2025-12")
    assert result(year, period="2025")["on_time_rate"]["value"] == 0.96       # 240 / 250
    quarter = kpis(department="market-regulation", group_by="period", period_type="quarter",
                   period_from="2025-01", period_to="2025-03")
    assert result(quarter, period="2025-Q1")["on_time_rate"]["numerator"] == 140


def test_a_zero_denominator_is_no_data_not_zero(figures):
    answer = kpis(service="SR-2", group_by="service", period_from="2026-01", period_to="2026-01")
    figure = result(answer, service="SR-2")["on_time_rate"]
    assert figure == {"value": None, "numerator": 0, "denominator": 0, "standard": None}


def test_departments_are_ranked_in_each_period(figures):
    answer = kpis(group_by="department,period", kpis="on_time_rate",
                  period_from="2026-01", period_to="2026-01")
    market = result(answer, department="market-regulation", period="2026-01")["on_time_rate"]
    tax = result(answer, department="tax-bureau", period="2026-01")["on_time_rate"]
    assert (market["rank"], market["of"], tax["rank"], tax["value"]) == (1, 2, 2, 0.5)


def test_a_theme_gathers_the_services_of_every_department(figures):
    answer = kpis(group_by="theme", theme="tax", kpis=["on_time_rate"],
                  period_from="2026-01", period_to="2026-01")
    assert result(answer, theme="tax")["on_time_rate"]["value"] == 0.5     # (0 + 5) / (0 + 10)


def test_a_channel_narrows_to_its_rows(figures):
    answer = kpis(department="market-regulation", channel="in_person", group_by="period",
                  period_from="2025-01", period_to="2025-01")
    assert result(answer, period="2025-01")["volume"]["value"] == 50


def test_catalogue_kpis_come_from_the_services(figures):
    answer = kpis(group_by="department", kpis="zero_visit_share,time_limit_compression,one_visit_share")
    market = result(answer, department="market-regulation")
    assert market["zero_visit_share"] == {"value": 0.5, "numerator": 1, "denominator": 2,
                                          "rank": 1, "of": 2, "standard": None}
    assert market["time_limit_compression"]["value"] == 0.8                 # (15 - 3) / 15
    tax = result(answer, department="tax-bureau")
    assert tax["one_visit_share"]["value"] == 0.0
    assert tax["time_limit_compression"]["value"] == 0.0


def test_every_figure_comes_with_its_definition_in_both_languages(figures):
    answer = kpis(kpis="on_time_rate")
    definition = answer["definitions"]["on_time_rate"]
    assert definition["label"] == {"zh_Hans_CN": "按时办结率", "en": "On-time rate"}
    assert definition["numerator"] == "completed_on_time"
    assert "÷" in definition["definition"]["en"]


@pytest.mark.parametrize("params, field, message", [
    ({"period_from": "2026-1"}, "period_from", "'2026-1' is not a month written as YYYY-MM"),
    ({"period_from": "2026-05", "period_to": "2026-01"}, "period_from", "2026-05 is after period_to 2026-01"),
    ({"department": "no-such-bureau"}, "department", "no department called 'no-such-bureau'"),
    ({"group_by": "colour"}, "group_by",
     "'colour' not allowed; choose from service, department, theme, life_event, channel, period"),
    ({"period_type": "week"}, "period_type", "'week' is not one of month, quarter, year"),
    ({"theme": "weather"}, "theme", None),
    ({"department": {}}, "department", "must be text"),
    ({"group_by": [1]}, "group_by", "must be a list of names, or names separated by commas"),
])
def test_bad_parameters_are_refused_with_the_reason(statistics_db, params, field, message):
    with pytest.raises(tk.ValidationError) as e:
        kpis(**params)
    assert list(e.value.error_dict) == [field]
    if message:
        assert e.value.error_dict[field] == [message]


def test_league_table_ranks_departments_and_shows_the_change(figures):
    table = helpers.call_action("govservice_league_table", period_from="2026-01", period_to="2026-01")
    assert [d["department"] for d in table["departments"]] == ["market-regulation", "tax-bureau"]
    market = table["departments"][0]
    assert market["title"]["zh_Hans_CN"] == "滨江市市场监督管理局"
    assert market["kpis"]["on_time_rate"]["rank"] == 1
    assert market["kpis"]["on_time_rate"]["change_previous"] == -0.25      # 0.75 vs December's 1.0
    assert (table["previous_period_from"], table["previous_period_to"]) == ("2025-12", "2025-12")


def test_each_service_carries_its_latest_twelve_months_and_sorts_by_them(figures):
    sr1 = helpers.call_action("package_show", id="sr-1")
    assert sr1["performance"] == {"period_from": "2025-12", "period_to": "2026-01",
                                  "on_time_rate": 0.833333, "digital_take_up": 0.766667,
                                  "satisfaction_rate": 1, "volume": 310, "standards": {}}
    statistics_publish.reindex_services([sr1["id"], helpers.call_action("package_show", id="tx-1")["id"]])
    found = helpers.call_action("package_search", fq="dataset_type:service",
                                sort="performance_on_time_rate_f desc", rows=10)
    assert [r["name"] for r in found["results"]][:2] == ["sr-1", "tx-1"]
    faster = helpers.call_action("package_search", fq="performance_on_time_rate_f:[0.8 TO *]")
    assert [r["name"] for r in faster["results"]] == ["sr-1"]


def _kpi_sums() -> dict[str, list[tuple]]:
    import sqlalchemy as sa
    from ckanext.govservice import statistics_store as store
    with store.engine().connect() as conn:
        return {table: [tuple(r) for r in conn.execute(sa.text(
                    f"SELECT * FROM {store.SCHEMA}.{table} ORDER BY 1, 2, 3"))]
                for table in ("service_month", "department_month")}


def test_sums_kept_up_load_by_load_equal_sums_rebuilt_from_every_row(figures):
    """Loads add new rows to the sums and recompute the months where a row
    changed; after inserts, changes (a figure emptied, a month gone to "no
    data"), repeats and new months together, the sums must be exactly what a
    rebuild from all the published rows gives."""
    import sqlalchemy as sa
    from ckanext.govservice import statistics_store as store
    report = load_csv(figures, "market-regulation", HEADER
                      + "SR-1,2025-01,online,110,100,,100,10,5,3,1,1,20,2,1,\n"      # on-time emptied
                      + "SR-1,2025-01,in_person,,,,,,,,,,,,,yes\n"                     # now "no data"
                      + "SR-1,2025-12,online,100,100,100,50,,,,,,,,,\n"                # unchanged
                      + "SR-2,2025-01,online,7,7,7,7,,,,,,,,,\n"                       # new, month being recomputed
                      + "SR-2,2026-02,mobile,3,3,2,3,1,1,1,0,0,3,0,0,\n"               # new month
                      + "SR-2,2026-02,mobile,4,4,3,4,1,1,1,1,0,4,1,1,\n")              # repeat: this one wins
    assert (report["inserted"], report["updated"], report["unchanged"], report["rejected"]) == (2, 2, 1, 1)
    kept_up = _kpi_sums()
    with store.engine().begin() as conn:
        store.refresh_aggregates(conn, statistics_publish.statistics_table())
    assert kept_up == _kpi_sums()
    on_time = {(r[0], r[1]): r for r in kept_up["service_month"]}
    assert on_time[("SR-1", "2025-01")][3] == 2          # rows reported: online and in person
    assert {r[3] for r in kept_up["department_month"] if r[1] == "2026-02"} == {1}
    with store.engine().connect() as conn:
        assert conn.execute(sa.text(
            f"SELECT completed_on_time, completed_with_on_time FROM {store.SCHEMA}.service_month "
            "WHERE service_code = 'SR-1' AND period = '2025-01'")).one() == (None, None)


def test_first_load_of_a_department_drops_sums_left_without_rows(figures):
    """Sums of a department with no published rows are stale (say, the table
    was recreated): its first load starts them afresh instead of adding to them."""
    import sqlalchemy as sa
    from ckanext.govservice import statistics_store as store
    table = statistics_publish.statistics_table()
    with store.engine().begin() as conn:   # the table recreated without them, as a load would
        store.loader.write_as_the_loader(conn)
        conn.execute(sa.text(f'DELETE FROM "{table}" WHERE department = \'tax-bureau\''))
    load_csv(figures, "tax-bureau", TAX)
    kept_up = _kpi_sums()
    with store.engine().begin() as conn:
        store.refresh_aggregates(conn, table)
    assert kept_up == _kpi_sums()


def test_counts_near_the_32_bit_limit_add_up_without_overflow(figures):
    """Each count fits the table's 32-bit column, their weighted sum does not:
    the KPI sums work in 64 bits, on first load and when recomputed."""
    big = 2_000_000_000
    row = f"SR-2,2026-03,online,1,1,1,1,{big},0,0,0,0,{big},0,0,\n"
    load_csv(figures, "market-regulation", HEADER + row)
    load_csv(figures, "market-regulation", HEADER + row.replace(",1,1,1,1,", ",2,2,2,2,"))   # recompute
    month = [r for r in _kpi_sums()["service_month"] if r[0] == "SR-2" and r[1] == "2026-03"][0]
    answer = kpis(service="SR-2", period_from="2026-03", period_to="2026-03", kpis="satisfaction_score")
    assert answer["results"][0]["kpis"]["satisfaction_score"]["value"] == 5
    assert month[3] == 1
