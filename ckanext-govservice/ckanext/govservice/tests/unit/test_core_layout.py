"""The domain core (ckanext.govservice.core) stands without CKAN, and derives
what it knows from the schema. Unit tests: no database, portal or network."""
from __future__ import annotations

import ast
import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from ckanext.govservice.core import cpsv, schema, tabular

CORE = Path(schema.__file__).resolve().parent
CORE_PACKAGE = "ckanext.govservice.core"
# What the core may never import, at the top of a module or inside a function.
FORBIDDEN = ("ckan", "ckanext", "flask", "sqlalchemy", "psycopg2")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a core module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = CORE_PACKAGE.rsplit(".", node.level - 1)[0] if node.level > 1 else CORE_PACKAGE
                base = f"{package}.{node.module}" if node.module else package
            else:
                base = node.module or ""
            found += [(node.lineno, f"{base}.{a.name}" if not node.module else base) for a in node.names]
    return found


def _forbidden(module: str) -> bool:
    if module == CORE_PACKAGE or module.startswith(CORE_PACKAGE + "."):
        return False
    return module.split(".")[0] in FORBIDDEN


def test_the_import_reader_resolves_relative_imports_against_the_core(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from . import schema\nfrom .. import helpers\ndef f():\n    import flask\n")
    assert [m for _, m in _imports(module)] == [
        "ckanext.govservice.core.schema", "ckanext.govservice.helpers", "flask"]
    assert [_forbidden(m) for _, m in _imports(module)] == [False, True, True]


def test_no_core_module_imports_ckan_flask_sqlalchemy_or_psycopg2():
    offenders = [f"{path.name}:{line} imports {module}"
                 for path in sorted(CORE.glob("*.py"))
                 for line, module in _imports(path) if _forbidden(module)]
    assert offenders == [], "the core must stand without CKAN: " + "; ".join(offenders)


def test_importing_every_core_module_loads_no_ckan():
    code = ("import importlib, pkgutil, sys\n"
            f"import {CORE_PACKAGE} as core\n"
            "for m in pkgutil.iter_modules(core.__path__):\n"
            f"    importlib.import_module('{CORE_PACKAGE}.' + m.name)\n"
            "print(sorted({n.split('.')[0] for n in sys.modules} & {'ckan', 'flask', 'sqlalchemy', 'psycopg2'}))\n"
            "print(sorted(n for n in sys.modules if n.startswith('ckanext.') "
            f"and not n.startswith('{CORE_PACKAGE}') and n != 'ckanext.govservice'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[]", "[]"]


# ---------------------------------------------------------------- a field added to the schema

NEW_FIELD = {
    "field_name": "accessibility",
    "label": {"zh_Hans_CN": "无障碍设施", "en": "Accessibility"},
    "help_text": {"zh_Hans_CN": "办理地点的无障碍设施。", "en": "Step-free access and other help at the place."},
    "validators": "ignore_missing unicode_safe strip_value",
    "govservice_column": "accessibility",
    "govservice_facet": "accessibility",
    "cpsv": "gs:accessibility@zh",
}
BASE = "https://portal.example.gov.cn"


@pytest.fixture()
def schema_with_a_new_field(tmp_path):
    service = copy.deepcopy(schema.load("service"))
    fields = service["dataset_fields"]
    fields.insert(next(i for i, f in enumerate(fields) if f["field_name"] == "contact_phone"), NEW_FIELD)
    path = tmp_path / "service.yaml"
    path.write_text(yaml.safe_dump(service, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with schema.use_schema("service", path):
        yield


def test_a_new_field_is_a_bulk_file_column_and_a_spreadsheet_header(schema_with_a_new_field):
    assert "accessibility" in tabular.columns()
    row = tabular.service_row({"service_code": "SC-1", "accessibility": "无障碍坡道"})
    assert row["accessibility"] == "无障碍坡道"
    for header in ("accessibility", "无障碍设施", "Accessibility"):
        assert tabular.header_names()[schema.fold_header(header)] == "accessibility"


def test_a_new_faceted_field_gets_its_solr_field(schema_with_a_new_field):
    assert schema.facet_fields()["accessibility"] == "accessibility_ss"
    assert "accessibility" in schema.input_fields()


def test_a_new_field_goes_into_cpsv_ap_and_reads_back(schema_with_a_new_field):
    service = {"service_code": "SC-1", "title": "无障碍测试事项", "accessibility": "无障碍坡道"}
    g = cpsv.services_to_graph([(service, {"name": "market-regulation"})], BASE)
    gs = cpsv.terms_namespace(BASE)
    ref = cpsv.service_uri(BASE, service, {"name": "market-regulation"})
    assert (ref, gs.accessibility, Literal("无障碍坡道", lang="zh")) in g
    [read] = cpsv.services_from_cpsv(Graph().parse(data=g.serialize(format="turtle"), format="turtle"))
    assert read["accessibility"] == "无障碍坡道"


def test_a_new_platform_term_is_described_from_the_fields_labels(schema_with_a_new_field):
    terms = cpsv.terms_graph(BASE)
    term = URIRef(str(cpsv.terms_namespace(BASE)) + "accessibility")
    assert (term, RDF.type, RDF.Property) in terms
    assert (term, RDFS.label, Literal("无障碍设施", lang="zh")) in terms
    assert (term, RDFS.label, Literal("Accessibility", lang="en")) in terms


def test_outside_the_block_the_new_field_is_unknown():
    assert "accessibility" not in tabular.columns()
    assert "accessibility" not in schema.facet_fields()
    assert "accessibility" not in [m.field for m in cpsv.scalar_mappings()]
