"""Least privilege in docker/compose.yaml: no process may gain privileges (no
setuid binary can raise them), the ckan image's processes (web, workers,
harvesters, admin app, tools), which run as a non-root user, hold no capability,
every container (the ckan image's, PostgreSQL, Redis, nginx, Solr and
ZooKeeper) runs on a read-only root filesystem (tmpfs and volumes where they
write), and each running container connects to PostgreSQL as a role of its own with
its own password (docker/postgres/roles.sql; what each role may do is tried on
the real PostgreSQL by test_docker_roles.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

COMPOSE = Path(__file__).resolve().parents[1] / "docker" / "compose.yaml"


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_no_service_may_gain_privileges(services):
    assert {name for name, svc in services.items()
            if "no-new-privileges:true" not in svc.get("security_opt", [])} == set()


def test_the_ckan_images_processes_hold_no_capability(services):
    ours = {name for name, svc in services.items() if svc["image"].startswith("govservice/ckan:")}
    assert {"ckan", "ckan-worker", "harvest-worker", "harvest-scheduler", "harvest-admin"} <= ours
    assert {name for name in ours if services[name].get("cap_drop") != ["ALL"]} == set()


def test_the_upload_facing_harvest_admin_gets_no_ckan_secret_and_no_sysadmin_token(services):
    admin = services["harvest-admin"]

    assert set(admin["secrets"]) == {"harvest_admin_db_password", "harvest_admin_secret"}
    assert not any(volume.startswith("api-token:") for volume in admin["volumes"])


@pytest.mark.parametrize("role, refusal", [
    ("web", "set GOVSERVICE_SECRET_FILE"),
    ("harvest-admin", "PostgreSQL did not answer"),    # past the secrets: it needs no CKAN secret
])
def test_the_entrypoint_asks_for_ckans_secret_only_where_ckan_runs(role, refusal, tmp_path):
    import subprocess
    password = tmp_path / "db_password"
    password.write_text("x")
    env = {"PATH": "/usr/bin:/bin:/usr/lib/postgresql/15/bin", "GOVSERVICE_ETC": str(tmp_path / "etc"),
           "GOVSERVICE_VAR": str(tmp_path / "var"), "GOVSERVICE_DB_PASSWORD_FILE": str(password),
           "GOVSERVICE_PG_HOST": "127.0.0.1", "GOVSERVICE_PG_PORT": "1", "GOVSERVICE_WAIT": "1"}

    result = subprocess.run(["bash", str(COMPOSE.parent / "ckan" / "entrypoint.sh"), role],
                            env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode != 0 and refusal in result.stderr, result.stderr


# ---------------------------------------------------------------- read-only root filesystems

CKAN_RUNTIME = ("ckan", "ckan-worker", "ckan-scheduler", "harvest-worker", "harvest-scheduler", "harvest-admin")


def _writable(svc: dict) -> set[str]:
    """Where a service may write: its tmpfs and its volumes' mount points."""
    tmpfs = {entry.split(":", 1)[0] for entry in svc.get("tmpfs", [])}
    volumes = {v.split(":")[1] for v in svc.get("volumes", []) if not v.endswith(":ro")}
    return tmpfs | volumes


def test_the_ckan_images_processes_run_on_a_read_only_root_filesystem(services):
    ours = [name for name, svc in services.items() if svc["image"].startswith("govservice/ckan:")]
    assert {name for name in ours if services[name].get("read_only") is not True} == set()


@pytest.mark.parametrize("name", ("ckan-init", "ckan-cli", *CKAN_RUNTIME))
def test_a_ckan_image_process_can_write_its_config_its_var_and_temporary_files(services, name):
    # the entrypoint writes /etc/ckan and $GOVSERVICE_VAR/storage; Python and gunicorn write /tmp
    assert {"/tmp", "/etc/ckan", "/var/lib/ckan"} <= _writable(services[name])


def test_the_config_with_passwords_is_written_to_memory_only_the_ckan_user_may_read(services):
    for name in ("ckan", *CKAN_RUNTIME):
        (config,) = [e for e in services[name]["tmpfs"] if e.startswith("/etc/ckan:")]
        assert {"uid=900", "gid=900", "mode=0700"} <= set(config.split(":", 1)[1].split(",")), name


def test_the_harvest_worker_spools_feeds_on_a_volume_not_in_memory(services):
    assert "harvest-spool:/tmp" in services["harvest-worker"]["volumes"]


@pytest.mark.parametrize("name", ("postgres", "redis", "nginx"))
def test_the_data_services_run_on_a_read_only_root_filesystem(services, name):
    assert services[name]["read_only"] is True


SOLR_NODES = ("solr", "solr-cloud-1", "solr-cloud-2")


@pytest.mark.parametrize("name", (*SOLR_NODES, "solr-cloud-init", "zookeeper", "solr-lb"))
def test_solr_and_zookeeper_run_on_a_read_only_root_filesystem(services, name):
    assert services[name]["read_only"] is True


def test_every_service_runs_on_a_read_only_root_filesystem(services):
    assert {name for name, svc in services.items() if svc.get("read_only") is not True} == set()


@pytest.mark.parametrize("name", SOLR_NODES)
def test_a_solr_node_keeps_its_home_index_and_logs_on_a_volume_and_temporary_files_in_memory(services, name):
    # the official image's /var/solr: SOLR_HOME (data/, where start.sh lays the core), logs/, the pid
    volumes = {v.split(":")[1]: v.split(":")[0] for v in services[name]["volumes"]}
    assert not volumes["/var/solr"].startswith(("/", "."))          # a named volume: the index persists
    assert {"/var/solr", "/tmp"} <= _writable(services[name])


def test_zookeeper_keeps_its_data_and_transaction_log_on_volumes(services):
    volumes = {v.split(":")[1]: v.split(":")[0] for v in services["zookeeper"]["volumes"]}
    assert volumes == {"/data": "zkdata", "/datalog": "zkdatalog"}


def test_zookeeper_can_write_the_config_its_start_generates_its_logs_and_temporary_files(services):
    # the image's entrypoint writes /conf/zoo.cfg at each start (ZOO_CONF_DIR), logs to /logs (ZOO_LOG_DIR)
    assert {"/conf", "/logs", "/tmp", "/data", "/datalog"} <= _writable(services["zookeeper"])


def test_the_solr_load_balancer_can_write_its_rendered_config_pid_cache_and_temporary_files(services):
    assert {"/etc/nginx/conf.d", "/var/run", "/var/cache/nginx", "/tmp"} <= _writable(services["solr-lb"])


def test_the_solr_cloud_set_up_can_write_its_logs_and_temporary_files(services):
    assert {"/var/solr", "/tmp"} <= _writable(services["solr-cloud-init"])


# ---------------------------------------------------------------- a database role per container

ROLES = {"ckan": "govservice_web", "ckan-worker": "govservice_worker", "ckan-scheduler": "govservice_scheduler",
         "harvest-worker": "govharvest_worker", "harvest-scheduler": "govharvest_scheduler",
         "harvest-admin": "govharvest_admin"}


@pytest.mark.parametrize("name, role", ROLES.items())
def test_each_running_container_connects_as_its_own_database_role(services, name, role):
    assert services[name]["environment"]["GOVSERVICE_DB_USER"] == role


@pytest.mark.parametrize("name, role", ROLES.items())
def test_each_running_container_mounts_its_own_database_password_and_no_other(services, name, role):
    secret = services[name]["environment"]["GOVSERVICE_DB_PASSWORD_FILE"].rsplit("/", 1)[1]
    passwords = {s for s in services[name]["secrets"] if s.endswith("db_password")}
    assert passwords == {secret} and secret != "db_password"


def test_only_the_set_up_and_the_operators_tools_hold_the_owners_password(services):
    assert {name for name, svc in services.items() if "db_password" in svc.get("secrets", [])} == {
        "postgres", "ckan-init", "ckan-cli"}


def test_every_role_the_containers_use_is_made_by_the_roles_script(services):
    roles_sql = (COMPOSE.parent / "postgres" / "roles.sql").read_text()
    for role in ROLES.values():
        assert f"ALTER ROLE {role} WITH LOGIN PASSWORD" in roles_sql


def test_every_password_file_the_roles_script_reads_is_given_to_the_steps_that_run_it(services):
    import re
    roles_sql = (COMPOSE.parent / "postgres" / "roles.sql").read_text()
    read = set(re.findall(r'cat "\$([A-Z_]+_FILE)"', roles_sql))
    assert len(read) == 8
    for name in ("postgres", "ckan-init"):
        env = services[name]["environment"]
        assert read <= set(env), name
        mounted = {f"/run/secrets/{s}" for s in services[name]["secrets"]}
        assert {env[v] for v in read} <= mounted, name


def test_the_secrets_script_writes_every_secret_compose_mounts():
    compose = yaml.safe_load(COMPOSE.read_text())
    script = (COMPOSE.parent / "make-secrets.sh").read_text()
    assert {name for name in compose["secrets"] if name not in script} == set()
