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
