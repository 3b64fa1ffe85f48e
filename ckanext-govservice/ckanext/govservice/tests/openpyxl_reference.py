"""The bulk XLSX as openpyxl's write-only workbook wrote it before the writer
was written by hand (core/tabular.py): the reference the hand-written file is
held to, cell for cell, and a reader of both."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import openpyxl

from ckanext.govservice.core import tabular


def write(rows: Iterable[dict[str, Any]], path: str | Path) -> None:
    """Rows (``tabular.service_row``) written as the openpyxl writer wrote them."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("services")
    sheet.append(tabular.columns())
    for row in rows:
        sheet.append([tabular._xlsx_value(row.get(c)) for c in tabular.columns()])
    about = book.create_sheet("columns")
    about.append(["column", "label_zh", "label_en", "codes"])
    for item in tabular.column_descriptions():
        codes = "; ".join(f'{c["value"]} = {c["label"]["zh_Hans_CN"]} / {c["label"]["en"]}'
                          for c in item.get("choices", []))
        about.append([tabular._xlsx_value(v) for v in (
            item["name"], item["label"]["zh_Hans_CN"], item["label"]["en"], codes or None)])
    book.save(path)


def cells(path: str | Path, sheet_name: str) -> list[list[Any]]:
    """Every row of a sheet as its cell values, padded to the widest row (a
    read-only sheet leaves out a row's empty cells at its end)."""
    with open(path, "rb") as f:      # a file, not a name: uploads have no .xlsx suffix
        book = openpyxl.load_workbook(f, read_only=True)
        try:
            rows = [list(row) for row in book[sheet_name].iter_rows(values_only=True)]
        finally:
            book.close()
    width = max(len(row) for row in rows)
    return [row + [None] * (width - len(row)) for row in rows]
