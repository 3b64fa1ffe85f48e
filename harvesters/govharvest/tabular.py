"""Read department spreadsheets (CSV, XLSX) into records keyed by schema field.

Departments send what their systems export: Chinese or English column headers,
UTF-8 with or without BOM, GBK or GB18030, a title row or merged group headers
above the real header, blank rows. Reading is streaming: rows come one at a
time, so a 100,000-row file does not sit in memory.
"""
from __future__ import annotations

import codecs
import csv
import io
from typing import Any, Iterator, Mapping

from ckanext.govservice import schema

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


def header_names() -> dict[str, str]:
    """Every way a column may be headed (field name, bulk-file column, zh or en label),
    folded for comparison, mapped to the schema field name."""
    names: dict[str, str] = {}
    for f in schema.service_fields():
        for alias in (f["field_name"], f.get("govservice_column"),
                      schema.label(f, "zh_Hans_CN"), schema.label(f, "en")):
            if alias:
                names[fold(alias)] = f["field_name"]
    return names


def fold(text: str) -> str:
    """Header text compared without case, spaces, full-width forms or a trailing colon."""
    text = "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in str(text))
    return "".join(text.split()).lower().rstrip(":").replace("（", "(").replace("）", ")")


def find_header(rows: list[list[str]], known: Mapping[str, str]) -> int:
    """Index of the row that names the most known columns (title rows and merged
    group headers above it are skipped)."""
    scores = [sum(1 for cell in row if fold(cell) in known) for row in rows]
    best = max(range(len(rows)), key=lambda i: scores[i], default=0)
    if not rows or scores[best] == 0:
        raise ValueError("no header row names any known column "
                         "(expected headers such as service_code / 基本编码)")
    return best


def records_from_rows(rows: Iterator[list[Any]]) -> Iterator[tuple[int, dict[str, Any], list[str]]]:
    """(line number, {field: value}, unknown headers) for each non-blank row after the header."""
    known = header_names()
    head: list[list[Any]] = []
    for row in rows:
        head.append(list(row))
        if len(head) >= HEADER_SCAN_ROWS:
            break
    as_text = [["" if c is None else str(c) for c in row] for row in head]
    at = find_header(as_text, known)
    header = as_text[at]
    fields = [known.get(fold(h)) for h in header]
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


def read_csv(data: io.BufferedIOBase) -> Iterator[tuple[int, dict[str, Any], list[str]]]:
    """Records from a seekable CSV byte stream (a file; downloads are spooled to
    one first), whatever its encoding."""
    encoding = detect_encoding(data.read(65536))
    data.seek(0)
    text = io.TextIOWrapper(data, encoding=encoding, newline="")
    return records_from_rows(iter(csv.reader(text)))


def read_xlsx(path: str) -> Iterator[tuple[int, dict[str, Any], list[str]]]:
    """Records from the first sheet of an XLSX file, read in streaming mode."""
    import openpyxl

    book = openpyxl.load_workbook(open(path, "rb"), read_only=True, data_only=True)  # a file, not a name: spooled downloads have no .xlsx suffix
    try:
        yield from records_from_rows(iter(book.worksheets[0].iter_rows(values_only=True)))
    finally:
        book.close()
