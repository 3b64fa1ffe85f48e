"""The bulk write path (govharvest/bulk.py): a harvest that loads CKAN in its own
process and writes in batches keeps every behaviour of a create over HTTP —
the same dataset, activity and search document, every record noted once, a bad
record refused alone — and asks for the department's background work once."""
from __future__ import annotations

import json

import ckanapi
import pytest

from govharvest import bulk, db, pipeline, sources

HEADER = "事项编码,事项名称,事项类型,服务对象,法定办结时限,承诺办结时限,到办事现场次数\r\n"
# what differs between two saves of one dataset: its id and its times
VOLATILE = {"id", "metadata_created", "metadata_modified", "indexed_ts", "_version_", "package_id",
            "data_dict", "validated_data_dict", "index_id"}


class Killed(BaseException):
    """Stands in for the process being killed at that point."""


def row(i: int, committed_limit: int = 5) -> str:
    return f"SC-{i:04d},企业事项{i},administrative_licence,business,20,{committed_limit},1\r\n"


def write_feed(folder, rows) -> None:
    (folder / "services.csv").write_bytes((HEADER + "".join(rows)).encode("utf-8"))


@pytest.fixture
def local(portal, with_plugins):
    """CKAN in this process, its plugins loaded (the test site's database and
    search core), as its site user: the bulk path's own CKAN."""
    return ckanapi.LocalCKAN()


def harvest(ckan, source_name="csv-feed") -> dict:
    with db.connect() as conn:
        job_id = pipeline.start_job(conn, sources.get(conn, source_name))
    pipeline.run_job(db.connect, job_id, ckan)
    with db.connect() as conn:
        return pipeline.report(conn, job_id)


def codes_in_search(portal, department) -> list[str]:
    found = portal.action.package_search(fq=f"owner_org:{department['id']} AND dataset_type:service",
                                         rows=1000, sort="name asc")
    return [d["service_code"] for d in found["results"]]


def names_in_database(department) -> list[str]:
    """The department's active services in CKAN's database (search aside)."""
    from ckan import model
    rows = (model.Session.query(model.Package.name).filter_by(owner_org=department["id"], type="service",
                                                              state="active").all())
    model.Session.remove()
    return sorted(name for (name,) in rows)


def stripped(value):
    """A dict with its ids and times left out, at every depth."""
    if isinstance(value, dict):
        return {k: stripped(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stripped(v) for v in value]
    return value


def saved_as(local, name: str) -> dict:
    """What CKAN holds of one dataset: package_show, its activity, its search document."""
    from ckan.lib import search
    search.commit()
    shown = local.action.package_show(id=name)
    activity = local.action.package_activity_list(id=name, include_hidden_activity=True)
    document = search.show(name)
    return {"package_show": stripped(shown),
            "activity": [stripped({k: a[k] for k in ("activity_type", "user_id", "data")}) for a in activity],
            "solr": stripped(document),
            "solr_validated": stripped(json.loads(document["validated_data_dict"]))}


def a_service(department) -> dict:
    return {"type": "service", "owner_org": department["name"], "service_code": "BULK-1",
            "title": "企业设立登记", "title_en": "Company registration", "notes": "办理企业设立登记。",
            "service_type": "administrative_licence", "audience": "business", "themes": ["business"],
            "statutory_limit": 20, "committed_limit": 5, "in_person_visits": 1,
            "channels": [{"channel_type": "online", "url": "https://zwfw.example.gov.cn/s/1"}],
            "source": "csv-feed", "source_record_id": "BULK-1", "harvested_at": "2026-11-29T09:00:00+00:00",
            "content_hash": "abc"}


def test_a_service_loaded_in_bulk_is_saved_activity_and_index_alike_as_by_package_create(local, department):
    dataset = a_service(department)
    created = local.action.package_create(**dataset)
    by_create = saved_as(local, created["name"])
    local.action.dataset_purge(id=created["id"])

    target = bulk.target(local)
    [loaded] = target.upsert_many([(dict(dataset), None)])
    target.after_load()
    by_bulk = saved_as(local, loaded["name"])

    assert loaded["name"] == created["name"]
    assert by_bulk["package_show"] == by_create["package_show"]
    assert by_bulk["activity"] == by_create["activity"]
    assert by_bulk["solr"] == by_create["solr"]
    assert by_bulk["solr_validated"] == by_create["solr_validated"]


def test_a_service_updated_in_bulk_is_saved_activity_and_index_alike_as_by_package_update(local, department):
    dataset = a_service(department)
    changed = {**dataset, "notes": "办理企业设立登记，材料已精简。", "content_hash": "def"}
    created = local.action.package_create(**dataset)
    local.action.package_update(**{**changed, "id": created["name"]})
    by_update = saved_as(local, created["name"])
    local.action.dataset_purge(id=created["id"])

    target = bulk.target(local)
    [loaded] = target.upsert_many([(dict(dataset), None)])
    [updated] = target.upsert_many([(dict(changed), loaded["name"])])
    target.after_load()
    by_bulk = saved_as(local, loaded["name"])

    assert [a["activity_type"] for a in by_bulk["activity"]] == ["changed package", "new package"]
    assert by_bulk["package_show"] == by_update["package_show"]
    assert by_bulk["activity"] == by_update["activity"]
    assert by_bulk["solr"] == by_update["solr"]
    assert by_bulk["solr_validated"] == by_update["solr_validated"]


def test_a_bulk_batch_makes_each_written_services_dict_once_for_its_activity_and_its_index(
        local, department, monkeypatch):
    from ckan.lib.dictization import model_dictize
    real, dictized = model_dictize.package_dictize, []

    def counted(pkg, context, *args, **kwargs):
        dictized.append(pkg.name)
        return real(pkg, context, *args, **kwargs)
    monkeypatch.setattr(model_dictize, "package_dictize", counted)
    services = [{**a_service(department), "service_code": f"BULK-{i}", "source_record_id": f"BULK-{i}"}
                for i in range(3)]

    saved = bulk.target(local).upsert_many([(s, None) for s in services])

    assert sorted(dictized) == sorted(s["name"] for s in saved)


def statements_during(write) -> list[tuple[str, str]]:
    """(SQL statement, the call stack's files and functions) of each statement
    CKAN's database gets while ``write()`` runs."""
    import traceback
    import sqlalchemy as sa
    from ckan import model
    seen = []

    def listen(_conn, _cursor, statement, *_args):
        stack = " ".join(f"{f.filename}:{f.name}" for f in traceback.extract_stack())
        seen.append((" ".join(statement.split()), stack))
    sa.event.listen(model.meta.engine, "before_cursor_execute", listen)
    try:
        write()
    finally:
        sa.event.remove(model.meta.engine, "before_cursor_execute", listen)
    return seen


def test_a_bulk_batch_signs_its_user_in_once_so_ckans_authorisation_does_not_look_it_up_per_record(
        local, department, with_request_context):
    services = [{**a_service(department), "service_code": f"BULK-{i}", "source_record_id": f"BULK-{i}"}
                for i in range(3)]
    target = bulk.target(local)

    statements = statements_during(lambda: target.upsert_many([(s, None) for s in services]))

    user_lookups = [stack for sql, stack in statements if sql.startswith("SELECT") and 'FROM "user"' in sql]
    assert [s for s in user_lookups if "ckan/authz.py" in s or ":check_access" in s] == []
    assert len([s for s in user_lookups if "govharvest/bulk.py:_signed_in" in s]) == 1


def test_after_a_bulk_batch_the_request_context_is_anonymous_again_as_before_it(
        local, department, with_request_context):
    from ckan.common import current_user
    target = bulk.target(local)

    target.upsert_many([(a_service(department), None)])

    assert not current_user.is_authenticated


def test_a_bulk_batch_looks_its_departments_up_by_name_once_not_per_record(local, department):
    services = [{**a_service(department), "service_code": f"BULK-{i}", "source_record_id": f"BULK-{i}"}
                for i in range(3)]
    target = bulk.target(local)

    statements = statements_during(lambda: target.upsert_many([(s, None) for s in services]))

    by_name = [sql for sql, _stack in statements if sql.startswith("SELECT") and 'FROM "group"' in sql
               and ('"group".name =' in sql or '"group".name IN' in sql)]
    assert len(by_name) == 1 and '"group".name IN' in by_name[0]


def test_a_bulk_harvest_writes_as_the_owner_of_the_harvests_token_as_over_http(
        local, department, source, monkeypatch):
    from ckan import model
    from ckan.tests import factories, helpers
    publisher = factories.User()
    helpers.call_action("organization_member_create", id=department["id"], username=publisher["name"],
                        role="editor")
    token = helpers.call_action("api_token_create", context={"user": publisher["name"], "ignore_auth": True},
                                user=publisher["name"], name="harvest")["token"]
    monkeypatch.setenv("GOVHARVEST_CKAN_TOKEN", token)
    model.Session.remove()
    write_feed(source, [row(1)])

    report = harvest(bulk.harvest_ckan())

    assert report["counts"]["new"] == 1
    [name] = names_in_database(department)
    activity = ckanapi.LocalCKAN().action.package_activity_list(id=name)
    assert [(a["activity_type"], a["user_id"]) for a in activity] == [("new package", publisher["id"])]


def test_a_harvest_token_unknown_to_ckan_stops_the_bulk_path_naming_the_setting(local, monkeypatch):
    from govharvest import settings
    monkeypatch.setenv("GOVHARVEST_CKAN_TOKEN", "not-a-token-of-this-ckan")

    with pytest.raises(settings.NotConfigured, match="GOVHARVEST_CKAN_TOKEN"):
        bulk.harvest_ckan()


def test_while_a_batch_gathers_its_search_documents_another_thread_indexes_to_solr(with_plugins):
    import threading
    import pysolr
    from ckan.lib.search import index as search_index
    from ckanext.govservice import bulk_load
    elsewhere = []
    with bulk_load.gathered() as documents:
        here = search_index.make_connection()
        thread = threading.Thread(target=lambda: elsewhere.append(search_index.make_connection()))
        thread.start()
        thread.join()
        here.add(docs=[{"id": "gathered"}])

    assert documents == [{"id": "gathered"}]
    assert isinstance(elsewhere[0], pysolr.Solr)
    assert isinstance(search_index.make_connection(), pysolr.Solr)


def test_a_bulk_harvest_of_200_services_is_in_search_when_it_returns(local, portal, department, source,
                                                                    monkeypatch):
    monkeypatch.setenv("GOVHARVEST_LOAD_BATCH", "50")
    write_feed(source, [row(i) for i in range(200)])

    report = harvest(local)

    assert report["counts"]["new"] == 200
    assert codes_in_search(portal, department) == [f"SC-{i:04d}" for i in range(200)]


def test_a_bad_record_in_a_batch_is_refused_with_its_line_field_and_reason_and_the_rest_land(
        local, portal, department, source, monkeypatch):
    monkeypatch.setenv("GOVHARVEST_LOAD_BATCH", "10")
    write_feed(source, [row(i, committed_limit=30 if i == 6 else 5) for i in range(10)])

    report = harvest(local)

    assert report["counts"]["new"] == 9 and report["counts"]["rejected"] == 1
    assert report["rejected"][0]["record"] == "SC-0006"
    assert report["rejected"][0]["errors"]["committed_limit"][0].startswith(
        "line 8: the committed time limit (30 working days) is longer than the statutory limit")
    assert codes_in_search(portal, department) == [f"SC-{i:04d}" for i in range(10) if i != 6]


def test_a_harvest_killed_mid_batch_before_ckan_commits_resumes_without_losses_or_duplicates(
        local, department, source, monkeypatch):
    monkeypatch.setenv("GOVHARVEST_LOAD_BATCH", "10")
    write_feed(source, [row(i) for i in range(25)])
    real = bulk.BatchTarget._write
    writes = []

    def killed_on_the_fifteenth(self, dataset, known_name):
        writes.append(dataset["service_code"])
        if len(writes) == 15:       # the second batch, half written, not committed
            raise Killed()
        return real(self, dataset, known_name)
    monkeypatch.setattr(bulk.BatchTarget, "_write", killed_on_the_fifteenth)
    with pytest.raises(Killed):
        harvest(local)
    assert len(names_in_database(department)) == 10
    monkeypatch.setattr(bulk.BatchTarget, "_write", real)

    report = harvest(local)

    assert report["counts"]["new"] == 15
    assert len(names_in_database(department)) == 25
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) AS n, count(DISTINCT dataset_name) AS names FROM record")
        assert cur.fetchone() == {"n": 25, "names": 25}


def test_a_harvest_killed_after_ckan_committed_a_batch_but_before_noting_it_resumes_without_duplicates(
        local, department, source, monkeypatch):
    monkeypatch.setenv("GOVHARVEST_LOAD_BATCH", "10")
    write_feed(source, [row(i) for i in range(25)])
    real = db.save_published
    noted = []

    def killed_noting_the_second_batch(conn, *args, **kwargs):
        noted.append(args[1])
        if len(noted) == 11:        # CKAN has committed records 11-20; none of them noted
            raise Killed()
        return real(conn, *args, **kwargs)
    monkeypatch.setattr(db, "save_published", killed_noting_the_second_batch)
    with pytest.raises(Killed):
        harvest(local)
    assert len(names_in_database(department)) == 20
    monkeypatch.setattr(db, "save_published", real)

    report = harvest(local)

    assert report["counts"]["new"] == 15      # ten of them found by name and updated
    assert len(names_in_database(department)) == 25
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) AS n, count(DISTINCT dataset_name) AS names FROM record")
        assert cur.fetchone() == {"n": 25, "names": 25}


@pytest.mark.ckan_config("ckanext.govservice.catalogue.auto_rebuild", "true")
def test_a_bulk_load_asks_for_one_catalogue_rebuild_per_department_not_one_per_service(
        local, department, source, monkeypatch, ckan_config):
    from ckanext.govservice import catalogue_publish
    monkeypatch.setenv("GOVHARVEST_LOAD_BATCH", "10")
    write_feed(source, [row(i) for i in range(30)])
    asked = []
    monkeypatch.setattr(catalogue_publish, "enqueue_rebuild",
                        lambda d: asked.append(d) or {"job_id": "x", "queued": True})

    report = harvest(local)

    assert report["counts"]["new"] == 30
    assert asked == [department["id"]]


def test_an_unchanged_re_harvest_in_process_reads_and_compares_without_loading_ckan(local, department, source):
    write_feed(source, [row(i) for i in range(5)])
    harvest(local)
    with db.connect() as conn, conn.cursor() as cur:   # every record fetched, read, hashed, compared
        cur.execute("UPDATE source SET last_etag = NULL, last_modified = NULL")

    report = harvest(bulk.InProcess("/nonexistent/ckan.ini"))    # loading it would fail the job

    assert report["status"] == "done"
    assert report["counts"]["unchanged"] == 5 and report["counts"]["new"] == 0
