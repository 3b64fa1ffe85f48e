"""The bulk files written a service at a time (issue 13: the platform's files
for 100,000 services must not sit in memory) are the files written whole: the
CSV and JSON byte for byte, the XLSX cell for cell, on a city's worth of
services (1,500, every optional field absent in some, every list empty in some)."""
import csv
import io
import json

import openpyxl
import pytest

from ckanext.govservice.core import tabular

from .. import samples

GENERATED_AT = "2026-11-29T12:00:00+00:00"
CITY = 1500


def city_services():
    """A generator: the writers get the services one at a time, as the platform pages them."""
    for i in range(CITY):
        service = samples.as_shown(i) if i % 3 else samples.minimal(i)
        if i % 7 == 0:
            service.update(documents=[], fees=[], channels=[], themes=[])
        yield service


def csv_written_whole(services) -> bytes:
    """The CSV as the writer wrote it before it streamed: every row in one list first."""
    rows = [tabular.service_row(s) for s in services]
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(tabular.columns())
    for row in rows:
        writer.writerow([tabular._csv_text(row.get(c)) for c in tabular.columns()])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def json_dumped_whole(services, scope) -> bytes:
    """The JSON document as the writer wrote it before it streamed: one json.dump of it all."""
    records = [tabular.service_record(s) for s in services]
    document = {"generated_at": GENERATED_AT,
                "scope": {"department": scope} if scope else {"platform": True},
                "count": len(records), "columns": tabular.column_descriptions(), "services": records}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@pytest.fixture
def written(tmp_path):
    paths = {kind: tmp_path / f"catalogue.{kind}" for kind in ("csv", "json", "xlsx")}
    count = tabular.write_files(city_services(), paths, scope=None, generated_at=GENERATED_AT)
    return count, paths


def test_the_files_written_in_one_pass_count_every_service(written):
    count, _ = written
    assert count == CITY


def test_the_streamed_csv_is_byte_for_byte_the_csv_written_whole(written):
    _, paths = written
    assert paths["csv"].read_bytes() == csv_written_whole(city_services())


def test_the_streamed_json_is_byte_for_byte_the_document_dumped_whole(written):
    _, paths = written
    assert paths["json"].read_bytes() == json_dumped_whole(city_services(), None)


def test_the_streamed_xlsx_holds_every_row_cell_for_cell(written):
    _, paths = written
    sheet = openpyxl.load_workbook(paths["xlsx"], read_only=True)["services"]
    width = len(tabular.columns())      # a read-only sheet leaves out a row's empty cells at its end
    cells = [list(row) + [None] * (width - len(row)) for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == tabular.columns()
    assert cells[1:] == [[tabular._xlsx_value(tabular.service_row(s).get(c)) for c in tabular.columns()]
                         for s in city_services()]


def test_the_json_spool_is_gone_once_the_file_is_written(written):
    _, paths = written
    assert sorted(p.name for p in paths["json"].parent.iterdir()) == [
        "catalogue.csv", "catalogue.json", "catalogue.xlsx"]


def test_a_department_with_no_service_gets_an_empty_json_list(tmp_path):
    tabular.write_json(iter(()), tmp_path / "empty.json", scope="market-regulation", generated_at=GENERATED_AT)
    assert (tmp_path / "empty.json").read_bytes() == json_dumped_whole([], "market-regulation")
    assert json.loads((tmp_path / "empty.json").read_text("utf-8"))["services"] == []
