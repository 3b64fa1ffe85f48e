"""The bulk catalogue files on the real stack: built from package_search, stored as
uploads, read back with pandas and compared with package_show; rebuilt by the
real job worker when a service changes."""
import csv
import io
import json
import threading
import time

import openpyxl
import pandas as pd
import pytest
import rq.suspension

import ckan.plugins.toolkit as tk
from ckan.lib import jobs
from ckan.lib.redis import connect_to_redis
from ckan.lib.uploader import get_resource_uploader
from ckan.tests import factories, helpers

from ckanext.govservice import catalogue_publish
from ckanext.govservice.core import tabular as catalogue

from .. import factories as gov, openpyxl_reference, samples
from ..background import wait_for_job


@pytest.fixture
def market(dept):
    return dept


@pytest.fixture
def transport(sysadmin):
    return gov.department(name="transport", title="滨江市交通运输局", title_en="Binjiang Transport Bureau")


@pytest.fixture
def quiet(monkeypatch):
    """No automatic rebuilds: the test builds the files itself."""
    monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", False)


@pytest.fixture
def every_field(market, transport, sysadmin):
    """The sample services (every field, every vocabulary value; one with only
    its required fields) and a transport service whose texts look like formulas
    and markup: the department whose build also rebuilds the platform's files."""
    for entry in samples.catalogue(market["id"]):   # the basic item and documents the samples name
        helpers.call_action("package_create", context=dict(sysadmin), **entry)
    for i in range(samples.count()):
        helpers.call_action("package_create", context=dict(sysadmin), **samples.sent(i, market["id"]))
    helpers.call_action("package_create", context=dict(sysadmin), **samples.minimal(99, market["id"]))
    create(transport, sysadmin, name="transport-a", title="=1+1 & <b>", title_en="  -minus, \"quoted\"\r\nline  ")
    return market


def create(dept, sysadmin, **overrides):
    return gov.service(dept["id"], context=dict(sysadmin), **overrides)


def catalogue_files(dataset_name: str) -> dict:
    """{kind: path on disk} of a catalogue dataset's uploaded files."""
    dataset = helpers.call_action("package_show", id=dataset_name)
    out = {}
    for res in dataset["resources"]:
        assert res["url_type"] == "upload"
        out[res[catalogue_publish.FILE_KEY]] = get_resource_uploader(res).get_path(res["id"])
    return out


def read_csv(path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def csv_text(value) -> str:
    """What a package_show value looks like in a CSV cell, independently of catalogue.py."""
    if value in (None, "", []):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and isinstance(value[0], dict):
        return value  # compared as parsed JSON below
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


def assert_row_matches(row: dict, shown: dict):
    for f in catalogue.catalogue_fields():
        column, value = f["govservice_column"], shown.get(f["field_name"])
        cell = row[column]
        if f["field_name"] == "owner_org":
            assert cell == shown["organization"]["name"], column
        elif f.get("repeating_subfields"):
            assert (json.loads(cell) if cell else []) == (value or []), column
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            assert float(cell) == value, column
        else:
            assert cell == csv_text(value), column


@pytest.mark.usefixtures("clean_index", "quiet")
class TestBuild:
    def test_the_csv_matches_package_show_field_by_field(self, market, transport, sysadmin):
        services = [create(market, sysadmin, name="market-a"),
                    create(market, sysadmin, name="market-b", fees=[{"name": "工本费", "amount": "10"}],
                           themes=["business", "tax"], statutory_limit=20),
                    create(transport, sysadmin, name="transport-a", title="道路运输经营许可")]
        catalogue_publish.build(market["name"])
        path = catalogue_files("service-catalogue")["csv"]
        with open(path, "rb") as f:
            assert f.read(3) == b"\xef\xbb\xbf"
        df = read_csv(path)
        assert list(df.columns) == catalogue.columns()
        rows = {r["name"]: r for r in df.to_dict("records")}
        assert sorted(rows) == ["market-a", "market-b", "transport-a"]
        for s in services:
            assert_row_matches(rows[s["name"]], helpers.call_action("package_show", id=s["id"]))

    def test_the_xlsx_matches_package_show_and_keeps_numbers(self, market, sysadmin):
        s = create(market, sysadmin, name="market-a", fees=[{"name": "工本费", "amount": "10"}])
        catalogue_publish.build(market["name"])
        df = pd.read_excel(catalogue_files("service-catalogue")["xlsx"], sheet_name="services")
        row = df.iloc[0]
        shown = helpers.call_action("package_show", id=s["id"])
        assert row["title_zh"] == shown["title"] and row["title_en"] == shown["title_en"]
        assert row["department"] == "market-regulation"
        assert row["committed_limit"] == shown["committed_limit"] == 3
        assert row["committed_days"] == pytest.approx(shown["committed_days"])
        assert row["in_person_visits"] == shown["in_person_visits"]
        assert bool(row["is_free"]) is shown["is_free"] is False
        assert json.loads(row["fees"]) == shown["fees"]
        assert row["life_events"] == ";".join(shown["life_events"])

    def test_the_platform_xlsx_holds_what_the_openpyxl_writer_held_cell_for_cell(
            self, every_field, sysadmin, tmp_path):
        catalogue_publish.build(every_field["name"])
        services = catalogue_publish.public_services(dict(sysadmin))
        openpyxl_reference.write([catalogue.service_row(s) for s in services], tmp_path / "openpyxl.xlsx")
        ours = catalogue_files("service-catalogue")["xlsx"]
        assert openpyxl_reference.cells(ours, "services") == openpyxl_reference.cells(
            tmp_path / "openpyxl.xlsx", "services")

    def test_the_platform_csv_is_byte_for_byte_what_the_csv_module_writes(self, every_field, sysadmin):
        catalogue_publish.build(every_field["name"])
        services = catalogue_publish.public_services(dict(sysadmin))
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(catalogue.columns())
        for s in services:
            writer.writerow([catalogue._csv_text(catalogue.service_row(s).get(c)) for c in catalogue.columns()])
        with open(catalogue_files("service-catalogue")["csv"], "rb") as f:
            assert f.read() == ("\ufeff" + out.getvalue()).encode("utf-8")

    def test_files_larger_than_the_sites_upload_limit_are_still_stored(self, market, sysadmin, monkeypatch):
        # at 100,380 services the platform's CSV is 251 MB and its JSON 322 MB; the stack allows 100 MB uploads
        monkeypatch.setitem(tk.config, "ckan.max_resource_size", 0)
        create(market, sysadmin, name="market-a")
        catalogue_publish.build(market["name"])
        assert read_csv(catalogue_files("service-catalogue")["csv"])["name"].tolist() == ["market-a"]

    def test_the_sites_upload_limit_is_back_once_the_files_are_stored(self, market, sysadmin, monkeypatch):
        monkeypatch.setitem(tk.config, "ckan.max_resource_size", 0)
        create(market, sysadmin, name="market-a")
        catalogue_publish.build(market["name"])
        assert tk.config["ckan.max_resource_size"] == 0

    def test_the_json_has_metadata_and_nested_lists(self, market, sysadmin):
        s = create(market, sysadmin, name="market-a")
        catalogue_publish.build(market["name"])
        with open(catalogue_files("market-regulation-service-catalogue")["json"], encoding="utf-8") as f:
            doc = json.load(f)
        shown = helpers.call_action("package_show", id=s["id"])
        assert doc["count"] == 1 and doc["scope"] == {"department": "market-regulation"}
        assert doc["generated_at"]
        assert {"name": "title_zh", "field_name": "title",
                "label": {"zh_Hans_CN": "事项名称", "en": "Service name (Chinese)"}} in doc["columns"]
        record = doc["services"][0]
        assert record["documents"] == shown["documents"]
        assert record["channels"] == shown["channels"]
        assert record["themes"] == shown["themes"]
        assert record["department"] == "market-regulation"

    def test_formula_like_text_is_neutralised_in_csv_and_xlsx(self, market, sysadmin):
        create(market, sysadmin, name="market-a", title='=HYPERLINK("http://evil.example","点击")',
               title_en="+1", notes="@SUM(A1:A9)", eligibility="-12", output_name="-5")
        catalogue_publish.build(market["name"])
        files = catalogue_files("market-regulation-service-catalogue")
        row = read_csv(files["csv"]).iloc[0]
        with open(files["xlsx"], "rb") as f:  # stored without an extension
            ws = openpyxl.load_workbook(f)["services"]
        header = [c.value for c in ws[1]]
        cells = dict(zip(header, ws[2]))
        expected = {"title_zh": '\'=HYPERLINK("http://evil.example","点击")', "title_en": "'+1",
                    "description_zh": "'@SUM(A1:A9)", "eligibility_zh": "'-12", "output_name": "'-5"}
        for column, text in expected.items():
            assert row[column] == text, column
            assert cells[column].value == text and cells[column].data_type == "s", column
        # real numbers are not text and not quoted
        assert cells["committed_limit"].value == 3 and cells["committed_limit"].data_type == "n"

    def test_a_department_file_holds_only_that_departments_services(self, market, transport, sysadmin):
        create(market, sysadmin, name="market-a")
        create(transport, sysadmin, name="transport-a", title="道路运输经营许可")
        catalogue_publish.build(transport["name"])
        df = read_csv(catalogue_files("transport-service-catalogue")["csv"])
        assert list(df["name"]) == ["transport-a"]
        assert set(df["department"]) == {"transport"}
        dataset = helpers.call_action("package_show", id="transport-service-catalogue")
        assert dataset["owner_org"] == transport["id"]
        platform = helpers.call_action("package_show", id="service-catalogue")
        assert platform["organization"]["name"] == "govservice-platform"
        assert platform["title"] == "政务服务事项目录 / Service catalogue"

    def test_private_services_are_left_out_and_withdrawn_ones_stay_with_their_status(
            self, market, sysadmin):
        create(market, sysadmin, name="market-public")
        create(market, sysadmin, name="market-private", private=True)
        create(market, sysadmin, name="market-withdrawn", status="withdrawn")
        deleted = create(market, sysadmin, name="market-deleted")
        helpers.call_action("package_delete", context=dict(sysadmin), id=deleted["id"])
        catalogue_publish.build(market["name"])
        df = read_csv(catalogue_files("market-regulation-service-catalogue")["csv"])
        assert dict(zip(df["name"], df["status"])) == {"market-public": "active",
                                                       "market-withdrawn": "withdrawn"}

    def test_rebuilding_replaces_the_files_without_adding_resources(self, market, sysadmin):
        s = create(market, sysadmin, name="market-a")
        catalogue_publish.build(market["name"])
        before = helpers.call_action("package_show", id="market-regulation-service-catalogue")
        helpers.call_action("package_patch", context=dict(sysadmin), id=s["id"], title="新的名称")
        catalogue_publish.build(market["name"])
        after = helpers.call_action("package_show", id="market-regulation-service-catalogue")
        assert [r["id"] for r in after["resources"]] == [r["id"] for r in before["resources"]]
        assert [r["name"] for r in after["resources"]] == [
            "market-regulation-service-catalogue.csv", "market-regulation-service-catalogue.json",
            "market-regulation-service-catalogue.xlsx"]
        assert [r["format"] for r in after["resources"]] == ["CSV", "JSON", "XLSX"]
        assert read_csv(catalogue_files("market-regulation-service-catalogue")["csv"])["title_zh"][0] \
            == "新的名称"

    def test_the_csv_is_served_at_its_download_url(self, market, sysadmin, app):
        create(market, sysadmin, name="market-a")
        catalogue_publish.build(market["name"])
        res = helpers.call_action("package_show", id="service-catalogue")["resources"][0]
        response = app.get(res["url"])
        assert response.status_code == 200
        assert response.data.startswith(b"\xef\xbb\xbf")
        assert "企业营业执照核发" in response.data.decode("utf-8-sig")


# ---------------------------------------------------------------- the next page read while this one is written

def readers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("govservice-catalogue-read")]


@pytest.mark.usefixtures("clean_index", "quiet")
class TestReadAhead:
    def test_a_page_that_fails_to_read_fails_the_reading_rather_than_ending_it(self, monkeypatch, market, sysadmin):
        def pages(context, owner_org, also):
            yield [{"name": "first"}]
            raise tk.ValidationError({"fq": ["Solr said no"]})
        monkeypatch.setattr(catalogue_publish, "_pages", pages)
        read = catalogue_publish.iter_public_services(dict(sysadmin))
        assert next(read) == {"name": "first"}
        with pytest.raises(tk.ValidationError):
            next(read)

    def test_the_services_read_are_package_searchs_own_dicts(self, every_field, sysadmin):
        # read through Solr's [json] transformer, decoded once: the same dicts as package_search's own
        shown = helpers.call_action("package_search", context=dict(sysadmin), fq="+dataset_type:service",
                                    rows=1000, sort="name asc")["results"]
        assert list(catalogue_publish.iter_public_services(dict(sysadmin))) == shown
        assert len(shown) == samples.count() + 2

    def test_no_reader_thread_is_left_once_the_services_are_read(self, monkeypatch, market, sysadmin):
        for i in range(3):
            create(market, sysadmin, name=f"market-{i}")
        monkeypatch.setattr(catalogue_publish, "PAGE_SIZE", 2)
        assert [s["name"] for s in catalogue_publish.iter_public_services(dict(sysadmin))] == [
            "market-0", "market-1", "market-2"]
        assert readers() == []

    def test_no_reader_thread_is_left_when_the_caller_stops_early(self, monkeypatch, market, sysadmin):
        for i in range(5):
            create(market, sysadmin, name=f"market-{i}")
        monkeypatch.setattr(catalogue_publish, "PAGE_SIZE", 2)
        read = catalogue_publish.iter_public_services(dict(sysadmin))
        assert next(read)["name"] == "market-0"
        read.close()
        assert readers() == []


def catalogue_job_ids(include_running: bool = False) -> list[str]:
    prefix = f"govservice-catalogue-{tk.config.get('ckan.site_id')}-"
    queue = jobs.get_queue()
    ids = queue.get_job_ids() + (queue.started_job_registry.get_job_ids() if include_running else [])
    return [j for j in ids if j.startswith(prefix)]


@pytest.fixture
def workers_paused():
    """Hold every worker of the test site's Redis database, so queued jobs stay queued."""
    conn = connect_to_redis()
    rq.suspension.suspend(conn, ttl=60)
    yield
    rq.suspension.resume(conn)


@pytest.fixture
def auto_rebuild(monkeypatch):
    """On for these tests whatever the suite's default is."""
    monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", True)


@pytest.mark.usefixtures("clean_index", "clean_queues", "auto_rebuild")
class TestBackgroundRebuild:
    def test_saving_a_service_twice_queues_one_job_for_its_department(
            self, market, sysadmin, workers_paused):
        s = create(market, sysadmin, name="market-a")
        assert catalogue_job_ids() == catalogue_publish.job_ids(market["id"])[:1]
        helpers.call_action("package_patch", context=dict(sysadmin), id=s["id"], title="改过一次")
        helpers.call_action("package_patch", context=dict(sysadmin), id=s["id"], title="改过两次")
        assert catalogue_job_ids() == catalogue_publish.job_ids(market["id"])[:1]

    def test_editing_a_catalogue_dataset_queues_nothing(self, market, sysadmin, workers_paused,
                                                        monkeypatch):
        monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", False)
        create(market, sysadmin, name="market-a")
        monkeypatch.setitem(tk.config, "ckanext.govservice.catalogue.auto_rebuild", True)
        catalogue_publish.build(market["name"])
        assert catalogue_job_ids() == []

    def test_the_action_is_for_sysadmins_and_returns_the_job_id(self, market, sysadmin, workers_paused):
        user = factories.User()
        with pytest.raises(tk.NotAuthorized):
            helpers.call_action("govservice_catalogue_build", context={"user": user["name"],
                                                                       "ignore_auth": False})
        assert catalogue_job_ids() == []          # the refusal queued nothing
        result = helpers.call_action("govservice_catalogue_build",
                                     context={**sysadmin, "ignore_auth": False},
                                     department=market["name"])
        assert result == {"job_id": catalogue_publish.job_ids(market["id"])[0], "queued": True}
        again = helpers.call_action("govservice_catalogue_build", context=dict(sysadmin),
                                    department=market["name"])
        assert again == {"job_id": result["job_id"], "queued": False}

    def test_the_worker_regenerates_the_files_after_a_create_and_an_update(
            self, market, transport, sysadmin, job_worker):
        watch = RebuildWatch(market, transport)
        s = create(market, sysadmin, name="market-a", title="首次发布的事项")
        create(transport, sysadmin, name="transport-a", title="道路运输经营许可")
        watch.wait(departments=2)
        assert list(read_csv(catalogue_files("market-regulation-service-catalogue")["csv"])["title_zh"]) \
            == ["首次发布的事项"]
        assert set(read_csv(catalogue_files("service-catalogue")["csv"])["title_zh"]) \
            == {"首次发布的事项", "道路运输经营许可"}

        watch = RebuildWatch(market)
        helpers.call_action("package_patch", context=dict(sysadmin), id=s["id"], title="改名后的事项")
        watch.wait()
        assert list(read_csv(catalogue_files("market-regulation-service-catalogue")["csv"])["title_zh"]) \
            == ["改名后的事项"]
        assert "改名后的事项" in set(read_csv(catalogue_files("service-catalogue")["csv"])["title_zh"])

    def test_deleting_a_service_takes_it_out_of_the_files(self, market, sysadmin, job_worker):
        watch = RebuildWatch(market)
        keep = create(market, sysadmin, name="market-keep")
        gone = create(market, sysadmin, name="market-gone")
        watch.wait()
        watch = RebuildWatch(market)
        helpers.call_action("package_delete", context=dict(sysadmin), id=gone["id"])
        watch.wait()
        assert list(read_csv(catalogue_files("market-regulation-service-catalogue")["csv"])["name"]) \
            == [keep["name"]]


class RebuildWatch:
    """Remember the departments' catalogue jobs now; later, wait for the new ones to finish.

    The worker may finish a job before the test looks, so a new job is told
    from an old one by its creation time under the same deterministic id.
    """
    def __init__(self, *departments):
        self.ids = [j for d in departments for j in catalogue_publish.job_ids(d["id"])]
        self.before = {j: self._created(j) for j in self.ids}

    @staticmethod
    def _created(job_id):
        try:
            return jobs.job_from_id(job_id).created_at
        except KeyError:
            return None

    def wait(self, departments: int = 1, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = [j for j in self.ids if self._created(j) not in (None, self.before[j])]
            if len(new) >= departments:
                for job_id in new:
                    job = jobs.job_from_id(job_id)
                    status = wait_for_job(job, timeout=max(1, deadline - time.monotonic()))
                    assert status == "finished", (job.latest_result().exc_string
                                                  if job.latest_result() else status)
                if not catalogue_job_ids(include_running=True):
                    return
            time.sleep(0.1)
        raise AssertionError(f"no catalogue rebuild finished within {timeout} s")
