"""The unit folders keep to their name: no test there asks for a fixture that
needs the stack (a database, Solr, Redis, the CKAN app, the served test site),
and no file there imports CKAN's test helpers or model. Read with ast, so the
check itself needs nothing; `make test-unit` runs these folders without CKAN's
pytest plugin, where such a test would fail anyway, but only once it is run."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[5]
UNIT_FOLDERS = [REPO / "ckanext-govservice" / "ckanext" / "govservice" / "tests" / "unit",
                REPO / "harvesters" / "tests" / "unit",
                REPO / "datasets" / "tests" / "unit"]

# CKAN's pytest plugin and the conftest.py files of the integration folders and tests/
STACK_FIXTURES = {
    "app", "clean_db", "clean_index", "clean_queues", "reset_db", "reset_index", "reset_queues",
    "reset_redis", "migrate_db_for", "with_plugins", "with_request_context", "ckan_config",
    "ckan_ini", "job_worker", "sysadmin_context", "sysadmin", "dept", "statistics_db",
    "settings", "harvest_db", "test_site", "site_token", "portal", "anonymous_portal",
    "department", "source",
}
# modules that need a configured CKAN: its test helpers and model, and ours built on them
STACK_MODULES = ("ckan.tests", "ckan.model", "ckanext.govservice.tests.factories",
                 "ckanext.govservice.tests.background")
STACK_HELPERS = {"factories", "background"}   # the same, imported relatively


def _requested(tree: ast.Module) -> set[str]:
    """Fixture names a module's tests and fixtures ask for: arguments, usefixtures, marks
    (a helper's arguments are not fixtures)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                node.name.startswith("test") or any("fixture" in ast.unparse(d) for d in node.decorator_list)):
            names |= {a.arg for a in node.args.args + node.args.kwonlyargs}
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "usefixtures":
                names |= {a.value for a in node.args if isinstance(a, ast.Constant)}
            elif node.func.attr in ("with_plugins", "ckan_config"):   # marks that bring the fixture
                names.add(node.func.attr)
    return names


def _imported(tree: ast.Module) -> set[str]:
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                modules |= {f"relative:{node.module or a.name}".split(".")[0] for a in node.names}
            else:
                modules |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
    return modules


def _stack_needs(source: str) -> list[str]:
    tree = ast.parse(source)
    needs = [f"fixture {name}" for name in sorted(_requested(tree) & STACK_FIXTURES)]
    for module in sorted(_imported(tree)):
        if module.startswith("relative:") and module.removeprefix("relative:") in STACK_HELPERS:
            needs.append(f"import {module.removeprefix('relative:')}")
        elif any(module == m or module.startswith(m + ".") for m in STACK_MODULES):
            needs.append(f"import {module}")
    return needs


def test_no_unit_test_asks_for_the_stack():
    files = [path for folder in UNIT_FOLDERS for path in sorted(folder.rglob("*.py"))]
    assert len(files) > 20 and all(folder.is_dir() for folder in UNIT_FOLDERS)
    found = {str(path.relative_to(REPO)): needs for path in files
             if (needs := _stack_needs(path.read_text(encoding="utf-8")))}
    assert found == {}, "move these to an integration/ folder, or split them"


def test_the_check_sees_fixtures_marks_and_imports():
    source = '''
import pytest
from ckan.tests import helpers
from ckan import model
from .. import factories as gov

@pytest.mark.usefixtures("clean_db")
def test_a(app, tmp_path):
    pass

def helper(portal):
    pass

@pytest.mark.ckan_config("solr_url", "x")
def test_b(monkeypatch):
    pass
'''
    assert _stack_needs(source) == ["fixture app", "fixture ckan_config", "fixture clean_db",
                                    "import ckan.model", "import ckan.tests", "import ckan.tests.helpers",
                                    "import factories"]
    assert _stack_needs("def test_c(tmp_path, monkeypatch, caplog):\n    pass\n") == []
