"""Statistics sources: a department's monthly figures into the platform's statistics store.

A statistics source (kind ``statistics``) is fetched like any other (spooled
to disk, ETag / If-Modified-Since, credentials), then turned into one UTF-8
CSV with the platform's column names — from CSV in any supported encoding
with Chinese or English headers (title rows and blank rows skipped), XLSX,
or JSON rows (``{"statistics": [...]}``, a bare list, or JSON lines) — and
handed to CKAN's ``govservice_statistics_load`` in one upload. A JSON or XLSX
file may also carry the department's service standards (``{"statistics": [...],
"standards": [{"kpi", "target", "service"?, "period_from"?, "wording"?}]}``, or
a sheet ``standards`` beside the rows' sheet),
set through ``govservice_standards_set`` after the rows (all or none; a refused
one is rejected in the report with its record, field and reason). The platform
checks every row there, in SQL, and answers with what landed and what was
rejected; rejections are kept in the job's report with the line of the
department's own file, the field and the reason.

Memory stays flat: rows stream from the download to the upload file; only
the file's line number of each row is kept (four bytes a row).
"""
from __future__ import annotations

import array
import csv
import io
import json
import logging
import tempfile
from pathlib import Path
from typing import Any, Iterator

from ckanext.govservice.core import kpis as stats, tabular

from . import db, extract, load, sources
from .errors import ExtractError, FormatError

log = logging.getLogger(__name__)
HEADER_SCAN_ROWS = 10


def _rows_csv(path: Path) -> Iterator[tuple[int, list[Any]]]:
    with open(path, "rb") as raw:
        try:
            encoding = tabular.detect_encoding(raw.read(65536))
        except ValueError as e:
            raise FormatError(str(e)) from None
    with open(path, encoding=encoding, newline="") as text:
        for line, row in enumerate(csv.reader(text), start=1):
            yield line, row


def _rows_xlsx(path: Path) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl
    try:
        book = openpyxl.load_workbook(open(path, "rb"), read_only=True, data_only=True)  # a file, not a name: spooled downloads have no .xlsx suffix
    except Exception as e:   # not a workbook at all
        raise FormatError(f"the file is not an XLSX workbook ({e})") from None
    try:
        for line, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            yield line, ["" if v is None else v for v in row]
    finally:
        book.close()


def _json_items(path: Path) -> Iterator[tuple[int, dict]]:
    with open(path, encoding="utf-8-sig") as f:
        head = f.read(1)
        f.seek(0)
        try:
            if head in ("{", "[") and not _is_json_lines(path):
                body = json.load(f)
                items = body.get("statistics", body.get("rows")) if isinstance(body, dict) else body
                if not isinstance(items, list):
                    raise FormatError('statistics JSON must be a list of rows or {"statistics": [...]}')
                for i, item in enumerate(items, start=1):
                    yield i, item
            else:
                for i, text in enumerate(f, start=1):
                    if text.strip():
                        yield i, json.loads(text)
        except ValueError as e:
            raise FormatError(f"JSON could not be parsed: {e}") from None


# An XLSX statistics file's standards: a sheet of this name, one standard a row,
# under these headers (compared as schema headers are: tabular.fold).
STANDARDS_SHEETS = ("standards", "服务标准")
STANDARD_COLUMNS = {
    "kpi": ("kpi", "指标"),
    "target": ("target", "目标值", "目标"),
    "service": ("service", "service_code", "事项编码"),
    "period_from": ("period_from", "起始月份"),
    "wording_zh": ("wording_zh", "标准表述"),
    "wording_en": ("wording_en", "标准表述（英文）"),
}


def feed_standards(path: Path, fmt: str, department: str) -> list[dict]:
    """The service standards a statistics file sends beside its rows, each for
    the source's own department: a standard for its KPIs, or its services'
    (``service``). JSON: ``{"statistics": [...], "standards": [...]}``; XLSX:
    a sheet ``standards`` (or ``服务标准``) beside the rows' sheet. None from
    CSV or JSON lines, which hold one table."""
    if fmt == "xlsx":
        return [{**s, "department": department} for s in _xlsx_standards(path)]
    if not fmt.startswith("json") or _is_json_lines(path):
        return []
    with open(path, encoding="utf-8-sig") as f:
        try:
            body = json.load(f)
        except ValueError:
            return []      # to_platform_csv has said why already
    standards = body.get("standards") if isinstance(body, dict) else None
    if standards is None:
        return []
    if not isinstance(standards, list) or not all(isinstance(s, dict) for s in standards):
        raise FormatError('"standards" must be a list of objects, each {"kpi", "target", …}')
    return [{**s, "department": department} for s in standards]


def _is_json_lines(path: Path) -> bool:
    with open(path, encoding="utf-8-sig") as f:
        first = f.readline().strip()
        second = f.readline().strip()
    if not (first.startswith("{") and first.endswith("}") and second.startswith("{")):
        return False
    try:
        json.loads(first)
        return True
    except ValueError:
        return False


def _rows_json(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """JSON rows as a header row (the keys of the first row, and any later ones)
    followed by value rows; the "line" is the row's position."""
    items = list(_json_items(path))   # JSON is parsed whole anyway
    keys: list[str] = []
    for _, item in items:
        if not isinstance(item, dict):
            raise FormatError("every statistics row must be a JSON object")
        keys += [k for k in item if k not in keys]
    yield 0, keys
    for i, item in items:
        yield i, [_cell(item.get(k)) for k in keys]


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


READERS = {"csv": _rows_csv, "xlsx": _rows_xlsx, "json": _rows_json, "json-file": _rows_json}


def to_platform_csv(path: Path, fmt: str, out: Path) -> tuple[list[str], array.array]:
    """Write the source's rows to ``out`` as UTF-8 CSV with a header row.

    Returns the header and, for each data row written, its line in the
    source file (so the platform's "line 5" can be reported as the
    department's own line). Raises FormatError when no header row names the
    service code, the period and the channel.
    """
    reader = READERS.get(fmt)
    if reader is None:
        raise FormatError(f"statistics cannot be read from format {fmt!r}; "
                          f"use one of {', '.join(READERS)}")
    rows = reader(path)
    scanned: list[tuple[int, list[Any]]] = []
    header_at = None
    for line, row in rows:
        scanned.append((line, row))
        mapped, _ = stats.map_headers(str(c) for c in row)
        if {"service_code", "period", "channel"} <= set(mapped):
            header_at = len(scanned) - 1
            break
        if len(scanned) >= HEADER_SCAN_ROWS:
            break
    if header_at is None:
        raise FormatError("no header row names the service code, the period and the channel "
                          "(事项编码, 统计月份, 办理渠道) in the first "
                          f"{HEADER_SCAN_ROWS} rows")
    header = [str(c).strip() for c in scanned[header_at][1]]
    source_lines = array.array("l")
    with open(out, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for line, row in rows:
            cells = [_text(c) for c in row]
            if not any(cells):
                continue                     # blank rows between blocks
            writer.writerow(cells[:len(header)] + [""] * (len(header) - len(cells)))
            source_lines.append(line)
    return header, source_lines


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):           # a spreadsheet date cell in the period column
        return value.strftime("%Y-%m")
    return str(value).strip()


def _where(fmt: str, line: int) -> str:
    return f"item {line}" if fmt.startswith("json") else f"line {line}"


def _xlsx_standards(path: Path) -> list[dict]:
    """The standards sheet's rows as standards (none without the sheet); an
    unknown header is refused, naming it, rather than dropped unread."""
    import openpyxl
    try:
        book = openpyxl.load_workbook(open(path, "rb"), read_only=True, data_only=True)
    except Exception:
        return []      # to_platform_csv has said why already
    try:
        sheets = {tabular.fold(name): name for name in book.sheetnames}
        found = next((sheets[tabular.fold(n)] for n in STANDARDS_SHEETS if tabular.fold(n) in sheets), None)
        if found is None:
            return []
        rows = book[found].iter_rows(values_only=True)
        names = {tabular.fold(alias): column for column, aliases in STANDARD_COLUMNS.items() for alias in aliases}
        header = next(rows, None) or ()
        columns = []
        for cell in header:
            if cell in (None, ""):
                columns.append(None)
                continue
            if tabular.fold(cell) not in names:
                raise FormatError(f'sheet "{found}", header {cell!r}: not a standard\'s column '
                                  f"(the columns are {', '.join(STANDARD_COLUMNS)})")
            columns.append(names[tabular.fold(cell)])
        standards = []
        for row in rows:
            given = {c: v for c, v in zip(columns, row) if c and v not in (None, "")}
            if given:
                standards.append(_standard(given))
        return standards
    finally:
        book.close()


def _standard(given: dict[str, Any]) -> dict[str, Any]:
    """A standards sheet's row in the shape govservice_standards_set takes."""
    import datetime as dt
    standard: dict[str, Any] = {}
    for column, value in given.items():
        if isinstance(value, (dt.date, dt.datetime)):
            value = value.strftime("%Y-%m")          # a month Excel turned into a date
        elif column in ("service", "period_from", "kpi") and not isinstance(value, str):
            value = str(value)
        if column.startswith("wording_"):
            standard.setdefault("wording", {})["zh_Hans_CN" if column == "wording_zh" else "en"] = str(value)
        else:
            standard[column] = value
    return standard


def _send_standards(ckan, standards: list[dict]) -> dict[str, dict[str, list[str]]]:
    """Set the feed's standards (all or none, as the platform takes them); the
    refused ones by record ("<department>/<service>/<kpi>"), field and reason."""
    import ckanapi
    try:
        load.with_retries(lambda: ckan.action.govservice_standards_set(standards=standards, from_feed=True))
        return {}
    except ckanapi.ValidationError as e:
        refused: dict[str, dict[str, list[str]]] = {}
        for error in (e.error_dict or {}).get("standards") or []:
            if isinstance(error, dict):
                refused.setdefault(f"standard {error['record']}", {}).setdefault(
                    error["field"], []).append(f"standard {error['record']}: {error['field']} {error['reason']}")
        return refused or {"standards": {"standards": [load.error_sentence(e.error_dict)]}}
    except ckanapi.NotAuthorized as e:
        return {"standards": {"standards": [f"the platform refused the standards: {e}"]}}


def _fetch(source: dict) -> extract.Fetched:
    """The source's one file (statistics come whole, never as a paged feed)."""
    return extract.fetch(source["location"], etag=source["last_etag"],
                         last_modified=source["last_modified"],
                         headers=sources.credentials_headers(source.get("credentials_ref")),
                         local=bool(source.get("local")))


def run_job(conn_factory, job_id: int, source: dict, ckan) -> tuple[str, dict, str | None]:
    """Fetch, convert and load one statistics source; store each rejection.

    Returns (status, counts, error). A fetch or format failure loads nothing;
    a platform that refuses the whole file (no period column…) fails the job
    with its reason; rejected rows are reported while the rest land.
    """
    try:
        fetched = _fetch(source)
    except (ExtractError, FormatError) as e:
        return "failed", {}, str(e)
    if fetched.not_modified:
        return "done", {"rows": 0, "not_modified": True}, None
    with tempfile.TemporaryDirectory(prefix="govharvest-statistics-") as tmp:
        out = Path(tmp) / "statistics.csv"
        try:
            _, source_lines = to_platform_csv(fetched.path, source["format"], out)
            standards = feed_standards(fetched.path, source["format"], source["department"])
        except (FormatError, UnicodeDecodeError) as e:
            return "failed", {}, str(e)
        import ckanapi

        def upload():
            with open(out, "rb") as f:
                return ckan.action.govservice_statistics_load(
                    department=source["department"], upload=f)
        try:
            result = load.with_retries(upload)
        except ckanapi.ValidationError as e:
            return "failed", {}, f"the platform refused the file: {load.error_sentence(e.error_dict)}"
        except ckanapi.CKANAPIError as e:
            return "failed", {}, f"the platform could not load the file: {e}"
        standards_refused = _send_standards(ckan, standards) if standards else {}

    by_record: dict[str, dict[str, list[str]]] = {}
    for r in result["rejections"]:
        index = r["line"] - 2                # the platform's line 2 is the first data row
        line = source_lines[index] if 0 <= index < len(source_lines) else r["line"]
        value = "" if r.get("value") in (None, "") else f" ({r['value']!r})"
        by_record.setdefault(r["record"] or _where(source["format"], line), {}).setdefault(
            r["field"], []).append(f"{_where(source['format'], line)}: {r['field']}{value} {r['reason']}")
    for record, errors in standards_refused.items():
        by_record.setdefault(record, {}).update(errors)
    with conn_factory() as conn:
        for record, errors in by_record.items():
            db.note_outcome(conn, job_id, record, "rejected", errors=errors)
        db.remember_validators(conn, source["id"], fetched.etag, fetched.last_modified)
    counts = {k: result[k] for k in ("rows", "inserted", "updated", "unchanged", "rejected")}
    counts["new"], counts["changed"] = result["inserted"], result["updated"]
    if result.get("ignored_columns"):
        counts["ignored_columns"] = result["ignored_columns"]
    if standards:
        counts["standards"] = 0 if standards_refused else len(standards)
        counts["rejected"] += len(standards_refused)
    return "done", counts, None
