"""The CKAN side's shape, read from its source with ast (nothing is imported):
no import cycles among ``ckanext.govservice``'s modules, and every blueprint
in ``views/``. (That the core imports nothing outside it is
``test_core_layout.py``'s.) Unit tests: they need no database, portal or network.

The approach is harvesters/tests' ``test_layout.py`` for ``govharvest``; this
package has subpackages (``logic``, ``views``, ``statistics_store``,
``core``), so a module is named by its dotted path inside the package
(``views.rdf``, ``core.schema``) and relative imports are resolved by level.
"""
from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import ckanext.govservice

PACKAGE = Path(ckanext.govservice.__file__).resolve().parent
NAME = "ckanext.govservice"
NOT_MODULES = ("tests", "migration")   # the tests; alembic's env.py and revisions, run by alembic


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, tuple[Path, ast.Module]]:
    return {_name(path): (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
            for path in sorted(PACKAGE.rglob("*.py"))
            if path.relative_to(PACKAGE).parts[0] not in NOT_MODULES}


def _imported(name: str, path: Path, tree: ast.Module, modules: set[str]) -> set[str]:
    """The package's modules this one imports, at the top or inside a function."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    package = [p for p in package if p]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] + (node.module or "").split(".")
            elif node.module == NAME or (node.module or "").startswith(NAME + "."):
                base = node.module.removeprefix(NAME).lstrip(".").split(".")
            else:
                continue
            base_name = ".".join(p for p in base if p)
            for alias in node.names:   # from .views import rdf: a module; from .rdf import X: a name
                module = f"{base_name}.{alias.name}".lstrip(".")
                found.add(module if module in modules else base_name)
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix(NAME + ".") for a in node.names if a.name.startswith(NAME + ".")}
    return found & modules


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imported(name, path, tree, set(modules)) - {name}
            for name, (path, tree) in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules along it (first repeated last), or None."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as e:
        return list(reversed(e.args[1]))   # graphlib lists it against the imports' direction
    return None


def test_the_cycle_finder_names_a_cycle():
    cycle = find_cycle({"plugin": {"views"}, "views": {"helpers"}, "helpers": {"plugin"}})
    assert cycle[0] == cycle[-1] and set(cycle) == {"plugin", "views", "helpers"}
    assert all(b in {"plugin": {"views"}, "views": {"helpers"}, "helpers": {"plugin"}}[a]
               for a, b in zip(cycle, cycle[1:]))
    assert find_cycle({"plugin": {"views", "core.schema"}, "views": {"core.schema"}, "core.schema": set()}) is None


def test_the_graph_names_modules_of_subpackages_and_sees_imports_inside_functions():
    graph = import_graph()
    assert {"views", "views.rdf", "logic.action", "core.schema", "statistics_store.tables"} <= set(graph)
    assert {"life_events", "core.schema"} <= graph["views.pages"]   # from .. import / from ..core import
    assert "views.rdf" in graph["views"]                               # from . import rdf in a package
    assert "server_errors" in graph["plugin"]                          # imported inside make_middleware
    assert "statistics_store" in graph["catalogue_publish"]            # imported inside a function


def test_the_ckan_side_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_every_blueprint_is_in_views():
    made = sorted(f"{path.relative_to(PACKAGE)}:{node.lineno}"
                  for name, (path, tree) in _modules().items() if not name.startswith("views")
                  for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None))
                  == "Blueprint")
    assert not made, "put the pages in a views/ module: " + ", ".join(made)
