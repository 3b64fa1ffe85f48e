"""Least privilege in docker/compose.yaml: no process may gain privileges (no
setuid binary can raise them), and the ckan image's processes (web, workers,
harvesters, admin app, tools), which run as a non-root user, hold no capability."""
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

    assert set(admin["secrets"]) == {"db_password", "harvest_admin_secret"}
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
