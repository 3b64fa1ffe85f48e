"""Serving at province scale (issue 13, item 5), on the real stack at test size:
the standardisation score read from the index (each implementation's match
worked out when it is indexed) equals the score counted from the database and
follows a service's and a basic item's changes; the comparison reads every
implementation's figures in one query, the same figures as one by one."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from ckan.tests import helpers

from ... import item_compare, statistics_publish
from ... import network as network_module
from ... import statistics_store as store
from .test_item_compare import CODE, catalogues, implementation
from .test_item_compare import linjiang_three, network  # noqa: F401  (their fixtures)
from .test_kpis import MARKET
from .test_statistics import load_csv

pytestmark = pytest.mark.usefixtures("clean_index")

def scores(department=None):
    return [(d["department"], d["score"], d["matching"], d["implementations"])
            for d in item_compare.standardisation(department)]


# ---------------------------------------------------------------- the standardisation score


def test_the_indexed_score_equals_the_score_counted_from_the_database(linjiang_three):
    assert item_compare.standardisation() == item_compare.counted_standardisation()
    assert scores() == [("city-market", 1.0, 1, 1), ("linjiang-market", 0.667, 2, 3),
                        ("dongcheng-market", 0.0, 0, 1)]


def test_one_departments_indexed_score_equals_its_counted_score(linjiang_three):
    assert item_compare.standardisation("linjiang-market") == \
        item_compare.counted_standardisation("linjiang-market")


def test_a_service_brought_to_the_standard_raises_its_departments_score_at_once(network):
    helpers.call_action("package_patch", context=dict(network["context"]), id="dongcheng-licence",
                        committed_limit=3)
    assert scores("dongcheng-market") == [("dongcheng-market", 1.0, 1, 1)]
    assert item_compare.standardisation() == item_compare.counted_standardisation()


def test_a_private_implementation_is_not_scored(network):
    helpers.call_action("package_patch", context=dict(network["context"]), id="dongcheng-licence",
                        private=True)
    assert [d for d, *_ in scores()] == ["city-market", "linjiang-market"]
    assert item_compare.standardisation() == item_compare.counted_standardisation()


def test_a_basic_items_looser_standard_reaches_its_implementations_through_the_reconcile(network):
    item = network_module.basic_item(CODE)["name"]
    helpers.call_action("package_patch", context=dict(network["context"]), id=item, standard_limit=10)
    assert item_compare.counted_standardisation("dongcheng-market")[0]["score"] == 1.0
    assert network_module.reconcile_index()["reindexed"] == 1        # dongcheng's only
    assert scores("dongcheng-market") == [("dongcheng-market", 1.0, 1, 1)]


def test_the_reconcile_leaves_services_whose_match_is_unchanged(network):
    assert network_module.reconcile_index() == {"services": 3, "reindexed": 0}


# ---------------------------------------------------------------- the comparison's figures


@pytest.fixture
def compared_with_figures(statistics_db, sysadmin, dept):
    """Two implementations of XK-0101 by the market regulation bureau, with a year's figures."""
    catalogues(sysadmin, helpers.call_action("organization_create", context=dict(sysadmin),
                                             name="province-office", title="省政务服务管理办公室"))
    implementation(sysadmin, dept, "sr-1", service_code="SR-1")
    implementation(sysadmin, dept, "sr-2", service_code="SR-2", committed_limit=10)
    load_csv(sysadmin, "market-regulation", MARKET)
    return dept


def summary_queries():
    """The statements on the statistics store that read service_summary, while the test runs."""
    seen: list[str] = []

    def before(conn, cursor, statement, *args):
        if "service_summary" in statement:
            seen.append(statement)
    event.listen(store.engine(), "before_cursor_execute", before)
    return seen, lambda: event.remove(store.engine(), "before_cursor_execute", before)


def test_the_comparison_reads_every_implementations_figures_in_one_query(compared_with_figures):
    seen, stop = summary_queries()
    try:
        helpers.call_action("govservice_item_compare", context={"user": ""}, basic_code=CODE)
    finally:
        stop()
    assert len(seen) == 1


def test_the_comparisons_figures_equal_each_services_own_summary(compared_with_figures):
    answer = helpers.call_action("govservice_item_compare", context={"user": ""}, basic_code=CODE)
    one_by_one = {}
    for impl in answer["implementations"]:
        own = statistics_publish.performance(helpers.call_action("package_show", id=impl["name"])) or {}
        one_by_one[impl["name"]] = {k: own[k] for k in ("period_from", "period_to", *item_compare.KPIS)
                                    if own.get(k) is not None}
    assert {i["name"]: i["kpis"] for i in answer["implementations"]} == one_by_one
    assert one_by_one["sr-1"]["period_to"] == "2026-01" and one_by_one["sr-1"]["volume"] > 0


# ---------------------------------------------------------------- the bulk files' services, paged by name


def test_the_services_are_paged_by_name_without_loss_or_repeat(monkeypatch, sysadmin, dept):
    from ... import catalogue_publish
    from .. import factories as gov
    for i in (3, 1, 5, 2, 4):
        gov.service(dept["id"], context=dict(sysadmin), name=f"paged-{i}", service_code=f"PG-{i}")
    gov.service(dept["id"], context=dict(sysadmin), name="paged-private", service_code="PG-P", private=True)
    monkeypatch.setattr(catalogue_publish, "PAGE_SIZE", 2)
    assert [s["name"] for s in catalogue_publish.iter_public_services(dict(sysadmin))] == [
        "paged-1", "paged-2", "paged-3", "paged-4", "paged-5"]


# ---------------------------------------------------------------- the batched index rebuild


def solr_documents(ids):
    """The site's Solr documents of these datasets, every stored field but the time of indexing."""
    import ckan.plugins.toolkit as tk
    from ckan.lib.search.common import make_connection
    found = make_connection().search(q="*:*", fq=[f'+site_id:"{tk.config["ckan.site_id"]}"',
                                                  " OR ".join(f'id:"{i}"' for i in ids)], fl="*", rows=len(ids) + 5)
    return {d["id"]: {k: v for k, v in d.items() if k not in ("_version_", "indexed_ts")} for d in found.docs}


def forget(ids):
    from ckan.lib.search.common import make_connection
    conn = make_connection()
    conn.delete(q=" OR ".join(f'id:"{i}"' for i in ids), commit=True)


def test_the_batched_rebuild_makes_the_documents_ckans_rebuild_makes(linjiang_three):
    from ckan.lib import search

    from ... import search_rebuild
    ids = search_rebuild.dataset_ids()
    search.rebuild(package_ids=ids)
    search.commit()
    by_ckan = solr_documents(ids)
    forget(ids)
    assert solr_documents(ids) == {}
    report = search_rebuild.rebuild(ids, batch=3)
    assert report["indexed"] == len(ids) and report["failed"] == []
    assert solr_documents(ids) == by_ckan
    assert len(by_ckan) == len(ids) > 10      # services, basic items, documents


def test_the_batched_rebuild_carries_each_services_match_with_its_standard(linjiang_three):
    from ... import search_rebuild
    ids = search_rebuild.dataset_ids("service")
    forget(ids)
    search_rebuild.rebuild(ids)
    assert item_compare.standardisation() == item_compare.counted_standardisation()
