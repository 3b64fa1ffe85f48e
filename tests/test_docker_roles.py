"""docker/postgres/roles.sql on the real PostgreSQL: each container's role can do
what its container needs and no more (issue 19, least privilege).

The script runs as the superuser, as the postgres image's first start and
ckan-init run it, over three databases of this test's own (``*_roles_N``:
the shared ones are never touched); the harvest database gets a table made by
the owner after the script ran, as a later migration would make one. The roles
are the cluster's (PostgreSQL roles are not per database): the owner's and the
read-only role's passwords given to the script are this stack's own
(var/secrets.env), so the local stack keeps working.
"""
from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

import psycopg2
import pytest

from .stackctl import ROOT

pytestmark = pytest.mark.stack

SLOT = os.environ.get("GOVSERVICE_TEST_SLOT", "")
SUFFIX = f"_roles{('_' + SLOT) if SLOT else ''}"
DBS = {"ckan": f"govservice{SUFFIX}", "datastore": f"govservice_datastore{SUFFIX}", "harvest": f"govharvest{SUFFIX}"}
NEW_ROLES = ("web", "worker", "scheduler", "harvest_worker", "harvest_scheduler", "harvest_admin")
FILE_VARS = {"web": "GOVSERVICE_WEB_DB_PASSWORD_FILE", "worker": "GOVSERVICE_WORKER_DB_PASSWORD_FILE",
             "scheduler": "GOVSERVICE_SCHEDULER_DB_PASSWORD_FILE",
             "harvest_worker": "GOVHARVEST_WORKER_DB_PASSWORD_FILE",
             "harvest_scheduler": "GOVHARVEST_SCHEDULER_DB_PASSWORD_FILE",
             "harvest_admin": "GOVHARVEST_ADMIN_DB_PASSWORD_FILE"}
LOGIN = {"web": "govservice_web", "worker": "govservice_worker", "scheduler": "govservice_scheduler",
         "harvest_worker": "govharvest_worker", "harvest_scheduler": "govharvest_scheduler",
         "harvest_admin": "govharvest_admin"}


def as_postgres(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *args]
    if os.geteuid() == 0:   # runuser without --login keeps the environment (the *_FILE variables)
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    result = subprocess.run(cmd, capture_output=True, text=True, input=stdin, cwd="/",
                            env={**os.environ, **(env or {})}, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def local_secrets() -> dict[str, str]:
    lines = (ROOT / "var" / "secrets.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def script_env(passwords: dict[str, str], folder: Path) -> dict[str, str]:
    """The variables roles.sql reads: this test's databases, and a file per password
    in ``folder`` (which the postgres user, who runs the script, must be able to read)."""
    env = {"GOVSERVICE_DB": DBS["ckan"], "GOVSERVICE_DATASTORE_DB": DBS["datastore"], "GOVHARVEST_DB": DBS["harvest"]}
    folder.chmod(0o755)
    for name, var in {"db": "GOVSERVICE_DB_PASSWORD_FILE", "ro": "GOVSERVICE_DATASTORE_RO_PASSWORD_FILE",
                      **FILE_VARS}.items():
        path = folder / name
        path.write_text(passwords[name] + "\n")
        path.chmod(0o644)
        env[var] = str(path)
    return env


@pytest.fixture(scope="module")
def readable_folder():
    import shutil
    import tempfile
    folder = Path(tempfile.mkdtemp(prefix="govservice-roles-"))
    yield folder
    shutil.rmtree(folder)


@pytest.fixture(scope="module")
def roles(readable_folder):
    """The three databases, roles.sql run over them, and each role's password."""
    local = local_secrets()
    passwords = {"db": local["GOVSERVICE_DB_PASSWORD"], "ro": local["GOVSERVICE_DATASTORE_RO_PASSWORD"],
                 **{r: secrets.token_urlsafe(16) for r in NEW_ROLES}}
    env = script_env(passwords, readable_folder)
    for db in DBS.values():
        as_postgres("-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        as_postgres("-d", "postgres", "-c", f'CREATE DATABASE "{db}" OWNER govservice TEMPLATE template0')
    with _connect("govservice", passwords["db"], DBS["harvest"]) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE made_before (id serial PRIMARY KEY, name text)")   # as a first migration
    as_postgres("-d", "postgres", "-f", str(ROOT / "docker" / "postgres" / "roles.sql"), env=env)
    with _connect("govservice", passwords["db"], DBS["harvest"]) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE made_after (id serial PRIMARY KEY, before_id int)")   # as a later one
    yield passwords
    for db in DBS.values():
        as_postgres("-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _connect(user: str, password: str, db: str):
    port = os.environ.get("GOVSERVICE_PG_PORT", "5432")
    conn = psycopg2.connect(host="127.0.0.1", port=port, user=user, password=password, dbname=db)
    conn.autocommit = True
    return conn


def _as(roles, role: str, db: str):
    return _connect(LOGIN[role], roles[role], DBS[db])


@pytest.mark.parametrize("role", ("harvest_worker", "harvest_scheduler", "harvest_admin"))
def test_a_harvest_container_reads_and_writes_the_harvest_databases_rows(roles, role):
    with _as(roles, role, "harvest") as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO made_before (name) VALUES ('feed') RETURNING id")
        before = cur.fetchone()[0]
        cur.execute("INSERT INTO made_after (before_id) VALUES (%s)", (before,))   # made after the script
        cur.execute("UPDATE made_after SET before_id = before_id WHERE before_id = %s", (before,))
        cur.execute("DELETE FROM made_after WHERE before_id = %s", (before,))
        cur.execute("SELECT count(*) FROM made_before WHERE id = %s", (before,))
        assert cur.fetchone()[0] == 1


@pytest.mark.parametrize("statement", ("CREATE TABLE evil (x int)", "DROP TABLE made_after",
                                       "ALTER TABLE made_after ADD x int", "TRUNCATE made_after"))
def test_a_harvest_container_may_not_change_the_harvest_databases_tables(roles, statement):
    with _as(roles, "harvest_admin", "harvest") as conn, conn.cursor() as cur, \
            pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute(statement)


@pytest.mark.parametrize("db", ("ckan", "datastore"))
@pytest.mark.parametrize("role", ("harvest_worker", "harvest_scheduler", "harvest_admin"))
def test_a_harvest_container_cannot_connect_to_ckans_databases(roles, role, db):
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        _as(roles, role, db)


@pytest.mark.parametrize("role", ("web", "worker", "scheduler"))
def test_a_ckan_container_acts_as_the_owner_so_the_datastore_can_make_and_alter_tables(roles, role):
    with _as(roles, role, "datastore") as conn, conn.cursor() as cur:
        cur.execute("SELECT session_user, current_user")
        assert cur.fetchone() == (LOGIN[role], "govservice")
        cur.execute(f"CREATE TABLE made_by_{role} (x int); ALTER TABLE made_by_{role} ADD y text")
        cur.execute("SELECT tableowner FROM pg_tables WHERE tablename = %s", (f"made_by_{role}",))
        assert cur.fetchone()[0] == "govservice"


def test_a_ckan_containers_login_has_no_password_of_another(roles):
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _connect(LOGIN["web"], roles["worker"], DBS["ckan"])


def test_a_role_not_named_by_the_script_cannot_connect(roles):
    name = f"stranger{SUFFIX}"
    password = secrets.token_urlsafe(16)
    as_postgres("-d", "postgres", "-c", f"DROP ROLE IF EXISTS {name}; CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    try:
        with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
            _connect(name, password, DBS["harvest"])
    finally:
        as_postgres("-d", "postgres", "-c", f"DROP ROLE IF EXISTS {name}")


def test_the_script_can_run_again(roles, readable_folder):
    as_postgres("-d", "postgres", "-f", str(ROOT / "docker" / "postgres" / "roles.sql"),
                env=script_env(roles, readable_folder))

    with _as(roles, "harvest_worker", "harvest") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM made_after")
        assert cur.fetchone()[0] == 0


@pytest.fixture(scope="module")
def migrated_harvest_db(roles):
    """The harvest database brought to the code's migrations by the owner, as
    ckan-init's `govharvest db upgrade` does (after roles.sql ran)."""
    from govharvest import db
    port = os.environ.get("GOVSERVICE_PG_PORT", "5432")
    db.upgrade(f"postgresql://govservice:{roles['db']}@127.0.0.1:{port}/{DBS['harvest']}")
    return lambda role: f"postgresql://{LOGIN[role]}:{roles[role]}@127.0.0.1:{port}/{DBS['harvest']}"


@pytest.mark.parametrize("role", ("harvest_worker", "harvest_admin"))
def test_a_harvest_containers_role_runs_the_harvesters_own_job_store(migrated_harvest_db, role):
    """Register a source, queue, claim and finish a job, and read its report:
    the harvesters' code itself (govharvest.db), as that container's role."""
    from govharvest import db, pipeline, sources
    with db.connect(migrated_harvest_db(role)) as conn:
        source = sources.add(conn, name=f"feed-{role}", department="tax-bureau", format="csv",
                             location="https://feeds.example.gov.cn/services.csv")
        job = pipeline.start_job(conn, source)
        assert db.claim_job(conn, job) is not None
        assert db.finish_job(conn, job, "done", {"new": 1}, None)
        db.note_outcome(conn, job, "SC-1", "new")

        assert pipeline.report(conn, job)["status"] == "done"
