"""One network across levels (issue 16) on the real stack: services as
implementations of basic items, their documents against the document
catalogue, the `network` key, the index fields, and the migration command."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.tests import helpers

from ckanext.govservice import network

from .. import factories as gov

pytestmark = pytest.mark.usefixtures("clean_index")

CODE = "XK-0001"


@pytest.fixture
def province(sysadmin):
    """The province's government service office: publishes both catalogues."""
    return gov.department(name="province-office", title="省政务服务管理办公室",
                          title_en="Province Government Service Office", level="province",
                          area="浙东省", area_code="330000")


@pytest.fixture
def city(sysadmin):
    return gov.department(name="city-market", level="city", area="滨江市", area_code="330100")


@pytest.fixture
def district(sysadmin):
    return gov.department(name="linjiang-market", title="临江区市场监督管理局",
                          title_en="Linjiang Market Regulation Bureau", level="district",
                          area="临江区", area_code="330102")


def basic_item(context, publisher, code=CODE, **overrides):
    return helpers.call_action("package_create", context=dict(context), **{
        "type": "basic_item", "owner_org": publisher["id"], "basic_code": code,
        "title": "企业营业执照核发", "service_type": "administrative_licence",
        "statutory_limit": 15, "statutory_limit_unit": "working_days", **overrides})


def document(context, publisher, code, title, **overrides):
    return helpers.call_action("package_create", context=dict(context), **{
        "type": "document", "owner_org": publisher["id"], "document_code": code,
        "title": title, **overrides})


def service(context, dept, **overrides):
    return gov.service(dept["id"], context=dict(context), **overrides)


def refused(context, dept, **overrides) -> dict:
    with pytest.raises(tk.ValidationError) as e:
        service(context, dept, **overrides)
    return e.value.error_dict


def show(name):
    return helpers.call_action("package_show", id=name)


def found(fq: str) -> list[str]:
    result = helpers.call_action("package_search", fq=f"dataset_type:service AND {fq}", rows=100)
    return sorted(d["name"] for d in result["results"])


def indexed(name: str) -> dict:
    """The service's Solr document, as stored (the network's fields included)."""
    from ckan.lib.search.query import PackageSearchQuery
    return PackageSearchQuery().run({"q": f'name:"{name}"', "fl": "*", "rows": 1,
                                     "fq": "+dataset_type:service"})["results"][0]


@pytest.fixture(autouse=True)
def reindex_inline(monkeypatch):
    """The job queue, run here: the jobs queued during an action run when the
    test says (as the worker would, after the commit); none reaches Redis.
    Returns the function that runs them."""
    import types
    queued = []

    def enqueue(fn, args=None, **kwargs):
        queued.append((fn, args or []))
        return types.SimpleNamespace(id=f"test-{len(queued)}")
    monkeypatch.setattr(tk, "enqueue_job", enqueue)
    from ckanext.govservice import publishing
    monkeypatch.setattr(publishing, "job_status", lambda job_id: None)   # no job of Redis's waits

    def run_jobs():
        while queued:
            fn, args = queued.pop(0)
            fn(*args)
    return run_jobs


# ---------------------------------------------------------------- basic items


def test_two_departments_implement_the_same_basic_code(sysadmin, province, city, district):
    basic_item(sysadmin, province)
    a = service(sysadmin, city, basic_code=CODE, implementation_code="330100-XK-0001")
    b = service(sysadmin, district, basic_code=CODE, implementation_code="330102-XK-0001")
    assert found(f'basic_code_ss:"{CODE}"') == sorted([a["name"], b["name"]])


def test_an_implementation_is_found_by_its_departments_level_and_area(sysadmin, province, city, district):
    basic_item(sysadmin, province)
    service(sysadmin, city, basic_code=CODE)
    b = service(sysadmin, district, basic_code=CODE)
    assert (found("level_ss:district"), found('area_ss:"临江区"'), found("area_code_ss:330102")) == (
        [b["name"]], [b["name"]], [b["name"]])


def test_the_network_key_shows_the_basic_item_implemented(sysadmin, province, city):
    basic_item(sysadmin, province, standard_limit=5, standard_visits=1,
               standard_documents=[{"code": "D-ID", "name": "居民身份证"}])
    s = service(sysadmin, city, basic_code=CODE)
    assert show(s["name"])["network"]["basic_item"] == {
        "basic_code": CODE, "name": "item-xk-0001", "title": "企业营业执照核发", "title_en": None,
        "status": "active", "service_type": "administrative_licence",
        "statutory_limit": 15, "statutory_limit_unit": "working_days",
        "standard_limit": 5, "standard_limit_unit": "working_days", "standard_visits": 1,
        "standard_documents": [{"code": "D-ID", "name": "居民身份证", "mandatory": True}]}


def test_a_basic_item_without_limits_shows_no_units(sysadmin, province, city):
    basic_item(sysadmin, province, statutory_limit=None)
    s = service(sysadmin, city, basic_code=CODE)
    item = show(s["name"])["network"]["basic_item"]
    assert (item["statutory_limit"], item["statutory_limit_unit"], item["standard_limit"],
            item["standard_limit_unit"]) == (None, None, None, None)


def test_an_unknown_basic_code_is_refused_with_its_reason(sysadmin, city):
    errors = refused(sysadmin, city, basic_code="XK-9999")
    assert errors["basic_code"] == [
        "basic code XK-9999 is not in the basic item catalogue (基本目录); ask the catalogue's "
        "publisher to add it, or correct the code"]


def test_a_statutory_limit_contradicting_the_basic_item_is_refused(sysadmin, province, city):
    basic_item(sysadmin, province)
    errors = refused(sysadmin, city, basic_code=CODE, statutory_limit=20)
    assert errors["statutory_limit"] == [
        f"the statutory time limit (20 working days) contradicts the basic item {CODE}'s "
        "(15 working days); the law sets one limit for every implementation: give the item's, or none"]


def test_the_same_statutory_limit_in_another_unit_is_accepted(sysadmin, province, city):
    basic_item(sysadmin, province)          # 15 working days: 21 calendar days
    s = service(sysadmin, city, basic_code=CODE, statutory_limit=21, statutory_limit_unit="calendar_days")
    assert (show(s["name"])["statutory_limit"], show(s["name"])["statutory_limit_unit"]) == (21, "calendar_days")


def test_a_service_without_a_statutory_limit_inherits_the_basic_items(sysadmin, province, city):
    basic_item(sysadmin, province, statutory_limit=20, statutory_limit_unit="calendar_days")
    s = service(sysadmin, city, basic_code=CODE, statutory_limit=None, statutory_limit_unit=None)
    shown = show(s["name"])
    assert (shown["statutory_limit"], shown["statutory_limit_unit"]) == (20, "calendar_days")


def test_an_implementation_code_used_twice_is_refused_naming_the_other(sysadmin, province, city, district):
    first = service(sysadmin, city, implementation_code="330100-XK-0001")
    errors = refused(sysadmin, district, implementation_code="330100-XK-0001")
    assert errors["implementation_code"] == [
        f"implementation code 330100-XK-0001 is already used by 企业营业执照核发 ({first['name']}) "
        "of 滨江市市场监督管理局; an implementation code is unique on the whole platform"]


def test_the_first_holder_of_an_implementation_code_stays_unchanged(sysadmin, city, district):
    first = service(sysadmin, city, implementation_code="330100-XK-0001")
    refused(sysadmin, district, implementation_code="330100-XK-0001", title="另一个事项")
    shown = show(first["name"])
    assert (shown["implementation_code"], shown["title"], shown["metadata_modified"]) == (
        "330100-XK-0001", "企业营业执照核发", first["metadata_modified"])


def test_saving_an_implementation_code_waits_for_another_save_of_the_same_code(sysadmin, city):
    """Two harvest workers landing the same code take turns (the advisory lock):
    while another transaction holds the code, a save of it waits."""
    import threading
    import time
    other = model.meta.engine.connect()
    other_tx = other.begin()
    other.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('implementation_code:330100-XK-0001'))"))
    saved = []

    def save():
        try:
            saved.append(service(sysadmin, city, implementation_code="330100-XK-0001")["name"])
        finally:
            model.Session.remove()
    worker = threading.Thread(target=save)
    worker.start()
    time.sleep(2)
    waited = worker.is_alive()
    other_tx.commit()
    other.close()
    worker.join(60)
    assert (waited, len(saved)) == (True, 1)


def test_a_service_keeps_its_own_implementation_code_when_updated(sysadmin, city):
    first = service(sysadmin, city, implementation_code="330100-XK-0001")
    helpers.call_action("package_patch", context=dict(sysadmin), id=first["name"], title_en="Licence")
    assert show(first["name"])["implementation_code"] == "330100-XK-0001"


def test_a_withdrawn_basic_item_flags_its_implementation(sysadmin, province, city, reindex_inline):
    item = basic_item(sysadmin, province)
    s = service(sysadmin, city, basic_code=CODE)
    helpers.call_action("package_patch", context=dict(sysadmin), id=item["id"], status="withdrawn")
    assert [f for f in show(s["name"])["network"]["flags"] if f["field"] == "basic_code"] == [{
        "flag": "basic_item_withdrawn", "field": "basic_code",
        "reason": f"the basic item {CODE} was withdrawn; this implementation is flagged for review"}]


def test_withdrawing_a_basic_item_reindexes_its_implementations(sysadmin, province, city, reindex_inline):
    item = basic_item(sysadmin, province)
    s = service(sysadmin, city, basic_code=CODE)
    assert found("network_flags_ss:basic_item_withdrawn") == []
    helpers.call_action("package_patch", context=dict(sysadmin), id=item["id"], status="withdrawn")
    reindex_inline()
    assert found("network_flags_ss:basic_item_withdrawn") == [s["name"]]


def test_without_a_job_queue_the_implementations_are_reindexed_beside_the_request(
        sysadmin, province, city, monkeypatch):
    item = basic_item(sysadmin, province)
    s = service(sysadmin, city, basic_code=CODE)
    threads, beside = [], network._reindex_beside
    monkeypatch.setattr(network, "_reindex_beside", lambda code: threads.append(beside(code)))

    def redis_down(*args, **kwargs):
        raise ConnectionError("Redis is down")
    monkeypatch.setattr(tk, "enqueue_job", redis_down)
    helpers.call_action("package_patch", context=dict(sysadmin), id=item["id"], status="withdrawn")
    for thread in threads:
        thread.join(60)
    assert (len(threads), found("network_flags_ss:basic_item_withdrawn")) == (1, [s["name"]])


def test_a_withdrawn_basic_item_leaves_its_implementation_published_as_it_was(sysadmin, province, city, reindex_inline):
    item = basic_item(sysadmin, province)
    s = service(sysadmin, city, basic_code=CODE)
    helpers.call_action("package_patch", context=dict(sysadmin), id=item["id"], status="withdrawn")
    shown = show(s["name"])
    assert (shown["state"], shown["basic_code"], shown["metadata_modified"]) == (
        "active", CODE, s["metadata_modified"])


def test_a_new_service_may_implement_a_withdrawn_basic_item_and_is_flagged(sysadmin, province, city):
    basic_item(sysadmin, province, status="withdrawn")
    s = service(sysadmin, city, basic_code=CODE)
    assert "basic_item_withdrawn" in [f["flag"] for f in show(s["name"])["network"]["flags"]]


def test_deleting_a_basic_item_with_implementations_is_refused(sysadmin, province, city, district):
    item = basic_item(sysadmin, province)
    service(sysadmin, city, basic_code=CODE)
    service(sysadmin, district, basic_code=CODE)
    with pytest.raises(tk.ValidationError) as e:
        helpers.call_action("package_delete", context=dict(sysadmin), id=item["id"])
    assert e.value.error_dict["basic_code"] == [
        f"basic item {CODE} (企业营业执照核发) cannot be deleted: 2 live services implement it; "
        "withdraw it instead (status: withdrawn)"]
    assert show(item["name"])["state"] == "active"


def test_a_basic_item_with_implementations_keeps_its_code(sysadmin, province, city):
    item = basic_item(sysadmin, province)
    service(sysadmin, city, basic_code=CODE)
    with pytest.raises(tk.ValidationError) as e:
        helpers.call_action("package_patch", context=dict(sysadmin), id=item["id"], basic_code="XK-0009")
    assert e.value.error_dict["basic_code"] == [
        f"basic item {CODE} cannot take the code XK-0009: 1 live service implements it by its code; "
        "publish the new item and withdraw this one (status: withdrawn)"]


def test_a_basic_item_nobody_implements_may_be_deleted(sysadmin, province):
    item = basic_item(sysadmin, province)
    helpers.call_action("package_delete", context=dict(sysadmin), id=item["id"])
    assert model.Package.get(item["id"]).state == "deleted"


# ---------------------------------------------------------------- documents


@pytest.fixture
def catalogue(sysadmin, province):
    """Three documents: the ID card is an electronic licence (免提交), the other two must be brought."""
    document(sysadmin, province, "D-ID", "居民身份证", aliases=["身份证", "二代身份证"],
             government_holds="electronic_licence")
    document(sysadmin, province, "D-ART", "公司章程")
    document(sysadmin, province, "D-LEASE", "房屋租赁合同", aliases="租房合同")


def test_a_document_code_not_in_the_catalogue_is_refused(sysadmin, city, catalogue):
    errors = refused(sysadmin, city, documents=[
        {"code": "D-ART", "name": "公司章程"}, {"code": "D-NONE", "name": "经营场所证明"}])
    assert errors["documents"][1] == {"code": [
        "document code D-NONE is not in the document catalogue (材料目录); correct the code, "
        "or leave it empty to match the document by its name"]}


def test_documents_are_matched_by_alias_and_an_unknown_one_is_left_unmatched(sysadmin, city, catalogue):
    s = service(sysadmin, city, documents=[{"name": "身份证（复印件）"}, {"name": "健康证明"}])
    assert show(s["name"])["network"]["documents"] == [
        {"index": 0, "code": "D-ID", "matched_by": "alias", "title": "居民身份证",
         "government_holds": "electronic_licence", "must_bring": False},
        {"index": 1, "code": None, "matched_by": None, "title": None,
         "government_holds": None, "must_bring": True}]


def test_a_service_with_an_unmatched_document_is_flagged_in_the_index(sysadmin, city, catalogue):
    s = service(sysadmin, city, documents=[{"name": "身份证"}, {"name": "健康证明"}])
    doc = indexed(s["name"])
    assert (doc["document_codes_ss"], doc["network_flags_ss"]) == (["D-ID"], ["documents_unmatched"])


def test_documents_the_government_holds_are_not_counted_as_to_bring(sysadmin, city, catalogue):
    s = service(sysadmin, city, documents=[
        {"code": "D-ID", "name": "居民身份证"}, {"name": "公司章程"}, {"name": "租房合同"},
        {"name": "健康证明"}, {"name": "委托书", "mandatory": "false"}])
    network_key, doc = show(s["name"])["network"], indexed(s["name"])
    assert (network_key["documents_demanded"], network_key["documents_to_bring"],
            doc["documents_demanded_i"], doc["documents_to_bring_i"]) == (4, 3, 4, 3)


def test_a_document_added_to_the_catalogue_is_matched_at_once(sysadmin, province, city, catalogue):
    s = service(sysadmin, city, documents=[{"name": "健康证明"}])
    assert show(s["name"])["network"]["documents"][0]["matched_by"] is None
    document(sysadmin, province, "D-HEALTH", "健康证明")
    assert show(s["name"])["network"]["documents"][0]["code"] == "D-HEALTH"


def test_services_listing_a_document_by_name_are_reindexed_when_it_joins_the_catalogue(
        sysadmin, province, city, catalogue, reindex_inline):
    s = service(sysadmin, city, documents=[{"name": "健康证明（原件）"}, {"name": "身份证"}])
    service(sysadmin, city, documents=[{"name": "公司章程"}])      # matched before and after
    document(sysadmin, province, "D-HEALTH", "健康证明", government_holds="shared_data")
    reindex_inline()
    assert (found('document_codes_ss:"D-HEALTH"'), indexed(s["name"])["documents_to_bring_i"],
            found("network_flags_ss:documents_unmatched")) == ([s["name"]], 0, [])


def test_a_department_moved_to_another_area_has_its_services_reindexed(sysadmin, district, reindex_inline):
    s = service(sysadmin, district)
    helpers.call_action("organization_patch", context=dict(sysadmin), id=district["id"],
                        area="临江新区", area_code="330109")
    reindex_inline()
    assert (found('area_ss:"临江新区"'), found("area_code_ss:330109"), found('area_ss:"临江区"')) == (
        [s["name"]], [s["name"]], [])


def test_the_reconcile_leaves_services_whose_documents_match_as_before(sysadmin, city, catalogue):
    service(sysadmin, city, documents=[{"name": "身份证"}])
    assert network.reconcile_index() == {"services": 1, "reindexed": 0}


def test_unmatched_documents_are_reported_with_their_services(sysadmin, city, district, catalogue):
    a = service(sysadmin, city, documents=[{"name": "健康证明"}, {"name": "身份证"}])
    b = service(sysadmin, district, documents=[{"name": "健康证明（原件）"}])
    assert [(r["name"], r["count"], sorted(s["name"] for s in r["services"]))
            for r in network.unmatched_documents()] == [("健康证明", 2, sorted([a["name"], b["name"]]))]


# ---------------------------------------------------------------- the migration command


def _with_local_code(service_dict: dict, code: str) -> None:
    """The service as published before issue 16: its code in the old extra local_code."""
    pkg = model.Package.get(service_dict["id"])
    pkg.extras = {**pkg.extras, "local_code": code}
    model.repo.commit()


def migrate(*args: str):
    from click.testing import CliRunner
    from ckanext.govservice.cli import govservice
    printed = CliRunner().invoke(govservice, ["network-migrate", *args])
    assert printed.exit_code == 0, printed.output
    return printed.output, json.loads(printed.output[printed.output.index("{"):])


def test_the_migration_moves_local_code_to_implementation_code(sysadmin, city):
    s = service(sysadmin, city)
    _with_local_code(s, "330100-OLD-7")
    migrate()
    shown = show(s["name"])
    assert (shown["implementation_code"], "local_code" in model.Package.get(s["id"]).extras) == (
        "330100-OLD-7", False)


def test_the_migration_links_a_service_to_the_basic_item_with_its_exact_title(sysadmin, province, city):
    basic_item(sysadmin, province)
    basic_item(sysadmin, province, code="XK-0002", title="食品经营许可")
    basic_item(sysadmin, province, code="XK-0003", title="食品经营许可")
    linked = service(sysadmin, city)
    service(sysadmin, city, title="食品经营许可")
    service(sysadmin, city, title="户外广告设置许可")
    _, report = migrate()
    assert (show(linked["name"])["basic_code"], report["linked"], report["ambiguous"],
            report["unlinked"]) == (CODE, 1, 1, 1)


def test_the_migration_run_again_changes_nothing(sysadmin, province, city):
    basic_item(sysadmin, province)
    s = service(sysadmin, city)
    _with_local_code(s, "330100-OLD-7")
    migrate()
    modified = show(s["name"])["metadata_modified"]
    _, report = migrate()
    assert (report["linked"], report["implementation_codes_moved"], report["already_linked"],
            show(s["name"])["metadata_modified"]) == (0, 0, 1, modified)


def test_the_migration_dry_run_says_what_it_would_do_and_does_nothing(sysadmin, city):
    s = service(sysadmin, city)
    _with_local_code(s, "330100-OLD-7")
    printed, report = migrate("--dry-run")
    assert (f"{s['name']}: would set implementation_code = 330100-OLD-7" in printed,
            report["implementation_codes_moved"], show(s["name"]).get("implementation_code")) == (True, 1, None)
