"""The feed templates (datasets/templates/) and the format pages' field tables:
written byte for byte by datasets/make_templates.py from the schemas, and read
back by the harvesters' own readers into a service that passes the schema's
rules and statistics rows that hold together.

Pure: no CKAN site, no database; the service rules are the ones the demo city
is checked with (demo_city.py), the readers the harvesters'.
"""
from __future__ import annotations

import csv
import importlib.util
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from ckanext.govservice.core import kpis as stats, schema, tabular
from ckanext.govservice.statistics_store import TRUE_WORDS
from govharvest import formats
from govharvest.normalise import normalise
from govharvest.statistics import to_platform_csv

from demo_city import row_problems, service_problems

ROOT = Path(__file__).resolve().parents[3]
DATASETS = ROOT / "datasets"
TEMPLATES = DATASETS / "templates"
FORMATS = DATASETS / "formats"


@pytest.fixture(scope="module")
def gen():
    """datasets/make_templates.py, loaded by its path (a script, not a package)."""
    spec = importlib.util.spec_from_file_location("make_templates", DATASETS / "make_templates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(gen, tmp_path_factory):
    """Templates and pages written afresh into a folder of their own."""
    out = tmp_path_factory.mktemp("templates")
    pages = tmp_path_factory.mktemp("formats")
    for page in gen.PAGE_BLOCKS:
        shutil.copy(FORMATS / page, pages / page)
    gen.generate(out, pages)
    return out, pages


# ---------------------------------------------------------------- written by the generator, from the schema

def test_the_committed_templates_are_what_the_generator_writes(gen, generated):
    out, _ = generated
    assert sorted(p.name for p in out.iterdir()) == sorted(gen.TEMPLATE_FILES)
    assert sorted(p.name for p in TEMPLATES.iterdir()) == sorted(gen.TEMPLATE_FILES)
    for name in gen.TEMPLATE_FILES:
        assert (out / name).read_bytes() == (TEMPLATES / name).read_bytes(), \
            f"{name}: regenerate with .venv/bin/python datasets/make_templates.py"


def test_generating_again_writes_the_same_bytes(gen):
    for name, make in gen.TEMPLATE_FILES.items():
        assert make() == (TEMPLATES / name).read_bytes(), name


def test_the_field_tables_in_the_format_pages_are_generated(gen, generated):
    _, pages = generated
    for page in gen.PAGE_BLOCKS:
        assert (pages / page).read_text(encoding="utf-8") == (FORMATS / page).read_text(encoding="utf-8"), \
            f"{page}: regenerate with .venv/bin/python datasets/make_templates.py"


def test_every_field_a_department_sends_is_a_column_and_no_derived_one_is(gen):
    fields = gen.template_fields()
    sent = {f["field_name"] for f in fields}
    derived = {f["field_name"] for f in schema.service_fields() if f.get("govservice_derived")}
    assert sent and not sent & derived
    assert {f["field_name"] for f in schema.service_fields() if f.get("required")} <= sent
    header = next(csv.reader((TEMPLATES / "services-template.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert header == [schema.label(f, "zh_Hans_CN") for f in fields]
    page = (FORMATS / "services-csv-xlsx.md").read_text(encoding="utf-8")
    assert all(f"`{f['govservice_column']}`" in page for f in fields)
    assert not any(f"`{f.get('govservice_column')}`" in page for f in schema.service_fields()
                   if f.get("govservice_derived"))


# ---------------------------------------------------------------- services, read back as the harvesters read them

def _read(fmt: str, path: Path) -> list[dict]:
    return [normalise(raw) for _where, raw in formats.READERS[fmt](path)]


def _as_cells(record: dict) -> dict:
    """A record with its numbers as text: a CSV cell carries 5 as "5" (CKAN's validation reads both)."""
    return {k: str(v) if isinstance(v, int) else v for k, v in record.items()}


@pytest.fixture(scope="module")
def example(gen):
    return normalise(gen.feed_service())


def test_the_example_service_fills_every_field_a_department_sends(gen):
    """A template teaches every column: each has a value in the example (but the URL
    name, which the platform makes), and each subfield of a repeating one is in a row."""
    empty = [f["field_name"] for f in gen.template_fields() if gen.EXAMPLE_SERVICE.get(f["field_name"]) in (None, "", [])]
    assert empty == ["name"]
    for f in gen.template_fields():
        for sub in f.get("repeating_subfields", []):
            assert any(row.get(sub["field_name"]) not in (None, "") for row in gen.EXAMPLE_SERVICE[f["field_name"]]), \
                (f["field_name"], sub["field_name"])


def test_the_example_service_passes_the_schema_rules(example):
    assert service_problems(example) == []
    for name in ("documents", "fees", "channels", "legal_basis", "process_steps", "themes", "online_depth"):
        assert example[name], name


@pytest.mark.parametrize("fmt, name", [
    ("csv", "services-template.csv"),
    ("xlsx", "services-template.xlsx"),
    ("json-file", "services-feed-example.json"),
])
def test_each_services_template_reads_back_as_the_example_service(fmt, name, example):
    records = _read(fmt, TEMPLATES / name)
    assert [_as_cells(r) for r in records] == [_as_cells(example)]
    assert service_problems(records[0]) == []


def test_the_paged_feed_reader_reads_the_feed_example_page(tmp_path, example):
    page = json.loads((TEMPLATES / "services-feed-example.json").read_text(encoding="utf-8"))
    assert page["next"] is None
    spooled = tmp_path / "feed.jsonl"   # what extract.fetch_json_pages writes, a service a line
    spooled.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in page["services"]),
                       encoding="utf-8")
    assert _read("json", spooled) == [example]


def test_every_spreadsheet_header_is_one_the_harvester_knows():
    with open(TEMPLATES / "services-template.csv", "rb") as f:
        (_line, _record, unknown), = list(tabular.read_csv(f))
    assert unknown == []


def test_the_xlsx_explains_every_column_and_offers_the_codes(gen):
    book = openpyxl.load_workbook(TEMPLATES / "services-template.xlsx")
    data, about = book.worksheets
    described = [row[0] for row in about.iter_rows(min_row=2, values_only=True)]
    columns = [f["govservice_column"] for f in gen.template_fields()]
    assert [c for c in described if "[]" not in c] == columns
    assert "channels[].channel_type" in described
    drop_downs = {str(v.sqref).split(":")[0].rstrip("0123456789"): v.formula1
                  for v in data.data_validations.dataValidation}
    letter = {f["field_name"]: openpyxl.utils.get_column_letter(i)
              for i, f in enumerate(gen.template_fields(), start=1)}
    assert drop_downs[letter["service_type"]] == '"' + ",".join(
        c["value"] for c in schema.choices(schema.field("service_type"))) + '"'
    assert letter["audience"] in drop_downs and letter["status"] in drop_downs


# ---------------------------------------------------------------- the basic item and document catalogues

def _as_stored(record: dict) -> dict:
    """Aliases as CKAN's validation stores them, whether a list or a ';'-separated cell."""
    from ckanext.govservice.logic.validators import govservice_text_list
    if "aliases" not in record:
        return record
    return {**record, "aliases": json.loads(govservice_text_list(record["aliases"]))}


def _catalogue(kind: str):
    from govharvest.catalogues import CATALOGUES
    return CATALOGUES[kind]


@pytest.mark.parametrize("kind, dataset_type, example_attr", [
    ("basic_items", "basic_item", "EXAMPLE_BASIC_ITEM"), ("documents", "document", "EXAMPLE_DOCUMENT")])
def test_each_catalogue_template_reads_back_as_its_example_entry(gen, kind, dataset_type, example_attr):
    catalogue = _catalogue(kind)
    expected = normalise(gen.catalogue_feed_entry(dataset_type), catalogue=catalogue)
    stem = kind.replace("_", "-")
    from_csv = [normalise(raw, catalogue=catalogue)
                for _where, raw in formats.read_csv(TEMPLATES / f"{stem}-template.csv", dataset_type)]
    from_json = [normalise(raw, catalogue=catalogue)
                 for _where, raw in formats.read_json_feed(TEMPLATES / f"{stem}-example.json", catalogue.feed_key)]
    assert [_as_stored(r) for r in from_json] == [_as_stored(expected)]
    assert [_as_cells(_as_stored(r)) for r in from_csv] == [_as_cells(_as_stored(expected))]
    assert expected[catalogue.key] == getattr(gen, example_attr)[catalogue.key]


@pytest.mark.parametrize("dataset_type", ["basic_item", "document"])
def test_each_catalogue_example_fills_every_field_a_publisher_sends(gen, dataset_type):
    example = gen.CATALOGUE_EXAMPLES[dataset_type]
    fields = gen.catalogue_template_fields(dataset_type)
    assert [f["field_name"] for f in fields if example.get(f["field_name"]) in (None, "", [])] == ["name"]
    page = (FORMATS / "catalogues.md").read_text(encoding="utf-8")
    assert all(f"`{f['govservice_column']}`" in page for f in fields)


def test_the_example_service_refers_to_the_example_catalogue_entries(gen):
    assert gen.EXAMPLE_SERVICE["basic_code"] == gen.EXAMPLE_BASIC_ITEM["basic_code"]
    assert gen.EXAMPLE_DOCUMENT["document_code"] in {d.get("code") for d in gen.EXAMPLE_SERVICE["documents"]}


# ---------------------------------------------------------------- statistics

def _statistics_rows(tmp_path: Path, fmt: str, name: str) -> list[dict]:
    """The template as the platform's loader receives it, keyed by column."""
    out = tmp_path / f"{name}.platform.csv"
    header, _lines = to_platform_csv(TEMPLATES / name, fmt, out)
    columns, unknown = stats.map_headers(header)
    assert unknown == []
    assert columns == stats.column_names()
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[1:]
    return [{c: v for c, v in zip(columns, row) if v != ""} for row in rows]


@pytest.mark.parametrize("fmt, name", [("csv", "statistics-template.csv"), ("json", "statistics-example.json")])
def test_each_statistics_template_reads_back_into_rows_that_hold_together(tmp_path, fmt, name, example):
    rows = _statistics_rows(tmp_path, fmt, name)
    channels = {c["value"] for c in schema.choices(schema.vocabulary_field(schema.field("channels")))}
    assert len(rows) == 3
    for row in rows:
        assert row_problems(row, "natural-resources", {example["service_code"]}) == []
        stats.parse_period(row["period"])
        assert row["channel"] in channels
    *with_figures, no_data = rows
    assert all(r["no_data"].lower() not in TRUE_WORDS and r["completed"] for r in with_figures)
    assert no_data["no_data"].lower() in TRUE_WORDS
    assert set(no_data) == {"service_code", "department", "period", "channel", "no_data", "note"}


def test_the_statistics_csv_and_json_carry_the_same_rows(tmp_path):
    def comparable(rows):
        return [{**r, "no_data": r["no_data"].lower() in TRUE_WORDS} for r in rows]
    assert comparable(_statistics_rows(tmp_path, "csv", "statistics-template.csv")) == \
        comparable(_statistics_rows(tmp_path, "json", "statistics-example.json"))
