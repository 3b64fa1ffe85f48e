"""The package's shape, read from its source with ast (nothing is imported):
no import cycles, one module that reads the environment, one that talks SQL.
Unit tests: they need no database, portal or network."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "govharvest"
SETTINGS_MODULE = "settings"
STORE_MODULE = "db"


def _modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text(encoding="utf-8"), str(path))
            for path in sorted(PACKAGE.glob("*.py"))}


def _imported(tree: ast.Module, modules: set[str]) -> set[str]:
    """The package's modules this one imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 or node.module == "govharvest" or (node.module or "").startswith("govharvest."):
                base = node.module if node.level == 0 else (node.module or "")
                base = base.removeprefix("govharvest").lstrip(".")
                if base:
                    found.add(base.split(".")[0])
                else:        # from . import a, b: modules, or names of the package itself
                    found |= {a.name if a.name in modules else "__init__" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("govharvest.")}
    return found & modules


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imported(tree, set(modules)) - {name} for name, tree in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules along it (first repeated last), or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return path[path.index(module):] + [module]
        if module in done:
            return None
        path.append(module)
        for imported in sorted(graph.get(module, ())):
            cycle = visit(imported)
            if cycle:
                return cycle
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module)
        if cycle:
            return cycle
    return None


def test_the_cycle_finder_names_a_cycle():
    assert find_cycle({"cli": {"queue"}, "queue": {"admin"}, "admin": {"cli"}}) == \
        ["admin", "cli", "queue", "admin"]
    assert find_cycle({"cli": {"queue", "db"}, "queue": {"db"}, "db": set()}) is None


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "queue" in graph["cli"]          # imported lazily, inside the commands


def test_govharvest_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def _uses(tree: ast.Module, attributes: set[str], imports) -> list[int]:
    """Where the module touches one of these attributes (``os.environ``,
    ``cur.execute``) or imports what ``imports(module, name)`` accepts."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in attributes:
            lines.append(node.lineno)
        elif isinstance(node, ast.Import) and any(imports(a.name, "") for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 \
                and any(imports(node.module, a.name) for a in node.names):
            lines.append(node.lineno)
    return lines


def _places(attributes: set[str], imports, *, but: str) -> list[str]:
    return sorted(f"{name}.py:{line}" for name, tree in _modules().items() if name != but
                  for line in _uses(tree, attributes, imports))


def test_only_the_settings_module_reads_the_environment():
    readers = _places({"environ", "getenv", "putenv"},
                      lambda module, name: module == "os" and name in ("environ", "getenv"),
                      but=SETTINGS_MODULE)
    assert not readers, "read the environment through settings.py instead: " + ", ".join(readers)


def test_only_the_store_module_talks_to_the_harvest_database():
    talkers = _places({"execute", "executemany", "cursor", "copy_expert", "copy_from"},
                      lambda module, name: module.split(".")[0] == "psycopg2",
                      but=STORE_MODULE)
    assert not talkers, "put the SQL in db.py and call it: " + ", ".join(talkers)
