"""The XLSX bulk file is SpreadsheetML written by hand (core/tabular.py), not
through openpyxl's write-only workbook, for speed at 100,000 services: what a
reader gets out of it must be what the openpyxl writer put in, cell for cell,
hostile text included."""
import tracemalloc
import zipfile
from xml.etree import ElementTree

import openpyxl

from ckanext.govservice.core import tabular

from .. import samples
from ..openpyxl_reference import cells, write as as_openpyxl_wrote_it

HOSTILE_TITLES = [
    "=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)", "-5", "\tTAB", "\rCR",
    "a & b < c > d", "line one\r\nline two", "  spaces around  ", "#N/A", "</t></is></c>",
    "\x01=SUM(A1)", "a\x0bb\x1fc", "not a character \uffff",
    "长" * (tabular.XLSX_MAX_TEXT + 10),
]


def hostile_services():
    """City services, then one service per hostile title, a huge number and a NaN among them."""
    for i in range(60):
        service = samples.as_shown(i) if i % 3 else samples.minimal(i)
        if i % 7 == 0:
            service.update(documents=[], fees=[], channels=[], themes=[])
        yield service
    for i, title in enumerate(HOSTILE_TITLES):
        yield samples.as_shown(100 + i) | {
            "title": title, "in_person_visits": 12345678901234567, "is_free": i % 2 == 0,
            "committed_days": float("nan") if i == 0 else -0.5}


def hostile_rows():
    return [tabular.service_row(s) for s in hostile_services()]


def written(tmp_path):
    ours, theirs = tmp_path / "ours.xlsx", tmp_path / "openpyxl.xlsx"
    tabular.write_xlsx(hostile_rows(), ours)
    as_openpyxl_wrote_it(hostile_rows(), theirs)
    return ours, theirs


def test_the_services_sheet_holds_what_openpyxl_wrote_cell_for_cell(tmp_path):
    ours, theirs = written(tmp_path)
    assert cells(ours, "services") == cells(theirs, "services")


def test_the_columns_sheet_holds_what_openpyxl_wrote_cell_for_cell(tmp_path):
    ours, theirs = written(tmp_path)
    assert cells(ours, "columns") == cells(theirs, "columns")


def test_the_files_written_in_one_pass_hold_the_same_xlsx(tmp_path):
    paths = {kind: tmp_path / f"catalogue.{kind}" for kind in ("csv", "json", "xlsx")}
    tabular.write_files(hostile_services(), paths)
    as_openpyxl_wrote_it(hostile_rows(), tmp_path / "openpyxl.xlsx")
    assert cells(paths["xlsx"], "services") == cells(tmp_path / "openpyxl.xlsx", "services")


def test_hostile_text_reads_back_neutralised_and_whole(tmp_path):
    path = tmp_path / "c.xlsx"
    tabular.write_xlsx(hostile_rows(), path)
    rows = cells(path, "services")
    titles = [row[rows[0].index("title_zh")] for row in rows[-len(HOSTILE_TITLES):]]
    assert titles[:11] == ["'=HYPERLINK(\"http://x\")", "'+1", "'@SUM(A1)", "'-5", "'\tTAB", "'\rCR",
                           "a & b < c > d", "line one\r\nline two", "  spaces around  ", "#N/A",
                           "</t></is></c>"]


def test_control_characters_are_dropped_before_the_formula_check(tmp_path):
    path = tmp_path / "c.xlsx"
    tabular.write_xlsx(hostile_rows(), path)
    rows = cells(path, "services")
    titles = [row[rows[0].index("title_zh")] for row in rows[-len(HOSTILE_TITLES):]]
    assert titles[11:14] == ["'=SUM(A1)", "abc", "not a character "]


def test_a_lone_surrogate_is_dropped_from_the_xlsx(tmp_path):
    path = tmp_path / "c.xlsx"
    tabular.write_xlsx([tabular.service_row(samples.as_shown(1) | {"title": "lone \ud800 surrogate"})], path)
    rows = cells(path, "services")
    assert rows[1][rows[0].index("title_zh")] == "lone  surrogate"


def test_text_longer_than_excel_holds_is_cut_at_its_limit(tmp_path):
    path = tmp_path / "c.xlsx"
    tabular.write_xlsx(hostile_rows(), path)
    rows = cells(path, "services")
    assert rows[-1][rows[0].index("title_zh")] == "长" * tabular.XLSX_MAX_TEXT


def test_numbers_and_booleans_are_real_cell_values(tmp_path):
    path = tmp_path / "c.xlsx"
    tabular.write_xlsx(hostile_rows(), path)
    sheet = openpyxl.load_workbook(path)["services"]
    header = [c.value for c in sheet[1]]
    last = {name: cell for name, cell in zip(header, sheet[sheet.max_row])}
    # Excel holds a number as a double: 16 significant digits, as openpyxl wrote it
    assert (last["in_person_visits"].value, last["in_person_visits"].data_type) == (1.234567890123457e16, "n")
    assert (last["committed_days"].value, last["committed_days"].data_type) == (-0.5, "n")
    assert last["is_free"].data_type == "b"


def test_every_part_is_well_formed_xml_and_the_content_types_come_first(tmp_path):
    path = tmp_path / "c.xlsx"
    tabular.write_xlsx(hostile_rows(), path)
    with zipfile.ZipFile(path) as book:
        names = book.namelist()
        for name in names:
            ElementTree.fromstring(book.read(name))
    assert names[0] == "[Content_Types].xml"
    assert set(names) == {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                          "xl/styles.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"}


def test_column_letters_run_past_z():
    assert [tabular._column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def peak_bytes_writing(services: int, tmp_path) -> int:
    def city():
        for i in range(services):
            yield samples.as_shown(i)
    paths = {kind: tmp_path / f"{services}.{kind}" for kind in ("csv", "json", "xlsx")}
    tracemalloc.start()
    try:
        tabular.write_files(city(), paths)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_writing_ten_times_the_services_takes_no_more_memory(tmp_path):
    small, large = peak_bytes_writing(300, tmp_path), peak_bytes_writing(3000, tmp_path)
    assert large < small * 1.25


def test_the_workbook_needs_no_zip64_below_two_gigabytes(tmp_path):
    # some spreadsheet programs refuse a Zip64 archive; it is only needed past 2 GiB a sheet
    path = tmp_path / "c.xlsx"
    tabular.write_xlsx(hostile_rows(), path)
    with zipfile.ZipFile(path) as book:
        assert [info.extract_version for info in book.infolist()] == [20] * 7


def test_no_spool_is_left_beside_the_workbook(tmp_path):
    tabular.write_xlsx(hostile_rows(), tmp_path / "c.xlsx")
    assert [p.name for p in tmp_path.iterdir()] == ["c.xlsx"]
