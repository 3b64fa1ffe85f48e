"""Services as tables, both ways: the bulk catalogue files (CSV, JSON, XLSX)
that developers download, and the spreadsheets (CSV, XLSX) departments send.

Pure functions over plain data: no CKAN here, so the file formats are tested
without a server (tests/unit/test_catalogue_pure.py, harvesters/tests/unit/test_tabular.py).
Publishing the files as resources is catalogue_publish.py's job; harvesting
the spreadsheets is govharvest's (its reader registry, ``govharvest.formats``).

The columns come from the service schema (every dataset field with a
``govservice_column``, in schema order), so a field added to service.yaml
shows up in the files without touching this module.

Layout of the files:

* CSV: UTF-8 with a byte-order mark (so Excel opens Chinese text correctly),
  one header row of column names, one row per service.
* XLSX: sheet ``services`` (header row of column names, one row per service,
  numbers and booleans as real cell values, text inline, at most 32,767
  characters a cell) and sheet ``columns`` describing
  each column: name, Chinese and English label, and the allowed codes.
* JSON: ``{"generated_at", "scope", "count", "columns": [{"name", "field_name",
  "label": {"zh_Hans_CN", "en"}, "choices"?}], "services": [record, ...]}``.

Coded values (service_type, themes, status…) are written as their codes; the
labels are in the column description. In CSV and XLSX cells lists of codes are
joined with ``;`` and repeating subfields (documents, fees, channels,
legal_basis, process_steps) are compact JSON text; in the JSON file both are
real lists.

Any text cell that a spreadsheet could read as a formula (it starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading single
quote in CSV and XLSX, so opening a download can never run a formula. Real
numbers stay numbers, negative ones included.

Reading: departments send what their systems export — Chinese or English column
headers (a field's labels, its bulk-file column, its name or a name it had
before, ``FORMER_NAMES``), UTF-8 with or without BOM, GBK or GB18030, a title
row or merged group headers above the real header, blank rows. Reading is
streaming: rows come one at a time, so a 100,000-row file does not sit in
memory, and a CSV record is bounded (``MAX_RECORD_CHARS``) by the reader itself.
The same readers take the catalogues a province publishes, by dataset type:
``basic_item`` (基本目录) and ``document`` (材料目录), their columns from
basic_item.yaml and document.yaml.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import math
import re
import zipfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from . import schema, untrusted
from .schema import fold_header as fold  # noqa: F401  (how a header is compared, for readers)

LIST_SEPARATOR = ";"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Characters that XLSX (XML 1.0) cannot hold: control characters, lone surrogates, U+FFFE/U+FFFF.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def catalogue_fields() -> list[dict[str, Any]]:
    """The schema's dataset fields that have a bulk-file column, in schema order."""
    return schema.bulk_fields()


def columns() -> list[str]:
    return schema.bulk_columns()


def column_descriptions() -> list[dict[str, Any]]:
    """Each column's name, field and labels (and codes, for coded columns)."""
    out = []
    for f in catalogue_fields():
        item: dict[str, Any] = {
            "name": f["govservice_column"],
            "field_name": f["field_name"],
            "label": schema.labels(f),
        }
        if schema.choices(f):
            item["choices"] = [
                {"value": c["value"], "label": schema.labels(c)}
                for c in schema.choices(f)]
        if f.get("repeating_subfields"):
            item["subfields"] = [s["field_name"] for s in f["repeating_subfields"]]
        out.append(item)
    return out


# ---------------------------------------------------------------- one service

# How a column's value is taken from a package dict and turned into a cell.
_PLAIN, _DEPARTMENT, _SUBFIELDS = 0, 1, 2


@schema.derived
def _plan() -> tuple[tuple[str, str, int], ...]:
    """(column, field name, kind) of every bulk column, in column order: the
    schema read once, not once for each cell of 100,000 rows."""
    return tuple((f["govservice_column"], f["field_name"],
                  _DEPARTMENT if f["field_name"] == "owner_org"
                  else _SUBFIELDS if f.get("repeating_subfields") else _PLAIN)
                 for f in catalogue_fields())


def _department(service: dict[str, Any]) -> str:
    org = service.get("organization")
    if isinstance(org, dict) and org.get("name"):
        return org["name"]
    return service.get("owner_org") or ""


def _values(service: dict[str, Any], plan: tuple[tuple[str, str, int], ...]) -> list[Any]:
    """One ``package_show`` dict's values in column order, lists kept, ``""`` as None."""
    out = []
    for _, field, kind in plan:
        value = _department(service) if kind == _DEPARTMENT else service.get(field)
        out.append(None if value == "" else value)
    return out


def service_record(service: dict[str, Any]) -> dict[str, Any]:
    """One ``package_show`` dict as {column: value}, lists kept as lists (the JSON file)."""
    plan = _plan()
    return dict(zip([c for c, _, _ in plan], _values(service, plan)))


def _cell_of(kind: int, value: Any) -> Any:
    if value is None:
        return None
    if kind == _SUBFIELDS:
        if not value:
            return None
        return _json_text(value)
    if isinstance(value, (list, tuple)):
        return LIST_SEPARATOR.join(str(v) for v in value) or None
    if isinstance(value, dict):
        return _json_text(value)
    return value


def _cell(f: dict[str, Any], value: Any) -> Any:
    """A schema field's value as a CSV/XLSX cell (see ``service_row``)."""
    return _cell_of(_SUBFIELDS if f.get("repeating_subfields") else _PLAIN, value)


def _cells(values: list[Any], plan: tuple[tuple[str, str, int], ...]) -> list[Any]:
    return [_cell_of(kind, value) for (_, _, kind), value in zip(plan, values)]


def service_row(service: dict[str, Any]) -> dict[str, Any]:
    """One ``package_show`` dict flattened into the CSV/XLSX columns.

    Lists of codes become ``a;b``, repeating subfields compact JSON text;
    numbers and booleans keep their type; empty values are ``None``.
    """
    plan = _plan()
    return dict(zip([c for c, _, _ in plan], _cells(_values(service, plan), plan)))


# ---------------------------------------------------------------- formula safety

def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading ``'``.

    Only strings are touched: ``-5`` the number stays ``-5``; ``"-5"`` the
    text becomes ``"'-5"``.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def neutralise_delimited(text: str, text_columns: list[bool], delimiter: str = ",") -> str:
    """Rows of CSV (or TSV) text, as a database writes them, with every cell of
    a text column that a spreadsheet would run as a formula neutralised: what
    a DataStore dump of a table serves. ``text_columns[i]`` says whether column
    ``i`` holds text (a number column's ``-5`` stays a number). Rows keep their
    order; quoting is the csv module's minimal quoting."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        writer.writerow([neutralise(cell) if i >= len(text_columns) or text_columns[i] else cell
                         for i, cell in enumerate(row)])
    return out.getvalue()


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(neutralise(value))


def _xlsx_value(value: Any) -> Any:
    """A cell's value as the XLSX holds it: text without the characters XML
    cannot hold, neutralised, at most ``XLSX_MAX_TEXT`` characters (Excel's limit)."""
    if isinstance(value, str):
        return neutralise(_XML_ILLEGAL.sub("", value))[:XLSX_MAX_TEXT]
    return value


# ---------------------------------------------------------------- writers

# The three files are written a row at a time: a writer holds one open file
# (the XLSX its sheet's XML spooled to disk until it is zipped; the JSON its
# services spooled to disk until their count is known), so memory does not
# grow with the catalogue. ``write_files`` writes all three in one pass,
# working out each service's values and cells once for the three.


class _CsvFile:
    """The CSV as ``csv.writer`` writes it (the excel dialect: minimal quoting,
    quotes doubled, CRLF), a row's text built here: the csv module's writer
    took a third of the CSV's time at 100,000 rows."""

    def __init__(self, path: str | Path, cols: list[str]) -> None:
        self.file = open(path, "w", encoding="utf-8-sig", newline="")
        csv.writer(self.file).writerow(cols)
        self.lines: list[str] = []

    def add(self, cells: list[Any]) -> None:
        """One row's cells in column order (as ``_cells`` gives them)."""
        fields = []
        for v in cells:
            # _csv_text inlined: this runs for every cell of 100,000 rows
            if v is None:
                fields.append("")
                continue
            if isinstance(v, str):
                if v.startswith(FORMULA_TRIGGERS):
                    v = "'" + v
            elif isinstance(v, bool):
                v = "true" if v else "false"
            else:
                v = str(v)
            if '"' in v:
                v = '"' + v.replace('"', '""') + '"'
            elif "," in v or "\n" in v or "\r" in v:
                v = '"' + v + '"'
            fields.append(v)
        if fields == [""]:        # a row of one empty field, as the csv module writes it
            fields = ['""']
        self.lines.append(",".join(fields))
        if len(self.lines) >= _FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.lines:
            self.file.write("\r\n".join(self.lines) + "\r\n")
            self.lines = []

    def close(self) -> None:
        self._flush()
        self.file.close()


_FLUSH_ROWS = 256     # rows a writer gathers before it writes them: fewer, larger writes


# The XLSX is SpreadsheetML written by hand, then zipped, rather
# than through openpyxl's write-only workbook, which builds a cell object and
# an lxml element for every cell (half the time of the three files, measured
# in bench/serving_bench.py files). Text is inline (no shared-strings table
# growing with the catalogue); numbers and booleans are real cell values; the
# parts are the fewest Excel, LibreOffice and openpyxl open.
XLSX_MAX_TEXT = 32767          # characters in a cell, Excel's limit (openpyxl cuts there too)
XLSX_COMPRESSION = 1           # zlib level: the file is a download, written often; 1 is ~3x faster than 6
_XLSX_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_XLSX_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XLSX_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_XLSX_SHEETS = ("services", "columns")
_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_XLSX_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_XLSX_TYPE}.styles+xml"/>'
        + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_XLSX_TYPE}.worksheet+xml"/>'
                  for i in range(1, len(_XLSX_SHEETS) + 1))
        + "</Types>"),
    "_rels/.rels": (
        f'<Relationships xmlns="{_XLSX_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{_XLSX_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        f'<workbook xmlns="{_XLSX_MAIN}" xmlns:r="{_XLSX_REL}"><sheets>'
        + "".join(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>'
                  for i, name in enumerate(_XLSX_SHEETS, 1))
        + "</sheets></workbook>"),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_XLSX_PKG_REL}">'
        + "".join(f'<Relationship Id="rId{i}" Type="{_XLSX_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                  for i in range(1, len(_XLSX_SHEETS) + 1))
        + f'<Relationship Id="rId{len(_XLSX_SHEETS) + 1}" Type="{_XLSX_REL}/styles" Target="styles.xml"/>'
        "</Relationships>"),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{_XLSX_MAIN}">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"),
}
_SHEET_HEAD = f'{_XML_HEAD}<worksheet xmlns="{_XLSX_MAIN}"><sheetData>'
_SHEET_TAIL = "</sheetData></worksheet>"


def _column_letter(index: int) -> str:
    """A, B, … Z, AA, AB … for the 0-based column ``index``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _xml_text(text: str) -> str:
    # \r escaped: a parser reads a raw one as \n
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


class _XlsxSheet:
    """One worksheet's XML, written a row at a time to a spool file beside the
    workbook, then zipped into it."""

    def __init__(self, book: zipfile.ZipFile, number: int, width: int) -> None:
        # spooled to disk, then zipped knowing its size: the archive takes Zip64
        # only if the sheet passes 2 GiB (some spreadsheet programs balk at Zip64)
        self.book, self.name = book, f"xl/worksheets/sheet{number}.xml"
        self.spool = Path(str(book.filename) + f".sheet{number}")
        self.part = open(self.spool, "wb")
        self.letters = [_column_letter(i) for i in range(width)]
        self.rows = 0
        self.pending: list[str] = [_SHEET_HEAD]

    def add(self, cells: Iterable[Any]) -> None:
        self.rows += 1
        n = str(self.rows)
        xml = [f'<row r="{n}">']
        for letter, v in zip(self.letters, cells):
            if v is None:
                continue
            if isinstance(v, str):
                # as _xlsx_value, inlined: this runs for every cell of 100,000 rows
                if _XML_ILLEGAL.search(v):
                    v = _XML_ILLEGAL.sub("", v)
                if v.startswith(FORMULA_TRIGGERS):
                    v = "'" + v
                if len(v) > XLSX_MAX_TEXT:
                    v = v[:XLSX_MAX_TEXT]
                space = ' xml:space="preserve"' if v != v.strip() else ""
                xml.append(f'<c r="{letter}{n}" t="inlineStr"><is><t{space}>{_xml_text(v)}</t></is></c>')
            elif isinstance(v, bool):
                xml.append(f'<c r="{letter}{n}" t="b"><v>{int(v)}</v></c>')
            elif isinstance(v, (int, float)):
                if math.isfinite(v):     # NaN and infinity have no cell value: left empty
                    xml.append(f'<c r="{letter}{n}"><v>{"%.16g" % v}</v></c>')
            else:
                xml.append(f'<c r="{letter}{n}" t="inlineStr"><is><t>{_xml_text(_xlsx_value(str(v)))}</t></is></c>')
        xml.append("</row>")
        self.pending.append("".join(xml))
        if len(self.pending) >= _FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        self.part.write("".join(self.pending).encode("utf-8"))
        self.pending = []

    def close(self) -> None:
        self.pending.append(_SHEET_TAIL)
        self._flush()
        self.part.close()
        try:
            self.book.write(self.spool, self.name)
        finally:
            self.spool.unlink()


class _XlsxFile:
    def __init__(self, path: str | Path, cols: list[str]) -> None:
        self.book = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=XLSX_COMPRESSION)
        for name, xml in _XLSX_PARTS.items():
            self.book.writestr(name, _XML_HEAD + xml)
        self.sheet = _XlsxSheet(self.book, 1, len(cols))
        self.sheet.add(cols)

    def add(self, cells: list[Any]) -> None:
        """One row's cells in column order (as ``_cells`` gives them)."""
        self.sheet.add(cells)

    def close(self) -> None:
        self.sheet.close()
        about = _XlsxSheet(self.book, 2, 4)
        about.add(["column", "label_zh", "label_en", "codes"])
        for item in column_descriptions():
            codes = "; ".join(f'{c["value"]} = {c["label"]["zh_Hans_CN"]} / {c["label"]["en"]}'
                              for c in item.get("choices", []))
            about.add([item["name"], item["label"]["zh_Hans_CN"], item["label"]["en"], codes or None])
        about.close()
        self.book.close()


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _JsonFile:
    """The JSON document, byte for byte as ``json.dump`` writes it whole: its
    services go to a spool file first, then follow the head that counts them."""

    def __init__(self, path: str | Path, scope: str | None, generated_at: str | None) -> None:
        self.path, self.count = Path(path), 0
        self.head = {
            "generated_at": generated_at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "scope": {"department": scope} if scope else {"platform": True}}
        self.spool = open(self.path.with_name(self.path.name + ".services"), "w+", encoding="utf-8")

    def add(self, record: Mapping[str, Any]) -> None:
        self.spool.write(("," if self.count else "") + _json_text(record))
        self.count += 1

    def close(self) -> None:
        head = {**self.head, "count": self.count, "columns": column_descriptions()}
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(_json_text(head)[:-1] + ',"services":[')
            self.spool.seek(0)
            while chunk := self.spool.read(1 << 20):
                f.write(chunk)
            f.write("]}")
        self.spool.close()
        Path(self.spool.name).unlink()


def _write(items: Iterable[Any], *files: Any) -> int:
    n = 0
    for item in items:
        for f in files:
            f.add(item)
        n += 1
    for f in files:
        f.close()
    return n


def _in_column_order(rows: Iterable[Mapping[str, Any]], cols: list[str]) -> Iterator[list[Any]]:
    for row in rows:
        yield [row.get(c) for c in cols]


def write_csv(rows: Iterable[dict[str, Any]], path: str | Path) -> int:
    """Write rows (from ``service_row``) as UTF-8-with-BOM CSV; return the row count."""
    cols = columns()
    return _write(_in_column_order(rows, cols), _CsvFile(path, cols))


def write_xlsx(rows: Iterable[dict[str, Any]], path: str | Path) -> int:
    """Write rows as an XLSX workbook (sheets ``services`` and ``columns``); return the row count."""
    cols = columns()
    return _write(_in_column_order(rows, cols), _XlsxFile(path, cols))


def write_json(services: Iterable[dict[str, Any]], path: str | Path, *,
               scope: str | None = None, generated_at: str | None = None) -> int:
    """Write ``package_show`` dicts as the JSON catalogue document; return the service count.

    ``scope`` is the department's name, or ``None`` for the whole platform.
    """
    return _write((service_record(s) for s in services), _JsonFile(path, scope, generated_at))


class _Service:
    """One service's values and cells, worked out once for the three files."""

    def __init__(self, paths: Mapping[str, str | Path], scope: str | None, generated_at: str | None) -> None:
        self.plan = _plan()
        self.cols = [c for c, _, _ in self.plan]
        self.csv = _CsvFile(paths["csv"], self.cols)
        self.json = _JsonFile(paths["json"], scope, generated_at)
        self.xlsx = _XlsxFile(paths["xlsx"], self.cols)

    def add(self, service: dict[str, Any]) -> None:
        values = _values(service, self.plan)
        cells = _cells(values, self.plan)
        self.csv.add(cells)
        self.json.add(dict(zip(self.cols, values)))
        self.xlsx.add(cells)

    def close(self) -> None:
        for f in (self.csv, self.json, self.xlsx):
            f.close()


def write_files(services: Iterable[dict[str, Any]], paths: Mapping[str, str | Path], *,
                scope: str | None = None, generated_at: str | None = None) -> int:
    """Write the CSV, JSON and XLSX files (``paths``: {"csv", "json", "xlsx": path})
    in one pass over the services, a service at a time; the same files as
    ``write_csv``, ``write_json`` and ``write_xlsx``. Returns the service count."""
    return _write(services, _Service(paths, scope, generated_at))


# ---------------------------------------------------------------- reading department spreadsheets

ENCODINGS = ("utf-8-sig", "gb18030")   # gb18030 is a superset of GBK and GB2312
HEADER_SCAN_ROWS = 10


def detect_encoding(head: bytes) -> str:
    """The encoding of a text file from its first bytes: a BOM, valid UTF-8, else GB18030."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        # a multi-byte character cut at the end of the sample is still UTF-8
        if e.start >= len(head) - 3 and e.reason == "unexpected end of data":
            return "utf-8"
    try:   # a two- or four-byte character cut at the end of the sample is still GB18030
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
    except UnicodeDecodeError:
        raise ValueError("the file is neither UTF-8 nor GBK/GB18030 text") from None
    return "gb18030"


# Column names and feed keys a field had before it was renamed, still read from
# older feeds: {dataset type: {former name: field name}} (local_code became
# implementation_code in issue 16). Renames only: every field itself comes from the schema.
FORMER_NAMES: dict[str, dict[str, str]] = {"service": {"local_code": "implementation_code"}}


def dataset_fields(dataset_type: str = "service") -> list[dict[str, Any]]:
    """The dataset fields of a dataset type's schema (service, basic_item, document)."""
    return schema.load(dataset_type)["dataset_fields"]


@schema.derived
def header_names(dataset_type: str = "service") -> dict[str, str]:
    """Every way a column may be headed (field name, bulk-file column, zh or en label,
    a former name), folded for comparison, mapped to the schema field name."""
    names: dict[str, str] = {fold(old): new for old, new in FORMER_NAMES.get(dataset_type, {}).items()}
    for f in dataset_fields(dataset_type):
        for alias in (f["field_name"], f.get("govservice_column"),
                      schema.label(f, "zh_Hans_CN"), schema.label(f, "en")):
            if alias:
                names[fold(alias)] = f["field_name"]
    return names


def find_header(rows: list[list[str]], known: Mapping[str, str], dataset_type: str = "service") -> int:
    """Index of the row that names the most known columns (title rows and merged
    group headers above it are skipped)."""
    scores = [sum(1 for cell in row if fold(cell) in known) for row in rows]
    best = max(range(len(rows)), key=lambda i: scores[i], default=0)
    if not rows or scores[best] == 0:
        key = dataset_fields(dataset_type)[0]
        raise ValueError("no header row names any known column (expected headers such as "
                         f"{key['field_name']} / {schema.label(key, 'zh_Hans_CN')})")
    return best


def records_from_rows(rows: Iterator[list[Any]], dataset_type: str = "service"
                      ) -> Iterator[tuple[int, dict[str, Any], list[str]]]:
    """(line number, {field: value}, unknown headers) for each non-blank row after
    the header; the columns are those of ``dataset_type``'s schema."""
    known = header_names(dataset_type)
    head: list[list[Any]] = []
    for row in rows:
        head.append(list(row))
        if len(head) >= HEADER_SCAN_ROWS:
            break
    as_text = [["" if c is None else str(c) for c in row] for row in head]
    at = find_header(as_text, known, dataset_type)
    header = as_text[at]
    fields = [known.get(fold(h)) for h in header]
    # a column under a former name gives way to the field's own column
    former = {fold(old) for old in FORMER_NAMES.get(dataset_type, {})}
    own = {f for h, f in zip(header, fields) if f and fold(h) not in former}
    fields = [None if fold(h) in former and f in own else f for h, f in zip(header, fields)]
    unknown = [h for h, f in zip(header, fields) if h.strip() and f is None]

    def emit(line: int, row: list[Any]):
        values = {f: ("" if v is None else v) for f, v in zip(fields, row) if f}
        if any(str(v).strip() for v in values.values()):
            return line, values, unknown
        return None

    line = at + 1
    for row in head[at + 1:]:
        line += 1
        out = emit(line, row)
        if out:
            yield out
    for row in rows:
        line += 1
        out = emit(line, list(row))
        if out:
            yield out


# The most characters one CSV record may have (all its lines and fields): a
# bound of the reader's own, whatever the process-wide csv.field_size_limit()
# happens to be, so a body without line ends fails the same way every time.
MAX_RECORD_CHARS = 1 << 20


class _BoundedLines:
    """The lines of a text stream for csv.reader, refusing a record (one line, or
    the lines of one quoted field) longer than ``limit`` characters before it is
    held whole in memory."""

    def __init__(self, text: io.TextIOBase, limit: int):
        self.text, self.limit = text, limit
        self.line = 0          # physical lines read
        self.pending = 0       # characters of the record being read

    def __iter__(self) -> "_BoundedLines":
        return self

    def __next__(self) -> str:
        line = self.text.readline(self.limit - self.pending + 1)
        if not line:
            raise StopIteration
        self.line += 1
        self.pending += len(line)
        if self.pending > self.limit:
            raise ValueError(f"line {self.line} is longer than {self.limit} characters "
                             "(a record without its line end, or a quote never closed?)")
        return line


def _bounded_rows(lines: _BoundedLines) -> Iterator[list[str]]:
    rows = csv.reader(lines)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as e:   # the module's own (process-wide) field limit, when lower than ours
            raise ValueError(f"line {lines.line}: {e}") from None
        lines.pending = 0
        yield row


def read_csv(data: io.BufferedIOBase, dataset_type: str = "service", *,
             max_record_chars: int = MAX_RECORD_CHARS) -> Iterator[tuple[int, dict[str, Any], list[str]]]:
    """Records from a seekable CSV byte stream (a file; downloads are spooled to
    one first), whatever its encoding. A record longer than ``max_record_chars``
    raises ValueError naming its line and the bound."""
    encoding = detect_encoding(data.read(65536))
    data.seek(0)
    text = io.TextIOWrapper(data, encoding=encoding, newline="")
    return records_from_rows(_bounded_rows(_BoundedLines(text, max_record_chars)), dataset_type)


def read_xlsx(path: str, max_unpacked_bytes: int = 1 << 30, dataset_type: str = "service"
              ) -> Iterator[tuple[int, dict[str, Any], list[str]]]:
    """Records from the first sheet of an XLSX file, read in streaming mode.
    A workbook unpacking to more than ``max_unpacked_bytes``, or whose XML parts
    declare a DOCTYPE or entities, is refused first (``untrusted.Refused``)."""
    import openpyxl

    untrusted.check_xlsx(path, max_unpacked_bytes)
    book = openpyxl.load_workbook(open(path, "rb"), read_only=True, data_only=True)  # a file, not a name: spooled downloads have no .xlsx suffix
    try:
        yield from records_from_rows(iter(book.worksheets[0].iter_rows(values_only=True)), dataset_type)
    finally:
        book.close()
