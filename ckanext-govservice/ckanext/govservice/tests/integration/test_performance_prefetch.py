"""The performance summaries read once for a batch of services (issue 13: the
index rebuild read each service's summary, standards and history in
``package_show``, a few queries per service): the same summaries, judged the
same way, so the index documents are unchanged, on the real stack with loaded
statistics and service standards (one of them missed three months in a row)."""
from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event

from ckan.tests import helpers

from ... import search_rebuild, statistics_publish
from ... import statistics_store as store
from .test_province_serving import forget, solr_documents
from .test_service_standards import figures  # noqa: F401  (its fixture)

pytestmark = pytest.mark.usefixtures("clean_index")

SERVICES = [("market-regulation", "SR-1"), ("market-regulation", "SR-2"), ("tax-bureau", "TX-1")]


@contextlib.contextmanager
def statements_on_the_store():
    """The SQL statements run on the statistics store inside the block."""
    seen: list[str] = []

    def before(conn, cursor, statement, *args):
        seen.append(statement)
    event.listen(store.engine(), "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(store.engine(), "before_cursor_execute", before)


def test_the_prefetched_summaries_equal_each_services_own(figures):
    one_by_one = {(d, c): statistics_publish.performance({"service_code": c, "organization": {"name": d}})
                  for d, c in SERVICES}
    assert statistics_publish.performances(SERVICES) == one_by_one
    assert one_by_one[("market-regulation", "SR-1")]["standards"]["on_time_rate"]["missed_in_a_row"] == 3


def test_package_show_inside_the_prefetch_equals_package_show_outside(figures):
    outside = helpers.call_action("package_show", id="sr-1")
    with statistics_publish.performance_prefetched(SERVICES):
        inside = helpers.call_action("package_show", id="sr-1")
    assert inside["performance"] == outside["performance"]
    assert inside["performance"]["standards"]["on_time_rate"]["flagged"] is True


def test_a_service_outside_the_prefetch_is_read_on_its_own(figures):
    with statistics_publish.performance_prefetched([("market-regulation", "SR-2")]):
        with statements_on_the_store() as seen:
            figures_of_sr1 = helpers.call_action("package_show", id="sr-1")["performance"]
    assert any("service_summary" in s for s in seen)
    assert figures_of_sr1["period_to"] == "2026-04"


def test_the_rebuild_reads_a_batchs_summaries_in_one_query(figures):
    ids = search_rebuild.dataset_ids("service")
    with statements_on_the_store() as seen:
        search_rebuild.documents(ids)
    assert len([s for s in seen if "service_summary" in s]) == 1
    assert len(ids) == 3


def test_the_rebuild_with_the_prefetch_makes_the_documents_ckans_rebuild_makes(figures):
    from ckan.lib import search
    ids = search_rebuild.dataset_ids("service")
    search.rebuild(package_ids=ids)
    search.commit()
    by_ckan = solr_documents(ids)
    forget(ids)
    report = search_rebuild.rebuild(ids)
    assert report["indexed"] == 3 and report["failed"] == []
    assert solr_documents(ids) == by_ckan
    assert '"missed_in_a_row": 3' in by_ckan[helpers.call_action("package_show", id="sr-1")["id"]][
        "validated_data_dict"]


def test_a_batch_read_that_fails_is_logged_as_a_warning_and_each_service_read_on_its_own(
        figures, caplog, monkeypatch):
    monkeypatch.setattr(statistics_publish.log, "disabled", False)   # CKAN's logging config disables it
    # A NUL byte in a department's name: the driver refuses the batch's query itself.
    with caplog.at_level("WARNING", logger="ckanext.govservice.statistics_publish"):
        with statistics_publish.performance_prefetched([("market\x00regulation", "SR-1")] + SERVICES):
            figures_of_sr1 = helpers.call_action("package_show", id="sr-1")["performance"]
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1
    assert "batch of 4 services could not be read at once" in warned[0]
    assert figures_of_sr1["period_to"] == "2026-04"
