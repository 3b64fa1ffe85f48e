"""Generate the feed templates (datasets/templates/) and the field tables of the
format pages (datasets/formats/*.md) from the schemas.

    .venv/bin/python datasets/make_templates.py [--out DIR] [--formats DIR]

Nothing here lists a field: the columns are the service schema's bulk-file
columns (``ckanext.govservice.core.tabular``) less what a department never sends
(derived fields, the provenance the harvesters set, the department, which the
source's registration names); the statistics columns are statistics.yaml's.
Only the example values are typed here, keyed by field name: an optional field
the schema gains gets an empty example cell until one is typed here, and a
required field without an example value stops the generator — so a template
never teaches a row the platform would reject. Deterministic: the same schemas write the same
bytes (XLSX timestamps are pinned), and datasets/tests/unit/test_templates.py keeps the
committed files equal to what this script writes.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterable

from ckanext.govservice.core import kpis as stats, queues, schema, tabular as catalogue

HERE = Path(__file__).resolve().parent


def _demo_generator():
    """datasets/demo/generate.py, by its path (for its pinned-timestamp XLSX)."""
    spec = importlib.util.spec_from_file_location("demo_generate", HERE / "demo" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


_demo = _demo_generator()
FIXED_TIME, _fixed_zip = _demo.FIXED_TIME, _demo._fixed_zip

TEMPLATES = HERE / "templates"
FORMATS = HERE / "formats"
ZH, EN = schema.LANGUAGES
XLSX_ROWS = 1000          # rows below the header that get the drop-down lists

# ---------------------------------------------------------------- the example service and statistics rows

EXAMPLE_SERVICE: dict[str, Any] = {
    "service_code": "ZRZY-DJ-0012",
    "basic_code": "330000-QR-0123-01",
    "implementation_code": "11330100MB0000103Q2000100012",
    "name": None,   # left empty: the platform makes it from the department and the code
    "title": "国有建设用地使用权及房屋所有权转移登记",
    "title_en": "Registering the transfer of a home and its land use right",
    "notes": "买卖、赠与、继承等导致房屋及其国有建设用地使用权转移的，办理转移登记并核发不动产权证书。",
    "notes_en": "When a home changes hands (sale, gift, inheritance), registers the new owner "
                "and issues the real estate title certificate.",
    "service_type": "administrative_confirmation",
    "themes": ["housing", "natural_resources"],
    "life_events": ["buying_a_home"],
    "audience": "both",
    "co_departments": [
        {"name": "国家税务总局滨江市税务局", "role": "一窗受理，同步核验契税缴纳"},
    ],
    "legal_basis": [
        {"title": "不动产登记暂行条例", "article": "第十四条",
         "url": "https://www.example.gov.cn/laws/real-estate-registration"},
        {"title": "不动产登记暂行条例实施细则", "article": "第三十八条"},
    ],
    "eligibility": "房屋已办理首次登记，买卖双方身份明确，已缴清相关税费。",
    "eligibility_en": "The home is already registered, both parties are identified "
                      "and the taxes on the transfer are paid.",
    "documents": [   # by catalogue code (材料目录); a document without one is matched by its name
        {"code": "330100-CL-0003", "name": "不动产登记申请书", "name_en": "Application form", "mandatory": True,
         "form": "original", "issued_by": "applicant", "copies": 1},
        {"code": "330100-CL-0001", "name": "申请人身份证明", "name_en": "Proof of identity", "mandatory": True,
         "form": "original_and_copy", "issued_by": "applicant", "copies": 1},
        {"code": "330100-CL-0014", "name": "不动产权属证书", "name_en": "Current title certificate", "mandatory": True,
         "form": "original", "issued_by": "government", "copies": 1},
        {"name": "完税凭证", "name_en": "Tax receipt", "mandatory": False,
         "form": "electronic", "issued_by": "government"},
    ],
    "intermediary_services": [
        {"name": "房屋测绘", "provider": "具备测绘资质的单位", "legal_basis": "中华人民共和国测绘法 第二十七条"},
    ],
    "process_steps": [
        {"name": "申请", "description": "网上或窗口提交申请材料"},
        {"name": "受理", "description": "材料齐全的当场受理", "time_limit": 1, "time_limit_unit": "working_days"},
        {"name": "审核", "description": "核查权属和税费缴纳情况", "time_limit": 3, "time_limit_unit": "working_days"},
        {"name": "登簿"},
        {"name": "发证", "description": "窗口领取或邮寄送达", "time_limit": 1, "time_limit_unit": "working_days"},
    ],
    "special_procedures": [
        {"name": "公告", "time_limit": 15, "time_limit_unit": "working_days",
         "description": "依法需要公告的，公告时间不计入办结时限。"},
    ],
    "statutory_limit": 30,
    "statutory_limit_unit": "working_days",
    "committed_limit": 5,
    "committed_limit_unit": "working_days",
    "fees": [
        {"name": "不动产登记费（住宅）", "amount": "80.00", "currency": "CNY",
         "basis": "发改价格规〔2016〕2559号"},
    ],
    "channels": [
        {"channel_type": "online", "name": "滨江市政务服务网",
         "url": "https://zwfw.binjiang.example.gov.cn/item/ZRZY-DJ-0012"},
        {"channel_type": "mobile", "name": "浙里办", "url": "https://m.binjiang.example.gov.cn/bdc"},
        {"channel_type": "in_person", "name": "市民中心不动产登记窗口",
         "address": "滨江市江南大道1号市民中心二楼", "opening_hours": "周一至周五 9:00-12:00 13:30-17:00",
         "phone": "0571-8765 4321"},
    ],
    "online_depth": ["registration", "authentication", "application", "feedback"],
    "handling_scope": "citywide",
    "in_person_visits": 1,
    "output_type": "certificate",
    "output_name": "不动产权证书",
    "output_validity": 70,          # the land use right's term, printed on the certificate
    "output_validity_unit": "years",
    "output_sample_url": "https://zwfw.binjiang.example.gov.cn/samples/bdcqzs.pdf",
    "reminders": [   # when the service becomes due: after buying a home, moving in
        {"trigger": "moving_home", "offset": 30, "offset_unit": "days", "direction": "after",
         "prepare": "购房合同、完税凭证", "prepare_en": "The purchase contract and the tax receipt"},
        {"trigger": "output_expiry", "offset": 1, "offset_unit": "years", "direction": "before",
         "renews_basic_code": "330000-QR-0123-01",   # the land use right's term runs out
         "prepare": "不动产权证书", "prepare_en": "The title certificate"},
    ],
    "contact_phone": "0571-8765 4321",
    "complaint_phone": "12345",
    "contact_points": [
        {"purpose": "enquiry", "phone": "0571-8765 4321", "url": "https://zrzy.binjiang.example.gov.cn/zxzx",
         "address": "滨江市江南大道1号市民中心二楼", "opening_hours": "周一至周五 9:00-12:00 13:30-17:00"},
        {"purpose": "complaint", "phone": "12345", "email": "jdts@zrzy.binjiang.example.gov.cn",
         "url": "https://12345.binjiang.example.gov.cn"},
    ],
    "status": "active",
    "valid_from": "2026-01-01",
    "valid_to": "2030-12-31",
    "version": "2026.1",
}

# The two catalogues a service refers to, one example entry each (issue 16): the basic
# item it implements (basic_item.yaml) and a document it asks for (document.yaml).
EXAMPLE_BASIC_ITEM: dict[str, Any] = {
    "basic_code": "330000-QR-0123-01",
    "name": None,   # left empty: the platform makes it from the code (item-330000-qr-0123-01)
    "title": "国有建设用地使用权及房屋所有权转移登记（存量房买卖）",
    "title_en": "Registering the transfer of a home and its land use right (resale)",
    "notes": "存量房买卖导致房屋及其国有建设用地使用权转移的，办理转移登记。",
    "service_type": "administrative_confirmation",
    "set_by_level": "province",
    "legal_basis": [{"title": "不动产登记暂行条例", "article": "第十四条",
                     "url": "https://www.example.gov.cn/laws/real-estate-registration"}],
    "statutory_limit": 30,
    "statutory_limit_unit": "working_days",
    "standard_limit": 5,
    "standard_limit_unit": "working_days",
    "standard_visits": 1,
    "standard_documents": [
        {"code": "330100-CL-0003", "name": "申请表", "mandatory": True},
        {"code": "330100-CL-0001", "name": "居民身份证", "mandatory": True},
        {"code": "330100-CL-0014", "name": "不动产权证书", "mandatory": True},
        {"code": "330100-CL-0005", "name": "授权委托书", "mandatory": False},
    ],
    "status": "active",
}
EXAMPLE_DOCUMENT: dict[str, Any] = {
    "document_code": "330100-CL-0014",
    "name": None,   # left empty: made from the code (document-330100-cl-0014)
    "title": "不动产权证书",
    "title_en": "Real estate title certificate",
    "aliases": ["房产证", "不动产证", "不动产权属证书"],
    "notes": "已纳入电子证照库，办理时由窗口调取，申请人无需提交。",
    "issuing_authority": "不动产登记机构",
    "government_holds": "electronic_licence",
    "status": "active",
}
# A service centre (issue 17, service_centre.yaml): two counters, one listing the example service.
EXAMPLE_CENTRE: dict[str, Any] = {
    "centre_code": "330100-DT-REAL-ESTATE",
    "name": None,   # left empty: made from the code (centre-330100-dt-real-estate)
    "title": "市不动产登记服务中心",
    "title_en": "Real Estate Registration Centre",
    "notes": "不动产登记、抵押和查询，一窗受理。",
    "address": "滨江市秋涛路108号",
    "latitude": 30.261,
    "longitude": 120.2003,
    "opening_hours": "Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00",
    "phone": "0571-89581000",
    "appointment_url": "https://yuyue.binjiang.example.gov.cn/real-estate",
    "accessibility": ["step_free_access", "accessible_toilet", "priority_window"],
    "counters": [
        {"counter_number": "01", "counter_name": "综合受理窗口", "implementation_codes": ["11330100MB0000103Q2000100012"]},
        {"counter_number": "02", "counter_name": "抵押登记窗口", "implementation_codes": ["11330100MB0000103Q2000100027"]},
    ],
    "status": "active",
}
CATALOGUE_EXAMPLES = {"basic_item": EXAMPLE_BASIC_ITEM, "document": EXAMPLE_DOCUMENT,
                      "service_centre": EXAMPLE_CENTRE}

# Two months with figures (in person, with its appointments and waits, first: a JSON
# row's keys give the columns' order; then online) and one the department has no
# figures for ("no data" is not zero).
EXAMPLE_STATISTICS: list[dict[str, Any]] = [
    {"service_code": "ZRZY-DJ-0012", "department": "natural-resources", "period": "2026-09",
     "channel": "in_person", "received": 64, "completed": 60, "completed_on_time": 58,
     "completed_online": 0, "mean_processing_days": 4.1, "rating_very_satisfied": 30,
     "rating_satisfied": 18, "rating_basically_satisfied": 6, "rating_dissatisfied": 1,
     "rating_very_dissatisfied": 0, "ratings": 55, "bad_reviews": 1, "bad_reviews_rectified": 1,
     "enquiries": 22, "appointments_made": 48, "appointments_kept": 41, "served": 64,
     "served_within_30_minutes": 52, "wait_minutes_mean": 17.5, "wait_minutes_p90": 38,
     "no_data": False, "note": None},
    {"service_code": "ZRZY-DJ-0012", "department": "natural-resources", "period": "2026-10",
     "channel": "online", "received": 120, "completed": 112, "completed_on_time": 110,
     "completed_online": 112, "mean_processing_days": 3.4, "rating_very_satisfied": 60,
     "rating_satisfied": 25, "rating_basically_satisfied": 8, "rating_dissatisfied": 2,
     "rating_very_dissatisfied": 1, "ratings": 96, "bad_reviews": 3, "bad_reviews_rectified": 3,
     "enquiries": 40, "appointments_made": None, "appointments_kept": None, "served": None,
     "served_within_30_minutes": None, "wait_minutes_mean": None, "wait_minutes_p90": None,
     "no_data": False, "note": None},
    {"service_code": "ZRZY-DJ-0012", "department": "natural-resources", "period": "2026-10",
     "channel": "in_person", "received": None, "completed": None, "completed_on_time": None,
     "completed_online": None, "mean_processing_days": None, "rating_very_satisfied": None,
     "rating_satisfied": None, "rating_basically_satisfied": None, "rating_dissatisfied": None,
     "rating_very_dissatisfied": None, "ratings": None, "bad_reviews": None,
     "bad_reviews_rectified": None, "enquiries": None, "appointments_made": None, "appointments_kept": None, "served": None,
     "served_within_30_minutes": None, "wait_minutes_mean": None, "wait_minutes_p90": None,
     "no_data": True,
     "note": "窗口办件系统升级，本月无数据"},
]

# ---------------------------------------------------------------- what a department sends

def template_fields() -> list[dict[str, Any]]:
    """The bulk-file fields a department sends, in schema order: what the harvesters
    keep (normalise.FIELDS: no derived fields, no provenance) less the department,
    which comes from the source's registration."""
    sent = schema.input_fields()
    return [f for f in catalogue.catalogue_fields()
            if f["field_name"] in sent and f["field_name"] != "owner_org"]


def catalogue_template_fields(dataset_type: str) -> list[dict[str, Any]]:
    """The fields a catalogue's publisher sends (basic_item.yaml, document.yaml), in
    schema order: all but the provenance the harvesters set and the publisher, which
    the source's registration names."""
    return [f for f in schema.load(dataset_type)["dataset_fields"]
            if f.get("govservice_column") and f["field_name"] != "owner_org"
            and f["field_name"] not in schema.PROVENANCE and not f.get("govservice_derived")]


def _check_examples() -> None:
    for dataset_type, example in CATALOGUE_EXAMPLES.items():
        names = [f["field_name"] for f in catalogue_template_fields(dataset_type)]
        if [n for n in names if n not in example] or [n for n in example if n not in names]:
            raise SystemExit(f"make_templates' example {dataset_type} is out of step with {dataset_type}.yaml: "
                             f"fields {names}, example {list(example)}")
    names = [f["field_name"] for f in template_fields()]
    # An optional field added to the schema gets an empty example cell; a required
    # one must have an example value, or the template would teach a rejected row.
    missing = [f["field_name"] for f in template_fields()
               if f["field_name"] not in EXAMPLE_SERVICE and f.get("required")]
    extra = [n for n in EXAMPLE_SERVICE if n not in names]
    if missing or extra:
        raise SystemExit(f"make_templates.EXAMPLE_SERVICE is out of step with service.yaml: "
                         f"no example for {missing}, not a template field: {extra}")
    columns = stats.column_names()
    for row in EXAMPLE_STATISTICS:
        if list(row) != columns:
            raise SystemExit("make_templates.EXAMPLE_STATISTICS must have statistics.yaml's "
                             f"columns in order: {columns}")


# How the format pages name each field kind (schema.field_kind).
KIND_WORDS = {"integer": "whole number", "money": "amount", "boolean": "true/false",
              "url": "web address"}


def kind(f: dict[str, Any]) -> str:
    kind = schema.field_kind(f)
    return KIND_WORDS.get(kind, kind)


def required(f: dict[str, Any]) -> bool:
    return bool(f.get("required"))


def _codes(f: dict[str, Any], lang: str | None = None) -> str:
    if lang is None:
        return ", ".join(c["value"] for c in schema.choices(f))
    return "; ".join(f'{c["value"]} = {schema.label(c, ZH)} / {schema.label(c, EN)}'
                     for c in schema.choices(f))


def _help(f: dict[str, Any], lang: str) -> str:
    text = f.get("help_text") or ""
    return (text.get(lang) or "") if isinstance(text, dict) else text


# ---------------------------------------------------------------- cells

def service_header(lang: str = ZH) -> list[str]:
    return [schema.label(f, lang) for f in template_fields()]


def service_cells() -> list[Any]:
    """The example row as the platform's own bulk files write it (catalogue.service_row):
    lists of codes joined by ';', repeating fields as compact JSON text, numbers kept
    as numbers (an XLSX number cell), formula-like text neutralised."""
    row = catalogue.service_row(EXAMPLE_SERVICE)
    return [catalogue.neutralise(row[f["govservice_column"]]) for f in template_fields()]


def _csv_bytes(rows: Iterable[list[Any]], bom: bool) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode("utf-8-sig" if bom else "utf-8")


# ---------------------------------------------------------------- writers

def services_csv() -> bytes:
    """UTF-8 with BOM (Excel opens Chinese text correctly), Chinese headers, one example row."""
    return _csv_bytes([service_header(), service_cells()], bom=True)


def field_rows() -> list[list[str]]:
    """The "字段说明" sheet: one row a column, then one row a subfield of a repeating column."""
    rows = [["列名 column", "中文表头", "English header", "必填 required", "类型 kind",
             "可选值 allowed values", "填写说明", "Help"]]
    for f in template_fields():
        rows.append([f["govservice_column"], schema.label(f, ZH), schema.label(f, EN),
                     "是 yes" if required(f) else "", kind(f), _codes(f, ZH), _help(f, ZH), _help(f, EN)])
        for sub in f.get("repeating_subfields", []):
            rows.append([f'{f["govservice_column"]}[].{sub["field_name"]}', schema.label(sub, ZH),
                         schema.label(sub, EN), "是 yes" if required(sub) else "", kind(sub),
                         _codes(sub, ZH), "", ""])
    return rows


def services_xlsx() -> bytes:
    import datetime as dt

    import openpyxl
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "事项清单"
    sheet.append(service_header())
    sheet.append(service_cells())
    sheet.freeze_panes = "A2"
    for i, f in enumerate(template_fields(), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = 18
        if schema.choices(f) and kind(f) == "code":
            # a drop-down of the codes (one value a cell; lists of codes are typed "a;b")
            codes = ",".join(c["value"] for c in schema.choices(f))
            check = DataValidation(type="list", formula1=f'"{codes}"', allow_blank=True, showErrorMessage=True, errorTitle=schema.label(f, ZH),
                                   error=f"请选择：{_codes(f)}")
            letter = get_column_letter(i)
            check.add(f"{letter}2:{letter}{XLSX_ROWS + 1}")
            sheet.add_data_validation(check)
    about = book.create_sheet("字段说明（Fields）")
    for row in field_rows():
        about.append(row)
    about.freeze_panes = "A2"
    stamp = dt.datetime(*FIXED_TIME)
    book.properties.created = book.properties.modified = stamp
    book.properties.creator = "GovService"
    book.properties.title = "政务服务事项采集模板 / Service feed template"
    buf = io.BytesIO()
    book.save(buf)
    return _fixed_zip(buf.getvalue())


def feed_service() -> dict[str, Any]:
    """The example service as the JSON feed carries it: keyed by field name, real lists and numbers."""
    return {f["field_name"]: EXAMPLE_SERVICE[f["field_name"]] for f in template_fields()
            if EXAMPLE_SERVICE.get(f["field_name"]) is not None}


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def services_feed() -> bytes:
    return _json({"page": 1, "pages": 1, "count": 1, "services": [feed_service()], "next": None})


def _statistics_text(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


def statistics_csv() -> bytes:
    """Chinese headers (statistics.yaml's labels), one row with figures, one "no data"."""
    header = [schema.label(c, ZH) for c in stats.columns()]
    rows = [[_statistics_text(r[c]) for c in stats.column_names()] for r in EXAMPLE_STATISTICS]
    return _csv_bytes([header, *rows], bom=True)


def statistics_json() -> bytes:
    return _json({"statistics": [{k: v for k, v in r.items() if v is not None} for r in EXAMPLE_STATISTICS]})


# A centre's queue at one minute: a service with appointments, one without.
EXAMPLE_QUEUE: list[dict[str, Any]] = [
    {"centre_code": "BJ-HALL", "implementation_code": "11330100MB0000103Q2000100012",
     "observed_at": "2026-03-02T09:15:00+08:00", "tickets_waiting": 12, "estimated_wait_minutes": 35,
     "appointments_left_today": 8},
    {"centre_code": "BJ-HALL", "implementation_code": "11330100MB0000103Q2000100027",
     "observed_at": "2026-03-02T09:15:00+08:00", "tickets_waiting": 3, "estimated_wait_minutes": 9,
     "appointments_left_today": None},
]


def queues_csv() -> bytes:
    """Chinese headers (queues.yaml's labels), the example rows."""
    header = [schema.label(c, ZH) for c in queues.columns()]
    rows = [["" if r[c] is None else str(r[c]) for c in queues.column_names()] for r in EXAMPLE_QUEUE]
    return _csv_bytes([header, *rows], bom=True)


def queues_json() -> bytes:
    return _json({"queues": EXAMPLE_QUEUE})


def catalogue_cells(dataset_type: str) -> list[Any]:
    """A catalogue's example entry as bulk-file cells (as a service's: lists joined by
    ';', repeating fields as compact JSON text)."""
    example = CATALOGUE_EXAMPLES[dataset_type]
    return [catalogue.neutralise(catalogue._cell(f, example[f["field_name"]]))
            for f in catalogue_template_fields(dataset_type)]


def catalogue_csv(dataset_type: str) -> bytes:
    header = [schema.label(f, ZH) for f in catalogue_template_fields(dataset_type)]
    return _csv_bytes([header, catalogue_cells(dataset_type)], bom=True)


def catalogue_feed_entry(dataset_type: str) -> dict[str, Any]:
    example = CATALOGUE_EXAMPLES[dataset_type]
    return {f["field_name"]: example[f["field_name"]] for f in catalogue_template_fields(dataset_type)
            if example.get(f["field_name"]) is not None}


def catalogue_json(dataset_type: str, key: str) -> bytes:
    """The catalogue's JSON file ({"basic_items": [...]} / {"documents": [...]})."""
    return _json({key: [catalogue_feed_entry(dataset_type)]})


TEMPLATE_FILES = {
    "services-template.csv": services_csv,
    "services-template.xlsx": services_xlsx,
    "services-feed-example.json": services_feed,
    "statistics-template.csv": statistics_csv,
    "statistics-example.json": statistics_json,
    "queues-template.csv": queues_csv,
    "queues-example.json": queues_json,
    "basic-items-template.csv": lambda: catalogue_csv("basic_item"),
    "basic-items-example.json": lambda: catalogue_json("basic_item", "basic_items"),
    "documents-template.csv": lambda: catalogue_csv("document"),
    "documents-example.json": lambda: catalogue_json("document", "documents"),
    "service-centres-template.csv": lambda: catalogue_csv("service_centre"),
    "service-centres-example.json": lambda: catalogue_json("service_centre", "service_centres"),
}

# ---------------------------------------------------------------- the tables in the format pages

def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _value_text(f: dict[str, Any]) -> str:
    if schema.choices(f):
        return ", ".join(f'`{c["value"]}` {schema.label(c, ZH)}' for c in schema.choices(f))
    return ""


def services_fields_table() -> str:
    rows = []
    for f in template_fields():
        rows.append([f'`{f["govservice_column"]}`', schema.label(f, ZH), schema.label(f, EN),
                     "yes" if required(f) else "", kind(f), _value_text(f), _help(f, EN)])
    return _table(["column", "中文表头", "English header", "required", "kind", "values", "notes"], rows)


def subfields_table() -> str:
    rows = []
    for f in template_fields():
        for sub in f.get("repeating_subfields", []):
            rows.append([f'`{f["govservice_column"]}`', f'`{sub["field_name"]}`', schema.label(sub, ZH),
                         schema.label(sub, EN), "yes" if required(sub) else "", kind(sub), _value_text(sub)])
    return _table(["column", "key", "中文", "English", "required", "kind", "values"], rows)


JSON_TYPES = {"rows": "list of objects", "list": "list of codes", "whole number": "number",
              "amount": "number or text", "true/false": "boolean"}


def feed_fields_table() -> str:
    rows = []
    for f in template_fields():
        if f.get("repeating_subfields"):
            values = ", ".join(f'`{s["field_name"]}`' + ("*" if required(s) else "")
                               for s in f["repeating_subfields"])
        else:
            values = _value_text(f)
        rows.append([f'`{f["field_name"]}`', schema.label(f, EN), "yes" if required(f) else "",
                     JSON_TYPES.get(kind(f), "text"), values])
    return _table(["key", "field", "required", "JSON type", "values (codes) or object keys (* required)"], rows)


def statistics_fields_table() -> str:
    rows = []
    for c in stats.columns():
        aliases = ", ".join(c.get("aliases", []))
        rows.append([f'`{c["name"]}`', schema.label(c, ZH), schema.label(c, EN), aliases,
                     "yes" if c.get("required") else "", c["type"],
                     stats._text(c, "description", EN)])
    return _table(["column", "中文表头", "English header", "also accepted", "required", "type", "meaning"], rows)


def queue_fields_table() -> str:
    rows = []
    for c in queues.columns():
        rows.append([f'`{c["name"]}`', schema.label(c, ZH), schema.label(c, EN), ", ".join(c.get("aliases", [])),
                     "yes" if c.get("required") else "", c["type"], schema.text(c, "description", EN)])
    return _table(["column", "中文表头", "English header", "also accepted", "required", "type", "meaning"], rows)


def renamed_keys() -> str:
    """The fields whose JSON key (field name) is not their bulk-file column name."""
    return ", ".join(f'`{f["field_name"]}` (not `{f["govservice_column"]}`)' for f in template_fields()
                     if f["field_name"] != f["govservice_column"])


def channel_codes() -> str:
    vocabulary = schema.vocabulary_field(schema.field("channels"))
    return ", ".join(f'`{c["value"]}` {schema.label(c, ZH)}' for c in schema.choices(vocabulary))


def catalogue_fields_table(dataset_type: str) -> str:
    rows = []
    for f in catalogue_template_fields(dataset_type):
        if f.get("repeating_subfields"):
            values = ", ".join(f'`{s["field_name"]}`' + ("*" if required(s) else "") for s in f["repeating_subfields"])
        else:
            values = _value_text(f)
        rows.append([f'`{f["govservice_column"]}`', f'`{f["field_name"]}`', schema.label(f, ZH), schema.label(f, EN),
                     "yes" if required(f) else "", kind(f), values, _help(f, EN)])
    return _table(["column", "JSON key", "中文表头", "English header", "required", "kind",
                   "values (codes) or object keys (* required)", "notes"], rows)


PAGE_BLOCKS = {
    "services-csv-xlsx.md": {"fields": services_fields_table, "subfields": subfields_table},
    "catalogues.md": {"basic-item-fields": lambda: catalogue_fields_table("basic_item"),
                      "document-fields": lambda: catalogue_fields_table("document")},
    "service-centres.md": {"centre-fields": lambda: catalogue_fields_table("service_centre")},
    "json-feed.md": {"fields": feed_fields_table, "subfields": subfields_table, "renamed": renamed_keys},
    "statistics.md": {"fields": statistics_fields_table, "channels": channel_codes},
    "queues.md": {"fields": queue_fields_table},
}


def fill(page: str, text: str) -> str:
    """The page with each ``<!-- NAME:start -->`` … ``<!-- NAME:end -->`` block regenerated."""
    for name, make in PAGE_BLOCKS[page].items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{page} has no <!-- {name}:start --> … <!-- {name}:end --> block")
        body = make()
        text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    return text


# ---------------------------------------------------------------- all of it

def generate(out: Path = TEMPLATES, formats: Path = FORMATS) -> list[Path]:
    """Write the templates into ``out`` and refill the tables of the pages in ``formats``."""
    _check_examples()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in TEMPLATE_FILES.items():
        (out / name).write_bytes(make())
        written.append(out / name)
    for page in PAGE_BLOCKS:
        path = formats / page
        text = path.read_text(encoding="utf-8")
        filled = fill(page, text)
        if filled != text:
            path.write_text(filled, encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=TEMPLATES, help="where the templates go")
    parser.add_argument("--formats", type=Path, default=FORMATS, help="the format pages to refill")
    args = parser.parse_args()
    for path in generate(args.out, args.formats):
        print(f"{path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
