"""docker/ checked without a Docker engine: the compose file against the Compose
specification, pinned images, health checks and restart policies, persistent
volumes, documented settings, the Dockerfile linter, and the containers' CKAN
config serving real requests against the local services.

The linters and the Compose schema come from docker/tools (installed by
`make install`, pinned by docker/tools/package-lock.json and requirements.txt).
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "ckan" / "Dockerfile"
README = DOCKER / "README.md"
TOOLS = Path(os.environ.get("GOVSERVICE_VAR", ROOT / "var")) / "docker-tools"
COMPOSE_SCHEMA = TOOLS / "npm" / "node_modules" / "dclint" / "schemas" / "compose.schema.json"
DCLINT = TOOLS / "npm" / "node_modules" / ".bin" / "dclint"
HADOLINT = TOOLS / "py" / "bin" / "hadolint"
# An exact release: digits and dots, optionally a variant (-bookworm, -alpine, -slim-bookworm).
EXACT_TAG = re.compile(r"^[\w./-]+:\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?$")


def tool(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make install` (docker/tools/install.sh {TOOLS})")
    return path


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def interpolated(value: str) -> str:
    """A compose value with every ${VAR:-default} replaced by its default."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", value)


# ---------------------------------------------------------------- the compose file

def test_the_compose_file_validates_against_the_compose_specification(compose):
    import jsonschema_rs

    schema = json.loads(tool(COMPOSE_SCHEMA).read_text())
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}"
              for e in jsonschema_rs.validator_for(schema).iter_errors(compose)]
    assert errors == []


def test_the_schema_check_would_catch_a_broken_service():
    import jsonschema_rs

    schema = json.loads(tool(COMPOSE_SCHEMA).read_text())
    broken = {"services": {"ckan": {"image": "x:1.0.0", "restart": 3, "healthcheck": {"interval": []}}}}
    assert not jsonschema_rs.validator_for(schema).is_valid(broken)


def test_the_compose_linter_finds_no_errors():
    result = subprocess.run([tool(DCLINT), "-c", DOCKER / "tools" / "dclint.json", "--color", "false", COMPOSE],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_image_is_pinned_to_an_exact_version(compose):
    images = {name: interpolated(svc["image"]) for name, svc in compose["services"].items()}
    assert {n: i for n, i in images.items() if not EXACT_TAG.match(i)} == {}
    assert images["solr"] == "govservice/solr:0.1.0" and images["ckan"] == "govservice/ckan:0.1.0"


def test_the_dockerfile_base_images_are_pinned_and_solr_is_the_local_stacks_version():
    text = DOCKERFILE.read_text()
    bases = dict(re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", text, re.M))
    assert bases and all(EXACT_TAG.match(image) for image in bases.values()), bases
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    stages = set(re.findall(r"^FROM \S+ AS (\S+)", text, re.M))
    for image in froms:
        name = image.strip("${}")
        assert name in bases or name in stages or EXACT_TAG.match(image), image
    assert bases["SOLR_IMAGE"] == "solr:" + re.search(r"solr-(\d+\.\d+\.\d+)", (ROOT / "stack/stack.sh").read_text())[1]


def test_every_service_has_a_health_check_and_a_restart_policy(compose):
    for name, svc in compose["services"].items():
        check = svc.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert svc.get("restart"), f"{name} has no restart policy"
    long_running = [n for n, s in compose["services"].items() if n not in ("ckan-init", "ckan-cli", "solr-cloud-init")]
    assert all(compose["services"][n]["restart"] == "unless-stopped" for n in long_running)


def test_health_checks_name_roles_the_health_check_script_knows(compose):
    script = (DOCKER / "ckan" / "healthcheck.py").read_text()
    for name, svc in compose["services"].items():
        test = svc["healthcheck"]["test"]
        if "healthcheck.py" in " ".join(test):
            role = test[-1]
            assert f'"{role}"' in script, f"{name}: healthcheck.py has no role {role}"


def test_postgres_solr_and_ckan_storage_live_on_named_volumes(compose):
    def mounts(service):
        return {v.split(":")[1]: v.split(":")[0] for v in compose["services"][service]["volumes"]}

    assert mounts("postgres")["/var/lib/postgresql/data"] in compose["volumes"]
    assert mounts("solr")["/var/solr"] in compose["volumes"]
    for service in ("ckan", "ckan-worker", "ckan-init"):
        assert mounts(service)["/var/lib/ckan"] == "ckan-storage"
    # CKAN keeps uploads under GOVSERVICE_VAR, which the image sets to that volume
    assert "ckan.storage_path = ${GOVSERVICE_VAR}/storage/" in (ROOT / "stack/ckan.ini.in").read_text()
    assert "GOVSERVICE_VAR=/var/lib/ckan" in DOCKERFILE.read_text()


def test_secrets_come_from_files_and_are_never_copied_into_an_image(compose):
    assert all(Path(s["file"]).parts[:2] == ("secrets",) or s["file"].startswith("./secrets/")
               for s in compose["secrets"].values())
    ignore = (DOCKER / "ckan" / "Dockerfile.dockerignore").read_text()
    assert ignore.splitlines()[1] == "*"   # the build context holds only what is listed after it
    assert "secrets" not in ignore and "var/" not in ignore
    for svc in compose["services"].values():
        env = svc.get("environment", {})
        assert not [k for k in env if re.search(r"PASSWORD$|SECRET$", k)], "a secret in the environment"


# ---------------------------------------------------------------- the images

def test_the_dockerfile_passes_hadolint():
    result = subprocess.run([tool(HADOLINT), "--config", DOCKER / "tools" / "hadolint.yaml", DOCKERFILE],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_installs_python_packages_with_the_local_stacks_pins():
    stack_pins = re.search(r"^PIP_PINS=\((.*)\)$", (ROOT / "stack/stack.sh").read_text(), re.M)[1]
    docker_pins = re.search(r'^ARG PIP_PINS="(.*)"$', DOCKERFILE.read_text(), re.M)[1]
    assert docker_pins == stack_pins
    assert "pip install --no-deps -r requirements/lock.txt" in DOCKERFILE.read_text()


def test_the_image_runs_as_a_numeric_non_root_user_with_a_health_check():
    ckan_stage = DOCKERFILE.read_text().split("AS ckan\n", 1)[1]
    assert re.search(r"^USER 900:900$", ckan_stage, re.M)
    assert "HEALTHCHECK" in ckan_stage


def test_solr_has_one_configuration_generated_from_ckans_schema():
    """No second copy of schema.xml or solrconfig.xml under docker/: the image
    builds its conf with stack/solr/prepare-home.sh, as `make up` does."""
    copies = [p for p in DOCKER.rglob("*") if p.name in ("schema.xml", "managed-schema", "solrconfig.xml")]
    assert copies == []
    assert "bash stack/solr/prepare-home.sh" in DOCKERFILE.read_text()


def test_the_shell_scripts_parse():
    scripts = [*DOCKER.rglob("*.sh"), ROOT / "stack/entrypoints/govservice"]
    for script in scripts:
        result = subprocess.run(["bash", "-n", script], capture_output=True, text=True)
        assert result.returncode == 0, f"{script}: {result.stderr}"


def test_containers_and_the_local_stack_start_processes_through_one_script():
    stack = (ROOT / "stack/stack.sh").read_text()
    for role in ("web", "worker default", "migrate"):
        assert f'"$entrypoint" {role}' in stack
    assert '"$entrypoint" $svc' in stack          # harvest-worker, harvest-scheduler
    assert '"$entrypoint" harvest-admin' in stack
    assert not re.search(r"gunicorn\"? .*--bind|jobs worker", stack)   # no second command line
    assert 'exec "$SRC/stack/entrypoints/govservice" "$@"' in (DOCKER / "ckan/entrypoint.sh").read_text()


# ---------------------------------------------------------------- settings are documented

PY_READS = re.compile(r"""(?:environ(?:\.get|\.setdefault)?\s*[(\[]\s*|getenv\(\s*|envvar\s*=\s*)["']([A-Z][A-Z0-9_]+)["']""")
PY_NAMES = re.compile(r"""["']((?:GOVSERVICE|GOVHARVEST)_[A-Z0-9_]+)["']""")
SH_DEFAULTED = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::?[-?=])")
SH_OURS = re.compile(r"\$\{?((?:GOVSERVICE|GOVHARVEST|NGINX|FEEDSERVER)_[A-Z0-9_]*[A-Z0-9])")


def settings_read_by_the_code() -> dict[str, str]:
    where: dict[str, str] = {}
    bases = ["ckanext-govservice/ckanext", "harvesters/govharvest", "stack", "docker"]
    for path in (p for base in bases for p in (ROOT / base).rglob("*") if p.is_file()):
        rel = path.relative_to(ROOT).as_posix()
        if "/tests/" in rel or "node_modules" in rel or rel.startswith("stack/solr/src"):
            continue
        text = path.read_text(errors="ignore")
        if path.suffix == ".py":
            names = PY_READS.findall(text) + PY_NAMES.findall(text)
        elif path.suffix in (".sh", ".in", ".yaml", ".template") or text.startswith("#!/usr/bin/env bash"):
            names = SH_DEFAULTED.findall(text) + SH_OURS.findall(text)
        else:
            continue
        for name in names:
            where.setdefault(name, rel)
    return where


def test_every_environment_variable_the_code_reads_is_documented():
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", README.read_text()))
    read = settings_read_by_the_code()
    assert len(read) > 40
    assert {n: f for n, f in read.items() if n not in documented} == {}


def test_the_scan_finds_the_settings_it_is_meant_to_find():
    read = settings_read_by_the_code()
    for name in ("GOVHARVEST_DB_URL", "GOVHARVEST_LOAD_WORKERS", "CKAN_INI", "GOVSERVICE_CKAN_WORKERS",
                 "GOVSERVICE_TEST_SLOT", "NGINX_API_CACHE_TTL", "GOVSERVICE_ADMIN_PASSWORD", "SOLR_HOME"):
        assert name in read


# ---------------------------------------------------------------- the containers' CKAN config, for real

def local_secrets() -> dict[str, str]:
    lines = (ROOT / "var" / "secrets.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.mark.stack
def test_the_container_config_serves_ckan_against_the_local_services(tmp_path, ckan_ini):
    """docker/ckan/entrypoint.sh writes the containers' config from stack/ckan.ini.in
    plus the service addresses; pointed at this machine's PostgreSQL, Solr and Redis
    (the test slot's databases) that config serves the API in-process."""
    secrets = local_secrets()
    env = {**os.environ, "GOVSERVICE_ETC": str(tmp_path / "etc"), "GOVSERVICE_VAR": str(tmp_path / "var")}
    for name in ("GOVSERVICE_SECRET", "GOVSERVICE_DB_PASSWORD", "GOVSERVICE_DATASTORE_RO_PASSWORD"):
        (tmp_path / name).write_text(secrets[name] + "\n")
        env[f"{name}_FILE"] = str(tmp_path / name)
    test_ini = ckan_ini.read_text()
    solr_url = re.search(r"^solr_url = (\S+)$", test_ini, re.M)[1]
    env.update(
        GOVSERVICE_PG_HOST="127.0.0.1", GOVSERVICE_SOLR_URL=solr_url,
        GOVSERVICE_REDIS_URL=re.search(r"^ckan\.redis\.url = (\S+)$", test_ini, re.M)[1],
        GOVSERVICE_SITE_ID=re.search(r"^ckan\.site_id = (\S+)$", test_ini, re.M)[1],
        GOVSERVICE_DB=re.search(r"^sqlalchemy\.url = .*/(\w+)$", test_ini, re.M)[1],
        GOVSERVICE_DATASTORE_DB=re.search(r"^ckan\.datastore\.write_url = .*/(\w+)$", test_ini, re.M)[1],
        GOVSERVICE_SITE_URL="https://data.example.gov.cn")
    subprocess.run([DOCKER / "ckan" / "entrypoint.sh", "config"], env=env, check=True, timeout=30)

    ini = tmp_path / "etc" / "ckan.ini"
    assert oct(ini.stat().st_mode & 0o777) == "0o600"
    served = subprocess.run([sys.executable, "-c", SERVE, ini], capture_output=True, text=True, timeout=120)
    assert served.returncode == 0, served.stderr[-3000:]
    status, config = json.loads(served.stdout.strip().splitlines()[-1])
    assert status["site_url"] == "https://data.example.gov.cn"
    assert "govservice" in status["extensions"] and "datastore" in status["extensions"]
    assert config["plugins"] == re.search(r"^ckan\.plugins = (.*)$", (ROOT / "stack/ckan.ini.in").read_text(), re.M)[1]
    assert config["storage"] == f"{tmp_path}/var/storage/{env['GOVSERVICE_SITE_ID']}"


SERVE = """
import json, sys
from werkzeug.test import Client
from ckan.cli import load_config
from ckan.config.middleware import make_app
config = load_config(sys.argv[1])
client = Client(make_app(config))
status = client.get("/api/3/action/status_show").get_json()["result"]
search = client.get("/api/3/action/package_search?rows=0").get_json()
assert search["success"], search
print(json.dumps([status, {"plugins": config["ckan.plugins"], "storage": config["ckan.storage_path"]}]))
"""


def test_env_example_lists_every_compose_variable_with_its_default():
    text = COMPOSE.read_text()
    in_compose = dict(re.findall(r"\$\{([A-Z0-9_]+):-([^}]*)\}", text))
    example = dict(line.split("=", 1) for line in (DOCKER / "env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    assert example == in_compose


@pytest.mark.stack
def test_the_harvest_admin_app_serves_under_gunicorn_through_the_shared_entrypoint():
    import socket
    import time

    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GOVHARVEST_ENV_FILE": str(ROOT / "var" / "harvest.env"),
           "GOVSERVICE_HARVEST_ADMIN_BIND": f"127.0.0.1:{port}", "GOVSERVICE_HARVEST_ADMIN_WORKERS": "1"}
    proc = subprocess.Popen([ROOT / "stack/entrypoints/govservice", "harvest-admin"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90     # a loaded 2-core machine boots gunicorn slowly
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/login", timeout=30)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()[-2000:]
                time.sleep(0.2)
        assert response.status_code == 200
        # the container's health check, reading the settings from the server process
        # (gunicorn kept the entrypoint's pid: every step exec's the next)
        check = subprocess.run([sys.executable, DOCKER / "ckan" / "healthcheck.py", "harvest-admin"],
                               env={**os.environ, "GOVSERVICE_HEALTH_PID": str(proc.pid)},
                               capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stdout
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)
