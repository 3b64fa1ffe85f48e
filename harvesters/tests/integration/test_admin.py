"""The harvest admin app: every endpoint needs a CKAN token; departments see only their own."""
import io
import threading
import uuid

import pytest
from werkzeug.serving import make_server

from govharvest import admin, db, sources

from test_pipeline import HEADER, ROWS


@pytest.fixture
def editor_of(portal):
    """A user who edits one department, and that user's CKAN API token."""
    def make(department):
        name = f"editor-{uuid.uuid4().hex[:8]}"
        portal.action.user_create(name=name, email=f"{name}@example.gov.cn",
                                  password=uuid.uuid4().hex)
        portal.action.organization_member_create(id=department["id"], username=name, role="editor")
        return portal.action.api_token_create(user=name, name="test")["token"]
    return make


@pytest.fixture
def other_department(portal):
    return portal.action.organization_create(name=f"harvest-other-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def client(portal, harvest_db, department, other_department, tmp_path, monkeypatch):
    monkeypatch.setenv("GOVHARVEST_PUSH_DIR", str(tmp_path))
    with db.connect() as conn:
        sources.add(conn, name="mine", department=department["name"], format="csv",
                    location=str(tmp_path / "mine.csv"))
        sources.add(conn, name="theirs", department=other_department["name"], format="csv",
                    location=str(tmp_path / "theirs.csv"))
    return admin.create_app(portal.address).test_client()


def test_no_token_no_entry(client):
    response = client.get("/api/sources")
    assert response.status_code == 401
    assert "CKAN API token" in response.json["error"]


def test_a_department_sees_only_its_own_sources(client, editor_of, department):
    token = editor_of(department)
    response = client.get("/api/sources", headers={"Authorization": token})
    assert [s["name"] for s in response.json] == ["mine"]


def test_a_department_token_cannot_run_another_departments_source(client, editor_of, department,
                                                                   other_department):
    token = editor_of(department)
    response = client.post("/api/sources/theirs/run", headers={"Authorization": token})
    assert response.status_code == 403
    assert other_department["name"] in response.json["error"]
    with db.connect() as conn:                          # nothing queued or started
        assert db.recent_jobs(conn, source="theirs", limit=10) == []


def test_a_sysadmin_sees_every_source(client, site_token):
    token = site_token
    response = client.get("/api/sources", headers={"Authorization": token})
    assert sorted(s["name"] for s in response.json) == ["mine", "theirs"]


def test_a_department_pushes_a_file_and_gets_the_report(client, editor_of, department, portal):
    token = editor_of(department)
    body = (HEADER + ROWS["SC-1"]).encode("gbk")

    response = client.post(f"/api/push/{department['name']}", headers={"Authorization": token},
                           data={"file": (io.BytesIO(body), "services.csv")},
                           content_type="multipart/form-data")

    assert response.status_code == 200, response.json
    assert response.json["counts"]["new"] == 1
    shown = portal.action.govservice_service_show(service_code="SC-1", department=department["name"])
    assert shown["source"] == f"push-{department['name']}"


def test_a_department_cannot_push_for_another(client, editor_of, department, other_department, tmp_path):
    token = editor_of(department)
    response = client.post(f"/api/push/{other_department['name']}", headers={"Authorization": token},
                           data={"file": (io.BytesIO(b"x"), "services.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 403
    # nothing written: no push source, no job, no file kept for the other department
    with db.connect() as conn:
        assert sorted(s["name"] for s in db.all_sources(conn)) == ["mine", "theirs"]
        assert db.recent_jobs(conn, limit=10) == []
    assert not (tmp_path / other_department["name"]).exists()       # the push folder (client's)


def test_report_page_shows_harvested_text_as_text(client, site_token, department):
    from govharvest import pipeline
    token = site_token
    with db.connect() as conn, conn.cursor() as cur:
        job_id = pipeline.start_job(conn, sources.get(conn, "mine"))
        cur.execute("""INSERT INTO job_outcome (job_id, source_record_id, outcome, errors)
                       VALUES (%s, '<script>alert(1)</script>', 'rejected', '{"title": ["bad"]}')""",
                    (job_id,))
    response = client.get(f"/jobs/{job_id}", headers={"Authorization": token})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_push_while_the_last_push_is_harvested_is_refused_and_changes_nothing(
        client, editor_of, department, tmp_path):
    token = editor_of(department)
    name = f"push-{department['name']}"
    with db.connect() as conn:
        source = sources.add(conn, name=name, department=department["name"], format="csv",
                             location=str(tmp_path / "first.csv"))
        job_id = db.open_job(conn, source["id"])
        db.claim_job(conn, job_id)
    body = (HEADER + ROWS["SC-1"]).encode("gbk")

    response = client.post(f"/api/push/{department['name']}", headers={"Authorization": token},
                           data={"file": (io.BytesIO(body), "services.csv")},
                           content_type="multipart/form-data")

    assert response.status_code == 409
    assert response.json["error"] == (f"the last file pushed for {department['name']} is still "
                                      f"being harvested (job {job_id}); push again when it ends")
    with db.connect() as conn:
        assert sources.get(conn, name)["location"] == str(tmp_path / "first.csv")
        assert db.job(conn, job_id)["status"] == "running"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == []
