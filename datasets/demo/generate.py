"""Generate the demo city's data: departments, service feeds, monthly statistics.

    .venv/bin/python datasets/demo/generate.py [--out DIR]

Seeded and deterministic: the same code writes the same bytes (XLSX files get
fixed timestamps), so the output in datasets/demo/city/ is committed and a test
(datasets/tests/unit/test_demo_city.py) keeps it equal to what this script writes.

The services are written in each department's own format with the platform's
own writers (the bulk-file columns of ``ckanext.govservice.core.tabular``, the
CPSV-AP graph of ``ckanext.govservice.core.cpsv``, the Open311 entries of
``ckanext.govservice.core.open311``), so the harvesters read back what the
platform would publish. A few records and statistics rows carry planted
mistakes, listed in city/planted-mistakes.json and datasets/demo/README.md.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import math
import random
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

from ckanext.govservice.core import cpsv, open311, rules as service_rules, schema
from ckanext.govservice.core import kpis as stats, tabular as catalogue

HERE = Path(__file__).resolve().parent


def _sibling(name: str):
    """A module of this folder, by its path: this script runs as a file
    (``python datasets/demo/generate.py``) and is loaded by path by the tests."""
    spec = importlib.util.spec_from_file_location(f"demo_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


data = _sibling("catalogue_data")
in_person = _sibling("in_person")   # appointments and waits at the counters (issue 17)
reminders = _sibling("reminders")   # when services become due (issue 17)

SEED = 20261031
FIRST_PERIOD, LAST_PERIOD, MONTHS = "2023-11", "2026-10", 36
FIXED_TIME = (2026, 10, 31, 0, 0, 0)
DEPARTMENT_SITE = "https://{abbr}.binjiang.example.gov.cn"

# name, zh, en, level (district key or None), pinyin abbreviation, feed, statistics format
DEPARTMENTS = [
    ("market-regulation", "滨江市市场监督管理局", "Binjiang Market Regulation Bureau", None, "SJJ", "json", "csv"),
    ("public-security", "滨江市公安局", "Binjiang Public Security Bureau", None, "GAJ", "csv-gbk", "csv"),
    ("human-resources-social-security", "滨江市人力资源和社会保障局", "Binjiang Human Resources and Social Security Bureau", None, "RSJ", "xlsx", "csv"),
    ("taxation", "国家税务总局滨江市税务局", "Binjiang Taxation Bureau, State Taxation Administration", None, "SWJ", "json", "json"),
    ("civil-affairs", "滨江市民政局", "Binjiang Civil Affairs Bureau", None, "MZJ", "csv-bom", "csv"),
    ("health", "滨江市卫生健康委员会", "Binjiang Health Commission", None, "WJW", "csv-en", "csv"),
    ("transport", "滨江市交通运输局", "Binjiang Transport Bureau", None, "JTJ", "xlsx-en", "csv"),
    ("housing-construction", "滨江市住房和城乡建设局", "Binjiang Housing and Urban-Rural Development Bureau", None, "ZJJ", "csv", "csv"),
    ("natural-resources", "滨江市自然资源和规划局", "Binjiang Natural Resources and Planning Bureau", None, "ZRZY", "csv-gb18030", "csv"),
    ("education", "滨江市教育局", "Binjiang Education Bureau", None, "JYJ", "json-file", "csv"),
    ("ecology-environment", "滨江市生态环境局", "Binjiang Ecology and Environment Bureau", None, "STHJ", "xlsx", "csv"),
    ("culture-tourism", "滨江市文化广电旅游局", "Binjiang Culture, Radio, Television and Tourism Bureau", None, "WGLJ", "json", "csv"),
    ("agriculture-rural", "滨江市农业农村局", "Binjiang Agriculture and Rural Affairs Bureau", None, "NYNC", "csv-gbk", "csv"),
    ("medical-security", "滨江市医疗保障局", "Binjiang Healthcare Security Bureau", None, "YBJ", "json", "json"),
    ("housing-provident-fund", "滨江市住房公积金管理中心", "Binjiang Housing Provident Fund Centre", None, "GJJ", "cpsv", "json"),
    ("urban-management", "滨江市城市管理局", "Binjiang Urban Management Bureau", None, "CGJ", "open311", "csv"),
    ("dongcheng-administrative-approval", "滨江市东城区行政审批局", "Dongcheng District Administrative Approval Bureau", "dongcheng", "DCSP", "xlsx-title", "csv"),
    ("dongcheng-civil-affairs", "滨江市东城区民政局", "Dongcheng District Civil Affairs Bureau", "dongcheng", "DCMZ", "csv-gbk", "csv-department"),
    ("linjiang-market-regulation", "滨江市临江区市场监督管理局", "Linjiang District Market Regulation Bureau", "linjiang", "LJSJ", "json", "csv"),
    ("linjiang-human-resources-social-security", "滨江市临江区人力资源和社会保障局", "Linjiang District Human Resources and Social Security Bureau", "linjiang", "LJRS", "csv-bom", "csv"),
]

# District departments also carry the city services delegated to them (相对集中行政许可 /
# 事权下放): the district approval bureau takes the licences of several city bureaus.
DELEGATED = {
    "dongcheng-administrative-approval": [("health", "administrative_licence"), ("culture-tourism", "administrative_licence"),
                                          ("transport", "administrative_licence"), ("agriculture-rural", "administrative_licence"),
                                          ("housing-construction", "administrative_licence"),
                                          ("ecology-environment", "administrative_licence"),
                                          ("market-regulation", "administrative_licence"),
                                          ("human-resources-social-security", "administrative_licence")],
    "dongcheng-civil-affairs": [("civil-affairs", None)],
    "linjiang-market-regulation": [("market-regulation", None)],
    "linjiang-human-resources-social-security": [("human-resources-social-security", None)],
}

# How each feed format is written and registered.
FEEDS = {
    "json": {"format": "json", "file": "services.json", "note": "the platform's paginated JSON feed, served by the feed server at /feeds/<dept>/services"},
    "json-file": {"format": "json-file", "file": "services.json", "note": "one JSON document, pushed with govharvest push"},
    "csv": {"format": "csv", "file": "services.csv", "encoding": "utf-8", "headers": "zh"},
    "csv-bom": {"format": "csv", "file": "services.csv", "encoding": "utf-8-sig", "headers": "zh"},
    "csv-en": {"format": "csv", "file": "services.csv", "encoding": "utf-8", "headers": "column"},
    "csv-gbk": {"format": "csv", "file": "services.csv", "encoding": "gbk", "headers": "zh"},
    "csv-gb18030": {"format": "csv", "file": "services.csv", "encoding": "gb18030", "headers": "zh", "title_row": True},
    "xlsx": {"format": "xlsx", "file": "services.xlsx", "headers": "zh"},
    "xlsx-en": {"format": "xlsx", "file": "services.xlsx", "headers": "column", "title_row": True},
    "xlsx-title": {"format": "xlsx", "file": "services.xlsx", "headers": "zh", "title_row": True, "group_row": True},
    "cpsv": {"format": "cpsv", "file": "services.ttl", "note": "CPSV-AP 3.2 Turtle, as the platform writes it"},
    "open311": {"format": "open311", "file": "services.json", "note": "Open311 GeoReport v2 service list (JSON)"},
}
OPEN311_DEFAULTS = {"service_type": "administrative_licence", "audience": "both",
                    "committed_limit": 10, "committed_limit_unit": "working_days", "in_person_visits": 1}

# ---- one network: the basic item catalogue (基本目录) and the document catalogue (材料目录)
# Both are published by the city's government service office, an organisation of
# its own with no services, as two harvest sources harvested before the services.
PUBLISHER = ("government-service-office", "滨江市政务服务管理办公室", "Binjiang Government Service Administration Office", "ZWB")
CATALOGUE_FILES = {
    "basic_items": {"format": "json", "file": "basic_items.json",
                    "note": '{"basic_items": [...]}, one basic item a line; served by the feed server as '
                            'the paged JSON feed at /feeds/<dept>/basic_items'},
    "documents": {"format": "csv", "file": "documents.csv", "encoding": "utf-8", "headers": "zh"},
}
# A basic item is set by the province (its code starts 330000) or, for the city's own
# payments, rewards and public services, by the city (330100).
SET_BY_CITY = ("administrative_payment", "administrative_reward", "public_service")
# Departments that list their documents by name only (their own words, no catalogue
# code): the platform matches them to the catalogue by name and alias.
NAMES_ONLY = ("natural-resources", "dongcheng-civil-affairs", "linjiang-human-resources-social-security")
# Differences planted between implementations of one basic item (the comparison shows
# them): the city and Dongcheng commit 3 working days to a new food business licence,
# Linjiang 10 and asks for 2 more documents; the province's standard is 5.
DIFFERENCE = {"item": ("食品经营许可", "新办"), "standard_limit": 5,
              "committed": {"market-regulation": 3, "dongcheng-administrative-approval": 3,
                            "linjiang-market-regulation": 10},
              "more_documents": {"linjiang-market-regulation": ["health", "staff"]}}
# The basic item the province withdraws (merged into food production licensing) while
# the city and both districts still implement it: they are flagged, never deleted.
WITHDRAWN = ("小作坊登记", "首次登记")

# How well each department delivers, month by month (t = 0 … 35, 2023-11 … 2026-10):
# ``late`` is the share of applications completed after the committed limit, ``bad`` the
# share of ratings that are bad reviews, each a path (start, end, first month of the
# change): flat at start, then moving evenly to end by the last month. Services spread
# around their department's figure (a few are much worse), so some services miss the
# platform's standards (standards.json) where their department meets them.
#   natural-resources (real estate registration) slips from 2025-05: on time ~99% to ~85%;
#   public-security and dongcheng-administrative-approval recover (a new case system);
#   housing-construction slips late, below 95% for the last months; urban-management
#   hovers just under 95% (amber); human-resources-social-security's satisfaction slips
#   below 90% in the last year; linjiang-market-regulation's recovers.
QUALITY = {
    "natural-resources": {"late": (0.006, 0.16, 18), "bad": (0.01, 0.06, 18)},
    "public-security": {"late": (0.10, 0.02, 8), "bad": (0.04, 0.02, 8)},
    "dongcheng-administrative-approval": {"late": (0.08, 0.015, 12), "bad": (0.05, 0.02, 12)},
    "housing-construction": {"late": (0.02, 0.08, 26), "bad": (0.02, 0.04, 26)},
    "urban-management": {"late": (0.065, 0.06, 0), "bad": (0.06, 0.07, 0)},
    "human-resources-social-security": {"late": (0.015, 0.02, 0), "bad": (0.03, 0.13, 22)},
    "linjiang-market-regulation": {"late": (0.03, 0.02, 0), "bad": (0.12, 0.03, 10)},
    "transport": {"late": (0.045, 0.04, 0), "bad": (0.03, 0.03, 0)},
    "education": {"late": (0.01, 0.01, 0), "bad": (0.05, 0.04, 0)},
    "culture-tourism": {"late": (0.02, 0.03, 0), "bad": (0.02, 0.02, 0)},
    "agriculture-rural": {"late": (0.03, 0.025, 0), "bad": (0.025, 0.03, 0)},
    "ecology-environment": {"late": (0.04, 0.03, 0), "bad": (0.03, 0.02, 0)},
}
QUALITY_DEFAULT = {"late": (0.01, 0.008, 0), "bad": (0.015, 0.015, 0)}
# Bad reviews are followed up; these departments rectify only part of them.
RECTIFIED_SHARE = {"urban-management": 0.8, "housing-construction": 0.9}
# Months a department could not report (its system was being replaced / it joined late).
NO_DATA = {"education": ["2024-07", "2024-08"], "linjiang-human-resources-social-security": ["2023-11", "2023-12", "2024-01"]}
# The standards the data office sets for the demo city, and those departments set for
# themselves (written to standards.json; govservice_standards_set takes them as they are).
STANDARDS = [
    {"kpi": "on_time_rate", "target": 0.95},
    {"kpi": "satisfaction_rate", "target": 0.9},
    {"kpi": "digital_take_up", "target": 0.6},
    {"kpi": "on_time_rate", "department": "public-security", "target": 0.97, "period_from": "2026-01",
     "wording": {"zh_Hans_CN": "按时办结率不低于 97%（2026 年起）", "en": "On-time rate at least 97% (from 2026)"}},
    {"kpi": "digital_take_up", "department": "taxation", "target": 0.8,
     "wording": {"zh_Hans_CN": "网办率不低于 80%（本局承诺）", "en": "Digital take-up at least 80% (the bureau's own pledge)"}},
    {"kpi": "on_time_rate", "department": "natural-resources", "target": 0.9, "period_from": "2026-07",
     "wording": {"zh_Hans_CN": "整改期间按时办结率不低于 90%", "en": "On-time rate at least 90% while it recovers"}},
]
SEASON = [1.0, 1.02, 0.72, 1.08, 1.05, 1.02, 1.0, 1.03, 0.97, 1.0, 0.9, 1.0, 1.05]   # by calendar month, Feb = Spring Festival
DEPT_SEASON = {"education": {6: 1.6, 7: 2.2, 8: 2.0}, "taxation": {3: 1.5, 4: 1.6, 5: 1.7, 6: 1.4},
               "culture-tourism": {5: 1.3, 7: 1.3, 8: 1.3, 10: 1.4}, "civil-affairs": {2: 1.5, 5: 1.2},
               "dongcheng-civil-affairs": {2: 1.5, 5: 1.2}, "human-resources-social-security": {7: 1.4}}

STAT_COLUMNS = [c["name"] for c in stats.columns()]
STAT_CSV_COLUMNS = [c for c in STAT_COLUMNS if c != "department"]
FEED_FIELDS = [f for f in catalogue.catalogue_fields()
               if not f.get("govservice_derived") and f["field_name"] not in
               ("owner_org", "name", "source", "source_record_id", "harvested_at", "content_hash")]


def periods() -> list[str]:
    return [stats.shift_period(FIRST_PERIOD, i) for i in range(MONTHS)]


# ---------------------------------------------------------------- departments

def departments() -> list[dict[str, Any]]:
    out = []
    for i, (name, zh, en, district, abbr, feed, stat_format) in enumerate(DEPARTMENTS):
        area = data.DISTRICTS[district] if district else data.CITY
        spec = {k: v for k, v in FEEDS[feed].items()}
        registration = {"format": spec.pop("format"), "file": f"{name}/{spec.pop('file')}", **spec}
        if feed == "open311":
            registration["defaults"] = OPEN311_DEFAULTS
        stat_file = f"{name}/statistics.json" if stat_format == "json" else f"{name}/statistics.csv"
        out.append({
            "name": name, "title": zh, "title_en": en,
            "level": "district" if district else "city",
            "area": area["zh"], "area_code": area["area_code"],
            # a unified social credit code of the 11 (government body) kind
            "department_code": f"11{area['area_code']}{_credit_body(i)}",
            "abbreviation": abbr,
            "services": registration,
            "statistics": {"format": "json" if stat_format == "json" else "csv", "file": stat_file,
                           "has_department_column": stat_format in ("json", "csv-department")},
        })
    return out


def publisher() -> dict[str, Any]:
    """The organisation that publishes the basic item and document catalogues, and its two sources."""
    name, zh, en, abbr = PUBLISHER
    return {"name": name, "title": zh, "title_en": en, "level": "city", "area": data.CITY["zh"],
            "area_code": data.CITY["area_code"], "department_code": f"11{data.CITY['area_code']}{_credit_body(len(DEPARTMENTS))}",
            "abbreviation": abbr,
            **{kind: {**spec, "file": f"{name}/{spec['file']}"} for kind, spec in CATALOGUE_FILES.items()}}


def document_code(key: str) -> str:
    """A document's code in the catalogue: 330100-CL-0001 …, in DOCS order."""
    return f"{data.CITY['area_code']}-CL-{list(data.DOCS).index(key) + 1:04d}"


def _credit_body(i: int) -> str:
    digits = f"{(i * 7919 + 1021) % 10 ** 8:08d}"
    return "MB" + digits[:7] + "ABCDEFGHJKLMNPQRTUWXY"[i % 21]


# ---------------------------------------------------------------- services

VARIANTS = {
    "licence": [("新办", "new"), ("告知承诺制新办", "new, by written commitment"),
                ("名称变更", "change of name"), ("住所变更", "change of address"),
                ("负责人变更", "change of legal representative"), ("许可事项变更", "change of licensed scope"),
                ("延续", "renewal"), ("告知承诺制延续", "renewal, by written commitment"),
                ("注销", "cancellation"), ("补证", "replacement"), ("遗失补发", "reissue after loss")],
    "registration": [("首次登记", "first registration"), ("名称变更登记", "change of name"),
                     ("地址变更登记", "change of address"), ("其他事项变更登记", "other changes"),
                     ("更正登记", "correction"), ("注销登记", "cancellation"), ("补发", "replacement")],
    "payment": [("申领", "application"), ("银行账户变更", "change of bank account"),
                ("待遇标准变更", "change of rate"), ("暂停发放", "suspension"), ("恢复发放", "resumption"),
                ("终止", "termination"), ("补发", "back payment")],
    "service": [("个人办理", "individuals"), ("单位办理", "organisations"), ("委托代理人办理", "through an agent")],
    "single": [("", "")],
}
STEPS = {
    "administrative_licence": [("申请", "网上或窗口提交申请材料"), ("受理", "材料齐全、符合法定形式的当场受理"),
                               ("审查", "书面审查，必要时现场核查"), ("决定", "作出准予或不予许可的决定"), ("送达", "邮寄或窗口领取结果")],
    "default": [("申请", "网上或窗口提交申请材料"), ("受理", "当场核对材料"), ("审核", "审核申请事项"), ("办结", "出具办理结果")],
}
NOTES = {
    "administrative_licence": ("对符合法定条件的申请人办理{t}，核发{o}。", "Handles {e} for applicants who meet the legal conditions and issues the {oe}."),
    "administrative_confirmation": ("对申请事项进行审核确认，办理{t}。", "Checks and confirms the application: {e}."),
    "administrative_payment": ("对符合条件的申请人办理{t}，按规定发放{o}。", "{E}: paid to eligible applicants as the rules provide."),
    "administrative_ruling": ("依法受理并处理{t}。", "Receives and decides cases of {e}."),
    "administrative_reward": ("对符合条件的个人或单位给予奖励：{t}。", "Rewards eligible people or organisations: {e}."),
    "public_service": ("为{who}提供{t}服务。", "Provides {e} to {who_en}."),
    "other_administrative_power": ("依法办理{t}。", "Handles {e} as the law provides."),
}
ELIGIBILITY = {
    "business": ("依法设立的企业或其他组织，申请材料齐全、符合法定形式。", "A lawfully established business or organisation with complete documents."),
    "citizen": ("具有完全民事行为能力的本人，或其委托的代理人。", "The person concerned, or an agent the person authorises."),
    "both": ("符合条件的个人或单位。", "Eligible individuals or organisations."),
}
WHO = {"citizen": ("群众", "residents"), "business": ("企业", "businesses"), "both": ("群众和企业", "residents and businesses")}
PRESENCE_WORDS = ("婚", "身份证", "驾驶证", "护照", "通行证", "居留", "鉴定")
OUTPUT_EN = {"licence": "licence", "certificate": "certificate", "decision": "decision", "payment": "payment",
             "registration": "registration", "other": "result"}


def _items(name: str) -> list[tuple]:
    items = list(data.ITEMS[name])
    seen = {it[0] for it in items}
    for source, only_type in DELEGATED.get(name, []):
        for it in data.ITEMS[source]:
            if it[0] not in seen and (only_type is None or it[2] == only_type):
                items.append(it[:-1] + (None,))   # hall: the district's own centre
                seen.add(it[0])
    return items


def services(rng: random.Random, depts: list[dict[str, Any]]
             ) -> tuple[dict[str, list[dict[str, Any]]], dict[tuple[str, str], dict[str, Any]]]:
    """Every department's services, and the basic items they implement ((item, situation) ->
    basic item): a basic item is made from its first implementation (a city department's,
    where the city has the item), and every later one shares its code and statutory limit."""
    out: dict[str, list[dict[str, Any]]] = {}
    basics: dict[tuple[str, str], dict[str, Any]] = {}
    for d in depts:
        district = next((k for k, v in data.DISTRICTS.items() if v["area_code"] == d["area_code"]), None)
        rows = []
        for n, item in enumerate(_items(d["name"]), 1):
            variants = data.SITUATIONS.get(item[0]) or VARIANTS[item[3]]
            for v, variant in enumerate(variants, 1):
                # not every situation is listed for every item
                if v > 1 and rng.random() < 0.03:
                    continue
                rows.append(_service(rng, d, district, n, item, v, variant, basics))
        if d["services"]["format"] == "open311":
            # an Open311 list carries the services that can be applied for now, no others
            rows = [_as_open311_source(s) for s in rows if s["status"] == "active"]
        out[d["name"]] = rows
    _plant_differences(out, basics)
    return out, basics


def _basic_item(basics: dict, item: tuple, v: int, variant: tuple[str, str], s: dict[str, Any]) -> dict[str, Any]:
    """The basic item of (item, situation), made from this service if it is the first to implement it."""
    zh, stype = item[0], item[2]
    key = (zh, variant[0])
    if key not in basics:
        # an item's number: the order in which items are first implemented (its situations share it)
        numbers = {title: b["_number"] for (title, _), b in basics.items()}
        number = numbers.get(zh, len(numbers) + 1)
        area = data.CITY["area_code"] if stype in SET_BY_CITY else "330000"
        simple = any(w in variant[0] for w in ("注销", "补证", "补发", "遗失", "名称", "更正"))
        statutory = s.get("statutory_limit")
        if statutory is None:
            standard = 3
        else:
            standard = max(1, int(statutory * 0.2)) if simple else max(1, math.ceil(statutory * 0.5))
        if key == DIFFERENCE["item"]:
            standard = DIFFERENCE["standard_limit"]
        b = {"basic_code": f"{area}-{data.TYPE_CODES[stype]}-{number:04d}-{v:02d}",
             "title": s["title"], "title_en": s["title_en"], "service_type": stype,
             "set_by_level": "city" if stype in SET_BY_CITY else "province",
             "legal_basis": s["legal_basis"][:1]}
        if statutory is not None:
            b["statutory_limit"], b["statutory_limit_unit"] = statutory, s["statutory_limit_unit"]
        # the standard (working days, the schema's default unit); documents by code, the
        # catalogue names them, mandatory unless marked (both defaults left out: a smaller file)
        b["standard_limit"] = standard
        b["standard_visits"] = 1
        b["standard_documents"] = [{"code": doc["code"], **({} if doc["mandatory"] else {"mandatory": False})}
                                   for doc in s["documents"] if doc.get("code")]
        b["status"] = "withdrawn" if key == WITHDRAWN else "active"
        b["_number"] = number
        basics[key] = b
    return basics[key]


def _plant_differences(catalogue_by_dept: dict[str, list[dict[str, Any]]], basics: dict) -> None:
    """The same item run differently (DIFFERENCE): the comparison page's planted case."""
    code = basics[DIFFERENCE["item"]]["basic_code"]
    for name, committed in DIFFERENCE["committed"].items():
        [s] = [s for s in catalogue_by_dept[name] if s.get("basic_code") == code]
        s["committed_limit"], s["committed_limit_unit"] = committed, "working_days"
        if s.get("process_steps"):
            s["process_steps"] = [{k: v for k, v in step.items() if not k.startswith("time_limit")}
                                  for step in s["process_steps"]]
        more = DIFFERENCE["more_documents"].get(name, [])
        at = len([doc for doc in s["documents"] if doc["mandatory"]])
        s["documents"][at:at] = [_document(k, True) for k in more]


def _service(rng, d, district, n, item, v, variant, basics) -> dict[str, Any]:
    (zh, en, stype, _kind, themes, events, audience, out_type, out_name, law, article,
     statutory, doc_keys, fee, hall_key) = item
    vzh, ven = variant
    code = f"{d['area_code']}-{d['abbreviation']}-{data.TYPE_CODES[stype]}{n:03d}-{v:02d}"
    title = f"{zh}（{vzh}）" if vzh else zh
    title_en = f"{en} ({ven})" if ven else en
    first = v == 1
    tzh, ten = NOTES[stype]
    oe = OUTPUT_EN[out_type]
    s: dict[str, Any] = {
        "service_code": code,
        "basic_code": None,   # the basic item's, below
        # 实施编码: the department's credit code, the kind of power, the item and situation
        "implementation_code": f"{d['department_code']}{list(data.TYPE_CODES).index(stype) + 1}{n:04d}000{v:02d}",
        "title": title, "title_en": title_en,
        "notes": tzh.format(t=title, o=out_name, who=WHO[audience][0]),
        "notes_en": ten.format(e=title_en[0].lower() + title_en[1:], E=title_en, oe=oe, who_en=WHO[audience][1]),
        "service_type": stype, "themes": sorted(themes),
        "life_events": sorted(events) if first or "新办" in vzh else [],
        "audience": audience,
    }
    law_title, law_url = data.LAWS[law]
    basis = [{"title": law_title, "article": article, **({"url": law_url} if law_url else {})}]
    if stype == "administrative_licence" and law != "行政许可法":
        basis.append({"title": data.LAWS["行政许可法"][0], "article": "第二十九条"})
    s["legal_basis"] = basis
    s["eligibility"], s["eligibility_en"] = ELIGIBILITY[audience]
    guide = random.Random(f"{SEED}/guide/{code}")   # the guide's extra fields: a generator of their own
    s["documents"] = _documents(doc_keys, vzh, guide if d["name"] in NAMES_ONLY else None)
    if data.UNMATCHED_DOCUMENTS.get(d["name"], ("",))[0] == zh:
        at = len([doc for doc in s["documents"] if doc["mandatory"]])
        s["documents"].insert(at, {"name": data.UNMATCHED_DOCUMENTS[d["name"]][1], "mandatory": True,
                                   "form": "original", "issued_by": "government", "copies": 1})
    s["process_steps"] = [{"name": a, "description": b} for a, b in STEPS.get(stype, STEPS["default"])]
    # time limits: committed well under statutory; simple situations on the spot
    known = basics.get((zh, vzh))
    if statutory is not None:
        s["statutory_limit"], s["statutory_limit_unit"] = statutory, "working_days"
        if statutory >= 30 and rng.random() < 0.15:
            s["statutory_limit_unit"] = "calendar_days"
        if known:   # the law sets one limit for every implementation: the basic item's
            s["statutory_limit_unit"] = known["statutory_limit_unit"]
        simple = any(w in vzh for w in ("注销", "补证", "补发", "遗失", "名称", "更正"))
        factor = rng.choice([0, 0.1, 0.2]) if simple else rng.choice([0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 1.0])
        committed = int(statutory * factor) if factor else 0
        s["committed_limit"], s["committed_limit_unit"] = committed, "working_days"
        if service_rules.committed_exceeds_statutory(statutory, s["statutory_limit_unit"], committed, "working_days"):
            # a statutory limit in calendar days holds fewer working days
            s["committed_limit"] = int(statutory * 5 / 7)
    else:
        s["committed_limit"], s["committed_limit_unit"] = rng.choice([0, 0, 0, 1, 3, 5]), "working_days"
    if fee and float(fee[1]) > 0 and (first or "补" in vzh or "新办" in vzh):
        s["fees"] = [{"name": fee[0], "amount": float(fee[1]), "currency": "CNY", "basis": "滨价费〔2021〕12号"}]
    # some services need the applicant there in person (a signature, a photo, an eye test)
    presence = any(w in zh for w in PRESENCE_WORDS)
    s["channels"], online, in_person = _channels(rng, d, district, hall_key, code, stype, presence)
    if online:
        fully = not presence and rng.random() < (0.55 if stype in ("public_service", "administrative_confirmation") else 0.3)
        stages = list(service_rules.ONLINE_STAGES) if fully else \
            list(service_rules.ONLINE_STAGES[:rng.choice([2, 3, 4])]) + ["feedback"]
        s["online_depth"] = stages
        s["in_person_visits"] = 0 if fully else (1 if in_person or presence else 0)
    else:
        s["online_depth"] = []
        s["in_person_visits"] = 2 if stype == "administrative_licence" and rng.random() < 0.3 else 1
    if s["in_person_visits"] == 0 and not set(service_rules.ONLINE_STAGES) <= set(s["online_depth"]):
        s["in_person_visits"] = 1 if in_person else 0
    s["output_type"], s["output_name"] = out_type, out_name
    hall = _hall(district, hall_key)
    s["contact_phone"], s["complaint_phone"] = hall[3], "12345"
    s["status"] = "suspended" if rng.random() < 0.01 else "active"
    s["valid_from"] = f"{rng.choice([2019, 2020, 2021, 2022, 2023, 2024, 2025])}-{rng.randint(1, 12):02d}-01"
    s["version"] = f"{rng.randint(1, 3)}.{rng.randint(0, 4)}"
    if known is None and d["name"] in NAMES_ONLY:
        # a basic item's standard documents are by code: made from a service that sends codes
        coded = {**s, "documents": _documents(doc_keys, vzh, None)}
        known = _basic_item(basics, item, v, variant, coded)
    s["basic_code"] = (known or _basic_item(basics, item, v, variant, s))["basic_code"]
    _guide(guide, s, d, district, item, v, vzh, hall_key)
    reminders.add(s)
    return s


def _guide(g: random.Random, s: dict[str, Any], d, district, item, v, vzh, hall_key) -> None:
    """The rest of a service guide (办事指南), for a realistic share of services: step time
    limits, co-handling departments, intermediary services, special procedures, where it
    can be handled, the output's validity and sample, contact points. Each is left out of
    some services: every one of them is optional."""
    zh, stype, out_type, out_name = item[0], item[2], item[7], item[8]
    # the first situation, a new one, or one of an item's own situations (each a kind of applicant)
    first = v == 1 or "新办" in vzh or "首次" in vzh or (zh in data.SITUATIONS and "注销" not in zh)
    committed = s.get("committed_limit") or 0
    if committed >= 4 and g.random() < 0.6:
        steps = s["process_steps"]
        limits = [None, 1] + [None] * (len(steps) - 2)
        limits[-2 if len(steps) > 4 else -1] = 1
        limits[2] = committed - sum(x for x in limits if x)
        for step, limit in zip(steps, limits):
            if limit:
                step["time_limit"], step["time_limit_unit"] = limit, "working_days"
    if zh in data.CO_DEPARTMENTS and first:
        s["co_departments"] = [{"name": n, "role": r} for n, r in data.CO_DEPARTMENTS[zh] if n != d["title"]]
    if zh in data.INTERMEDIARIES and first:
        s["intermediary_services"] = [{"name": n, "provider": p, "legal_basis": b} for n, p, b in data.INTERMEDIARIES[zh]]
    if stype == "administrative_licence" and first and g.random() < 0.5:
        s["special_procedures"] = [{"name": "现场核查", "time_limit": 10, "time_limit_unit": "working_days",
                                    "description": "对经营场所、设施设备进行现场核查，核查时间不计入办结时限。"}]
    elif stype == "administrative_ruling":
        s["special_procedures"] = [{"name": "听证", "time_limit": 20, "time_limit_unit": "working_days",
                                    "description": "当事人申请听证的，听证时间不计入办结时限。"}]
    elif stype == "administrative_confirmation" and (s.get("statutory_limit") or 0) >= 60:
        s["special_procedures"] = [{"name": "专家鉴定", "time_limit": 30, "time_limit_unit": "calendar_days"}]
    if g.random() < 0.85:
        if zh in data.CROSS_PROVINCE:
            s["handling_scope"] = "cross_province"
        elif hall_key in ("social_security", "medical", "provident_fund", "tax"):
            s["handling_scope"] = "provincewide"
        elif stype in ("public_service", "administrative_payment"):
            s["handling_scope"] = "citywide"
        else:
            s["handling_scope"] = "department_only"
    if out_type in ("licence", "certificate") and "注销" not in vzh:
        validity = data.OUTPUT_VALIDITY.get(out_name) or ((5, "years") if out_type == "licence" else None)
        if validity and g.random() < 0.9:
            s["output_validity"], s["output_validity_unit"] = validity
        if g.random() < 0.5:
            s["output_sample_url"] = f"https://zwfw.binjiang.example.gov.cn/samples/{s['service_code']}.pdf"
    if g.random() < 0.3:
        name, address, hours, phone = _hall(district, hall_key)
        site = DEPARTMENT_SITE.format(abbr=d["abbreviation"].lower())
        s["contact_points"] = [
            {"purpose": "enquiry", "phone": phone, "url": f"{site}/zxzx", "address": address, "opening_hours": hours},
            {"purpose": "complaint", "phone": "12345", "email": f"jdts@{d['abbreviation'].lower()}.binjiang.example.gov.cn",
             "url": "https://12345.binjiang.example.gov.cn"}]


def _document(key: str, mandatory: bool) -> dict[str, Any]:
    zh, en, form, issued = data.DOCS[key]
    return {"code": document_code(key), "name": zh, "name_en": en, "mandatory": mandatory, "form": form,
            "issued_by": issued, "copies": 1}


def _documents(keys, vzh, by_name: random.Random | None) -> list[dict[str, Any]]:
    """The documents, each with its catalogue code; ``by_name`` (a department that sends
    names only): no codes, and now and then the department's own word for a document."""
    docs = [_document(k, True) for k in keys]
    if "变更" in vzh:
        docs.append(_document("change", True))
    if "遗失" in vzh:
        docs.append(_document("loss", True))
    if any(w in vzh for w in ("注销", "补证", "延续")):
        docs.append(_document("old_cert", "补证" not in vzh))
    agent = _document("authority", False)
    agent["name"] += "（委托他人办理时提供）"
    agent["name_en"] += " (when an agent applies)"
    docs.append(agent)
    if by_name is not None:
        names = {document_code(k): n for k, n in data.DOC_NAMES_USED.items()}
        for doc in docs:
            code = doc.pop("code")
            if code in names and by_name.random() < 0.6:
                doc["name"] = names[code]
    return docs


def _hall(district, hall_key):
    return data.HALLS[hall_key] if hall_key else data.HALLS[district]


def _channels(rng, d, district, hall_key, code, stype, presence):
    channels, online, in_person = [], rng.random() < 0.92, rng.random() < 0.9
    if not online or presence:
        in_person = True
    if online:
        channels.append({"channel_type": "online", "name": data.ONLINE[0], "url": data.ONLINE[1] + code})
        if rng.random() < 0.62:
            channels.append({"channel_type": "mobile", "name": data.MOBILE[0], "url": data.MOBILE[1] + code})
    if in_person:
        name, address, hours, phone = _hall(district, hall_key)
        channels.append({"channel_type": "in_person", "name": name, "address": address,
                         "opening_hours": hours, "phone": phone})
        if stype == "public_service" and rng.random() < 0.3:
            channels.append({"channel_type": "self_service", "name": data.SELF_SERVICE[0],
                             "address": address, "opening_hours": data.SELF_SERVICE[1]})
    if rng.random() < 0.04:
        channels.append({"channel_type": "post", "name": "EMS 邮寄办理"})
    return channels, online, in_person


def _as_open311_source(s: dict[str, Any]) -> dict[str, Any]:
    """What the urban management bureau's catalogue is, once harvested from its Open311
    list: code, names, description, themes, on-the-spot or not, and the source defaults."""
    out = {k: s[k] for k in ("service_code", "title", "notes", "themes", "status")}
    out.update(OPEN311_DEFAULTS)
    if s["committed_limit"] == 0:
        out["committed_limit"] = 0
    return out


# ---------------------------------------------------------------- statistics

def _binomial(rng, n: int, p: float) -> int:
    if n <= 0 or p <= 0:
        return 0
    if n < 60:
        return sum(1 for _ in range(n) if rng.random() < p)
    value = round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))
    return max(0, min(n, value))


def _poisson(rng, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam < 30:
        limit, k, prod = math.exp(-lam), 0, rng.random()
        while prod > limit:
            k += 1
            prod *= rng.random()
        return k
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


def statistics(depts, catalogue_by_dept) -> dict[str, list[dict[str, Any]]]:
    """Every department's rows. Each service draws from a generator of its own
    (seeded by SEED and its code), so changing one service's figures moves no other's."""
    months = periods()
    out = {}
    for d in depts:
        rows = []
        for s in catalogue_by_dept[d["name"]]:
            rng = random.Random(f"{SEED}/{d['name']}/{s['service_code']}")
            rows.extend(_service_rows(rng, d, s, months))
        out[d["name"]] = rows
    return out


def _path(path: tuple[float, float, int], t: int) -> float:
    start, end, turn = path
    if t < turn:
        return start
    return start + (end - start) * (t - turn + 1) / (MONTHS - turn)


def _service_rows(rng, d, s, months) -> list[dict[str, Any]]:
    # many listed items have no applications at all (零办件事项): they report nothing
    if rng.random() < 0.62:
        return []
    scale = {"public_service": 250, "administrative_payment": 120, "administrative_confirmation": 110}.get(
        s.get("service_type"), 12)
    base = scale * math.exp(rng.gauss(0, 1.1)) * (1.0 if s["service_code"].endswith("-01") else 0.2)
    kinds = [c["channel_type"] for c in s.get("channels") or [{"channel_type": "online"}, {"channel_type": "in_person"}]]
    digital = [k for k in ("online", "mobile") if k in kinds]
    counter = [k for k in ("in_person", "self_service") if k in kinds][:1]
    # figures come by the main digital channel and the counter (1-2 channels; a few report 3)
    if len(digital) == 2 and rng.random() < 0.8:
        digital = [rng.choice(digital)]
    channels = digital + counter
    start, rise = rng.uniform(0.2, 0.55), rng.uniform(0.12, 0.35)
    mobile_part = rng.uniform(0.2, 0.5)
    committed_days = service_rules.calendar_days(s["committed_limit"], s.get("committed_limit_unit", "working_days"))
    speed = rng.uniform(0.25, 0.7)
    quality = QUALITY.get(d["name"], QUALITY_DEFAULT)
    # a service sits around its department: most near it, one in twelve far worse
    late_factor = math.exp(rng.gauss(0, 0.45)) * (3.0 if rng.random() < 1 / 12 else 1.0)
    bad_factor = math.exp(rng.gauss(0, 0.4)) * (2.5 if rng.random() < 1 / 15 else 1.0)
    rate_ratings = rng.uniform(0.3, 0.7)
    rows = []
    for t, period in enumerate(months):
        month = int(period[5:])
        season = SEASON[month] * DEPT_SEASON.get(d["name"], {}).get(month, 1.0)
        total = _poisson(rng, base * season * (1 + 0.08 * t / 35))
        digital_share = min(0.97, start + rise * t / 35) if digital else 0.0
        if not counter:
            digital_share = 1.0
        shares = {}
        if digital:
            shares["mobile" if "mobile" in digital else "online"] = 0
            if "mobile" in digital:
                m = mobile_part * (0.6 + 0.8 * t / 35)
                shares["mobile"], shares["online"] = digital_share * m, digital_share * (1 - m)
                if "online" not in digital:
                    shares = {"mobile": digital_share}
            else:
                shares["online"] = digital_share
        if counter:
            shares[counter[0]] = 1 - digital_share
        no_data = period in NO_DATA.get(d["name"], [])
        # a seasonal peak adds to the queue, and a late service gets more bad reviews
        late_share = min(0.6, _path(quality["late"], t) * late_factor * (1 + 0.5 * max(0.0, season - 1.1)))
        bad_share = min(0.5, _path(quality["bad"], t) * bad_factor * (1 + 2 * late_share))
        for channel in channels:
            received = round(total * shares.get(channel, 0))
            if no_data:
                rows.append({"service_code": s["service_code"], "department": d["name"], "period": period,
                             "channel": channel, "no_data": True, "note": "业务系统切换，当月数据缺失"})
                continue
            if received == 0:
                continue
            rows.append(_figures(rng, d, s, period, t, channel, received, committed_days, speed,
                                 late_share, bad_share, rate_ratings))
    return rows


def _figures(rng, d, s, period, t, channel, received, committed_days, speed, late_share, bad_share, rate_ratings):
    completed = received - _binomial(rng, received, 0.03)
    on_time = completed - _binomial(rng, completed, late_share)
    online = channel in ("online", "mobile")
    completed_online = completed - _binomial(rng, completed, 0.04) if online else 0
    days = max(0.1, (committed_days or 0.3) * speed * (1 + 3 * late_share))
    rated = _binomial(rng, completed, rate_ratings * (1.15 if online else 0.85))
    bad = _binomial(rng, rated, bad_share * (0.8 if online else 1.2))
    very_bad = _binomial(rng, bad, 0.35)
    basic = _binomial(rng, rated - bad, 0.06)
    satisfied = _binomial(rng, rated - bad - basic, 0.2)
    very = rated - bad - basic - satisfied
    # bad reviews are followed up (some departments only partly); the last two months still have some in hand
    rectified = _binomial(rng, bad, RECTIFIED_SHARE.get(d["name"], 1.0))
    if t >= MONTHS - 2:
        rectified -= _binomial(rng, rectified, 0.5)
    return {"service_code": s["service_code"], "department": d["name"], "period": period, "channel": channel,
            "received": received, "completed": completed, "completed_on_time": on_time,
            "completed_online": completed_online, "mean_processing_days": round(days, 1),
            "rating_very_satisfied": very, "rating_satisfied": satisfied,
            "rating_basically_satisfied": basic, "rating_dissatisfied": bad - very_bad,
            "rating_very_dissatisfied": very_bad, "ratings": rated, "bad_reviews": bad,
            "bad_reviews_rectified": rectified, "enquiries": _binomial(rng, received, 0.3),
            "no_data": None, "note": None,
            **in_person.figures(SEED, d["name"], s["service_code"], period, t, channel, received, late_share)}


# ---------------------------------------------------------------- planted mistakes

def plant_service_mistakes(feeds: dict[str, list[dict[str, Any]]], reported: set[str],
                           basics: dict[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    """Change a few records as they go into the feeds; each is listed with the
    field and the reason the harvest must reject it for. They are services
    without statistics, so a rejected service rejects no statistics rows too."""
    planted = []

    def pick(dept: str, index: int, ok=lambda s: True) -> dict[str, Any]:
        candidates = [s for s in feeds[dept] if ok(s) and s["service_code"] not in reported]
        return candidates[index % len(candidates)]

    s = pick("public-security", 7)
    s["valid_from"] = "2024-02-30"
    planted.append({"kind": "service", "department": "public-security", "record": s["service_code"],
                    "field": "valid_from", "value": "2024-02-30",
                    "reason": "must be a date written YYYY-MM-DD (got '2024-02-30')"})

    s = pick("human-resources-social-security", 11, lambda s: s.get("statutory_limit") == 20
             and s.get("statutory_limit_unit") == "working_days")
    s["committed_limit"], s["committed_limit_unit"] = 25, "working_days"
    planted.append({"kind": "service", "department": "human-resources-social-security",
                    "record": s["service_code"], "field": "committed_limit", "value": 25,
                    "reason": "the committed time limit (25 working days) is longer than the statutory limit "
                              "(20 working days); a department may only commit to the same or less"})

    s = pick("market-regulation", 5, lambda s: s["channels"][0]["channel_type"] == "online")
    del s["channels"][0]["url"]
    planted.append({"kind": "service", "department": "market-regulation", "record": s["service_code"],
                    "field": "channels/0/url", "value": None,
                    "reason": "a channel of type online needs a web address (url)"})

    s = pick("natural-resources", 3)
    s["themes"] = sorted(s["themes"] + ["国土空间规划"])
    allowed = ", ".join(c["value"] for c in schema.choices(schema.field("themes")))
    planted.append({"kind": "service", "department": "natural-resources", "record": s["service_code"],
                    "field": "themes", "value": "国土空间规划",
                    "reason": f"'国土空间规划' is not a known themes (expected one of: {allowed})"})

    # ---- the network's mistakes: codes the catalogues do not know, one used twice, a
    # statutory limit the basic item contradicts
    unknown = "330000-QR-0999-01"
    s = pick("taxation", 4, lambda s: s.get("basic_code"))
    s["basic_code"] = unknown
    planted.append({"kind": "service", "department": "taxation", "record": s["service_code"],
                    "field": "basic_code", "value": unknown,
                    "reason": NETWORK_REASONS["unknown_basic_code"].format(code=unknown)})

    first = pick("health", 20, lambda s: s.get("implementation_code"))
    s = pick("health", 21, lambda s: s.get("implementation_code"))
    s["implementation_code"] = first["implementation_code"]
    planted.append({"kind": "service", "department": "health", "record": s["service_code"],
                    "field": "implementation_code", "value": s["implementation_code"], "first": first["service_code"],
                    "reason": NETWORK_REASONS["implementation_code_used"].format(
                        code=s["implementation_code"], title=first["title"],
                        service=service_name("health", first["service_code"]),
                        department=next(d[1] for d in DEPARTMENTS if d[0] == "health"))})

    missing = f"{data.CITY['area_code']}-CL-0999"
    s = pick("ecology-environment", 6, lambda s: s.get("documents"))
    s["documents"][0]["code"] = missing
    planted.append({"kind": "service", "department": "ecology-environment", "record": s["service_code"],
                    "field": "documents/0/code", "value": missing,
                    "reason": NETWORK_REASONS["unknown_document_code"].format(code=missing)})

    s = pick("civil-affairs", 2, lambda s: s.get("statutory_limit") == 20 and s.get("statutory_limit_unit") == "working_days")
    s["statutory_limit"] = 30
    planted.append({"kind": "service", "department": "civil-affairs", "record": s["service_code"],
                    "field": "statutory_limit", "value": 30, "basic_code": s["basic_code"],
                    "reason": NETWORK_REASONS["statutory_contradicts"].format(
                        limit="30 working days", code=s["basic_code"], basic="20 working days")})

    # ---- the planted differences between implementations (not mistakes: the comparison shows them)
    code = basics[DIFFERENCE["item"]]["basic_code"]
    city, others = "market-regulation", [n for n in DIFFERENCE["committed"] if n != "market-regulation"]
    implementations = {n: next(s for s in feeds[n] if s.get("basic_code") == code) for n in DIFFERENCE["committed"]}
    mandatory = {n: sum(1 for doc in s["documents"] if doc["mandatory"]) for n, s in implementations.items()}
    for name in others:
        s = implementations[name]
        if mandatory[name] != mandatory[city]:
            more = mandatory[name] - mandatory[city]
            planted.append({"kind": "difference", "department": name, "record": s["service_code"], "basic_code": code,
                            "field": "documents", "value": mandatory[name],
                            "reason": f"asks for {abs(more)} {'more' if more > 0 else 'fewer'} mandatory "
                                      f"document{'s' if abs(more) > 1 else ''} than the city ({mandatory[city]})"})
        best = min(DIFFERENCE["committed"].values())
        if s["committed_limit"] > best:
            planted.append({"kind": "difference", "department": name, "record": s["service_code"], "basic_code": code,
                            "field": "committed_limit", "value": s["committed_limit"],
                            "reason": f"commits {s['committed_limit']} working days where others commit {best} "
                                      f"(the standard is {DIFFERENCE['standard_limit']})"})

    # ---- a basic item withdrawn at the source while implementations remain: flagged, not refused
    b = basics[WITHDRAWN]
    planted.append({"kind": "basic_item", "department": PUBLISHER[0], "record": b["basic_code"],
                    "field": "status", "value": "withdrawn",
                    "implementations": sorted([name, s["service_code"]] for name, rows in feeds.items()
                                              for s in rows if s.get("basic_code") == b["basic_code"]),
                    "reason": NETWORK_REASONS["basic_item_withdrawn"].format(code=b["basic_code"])})
    return planted


def service_name(department: str, service_code: str) -> str:
    """The URL name the platform gives a service made without one: department and code."""
    return re.sub(r"[^a-z0-9_-]+", "-", f"{department}-{service_code}".lower()).strip("-")


# What the platform (CKAN's validation, logic/validators.py) says of each network mistake.
NETWORK_REASONS = {
    "unknown_basic_code": "basic code {code} is not in the basic item catalogue (基本目录); "
                          "ask the catalogue's publisher to add it, or correct the code",
    "implementation_code_used": "implementation code {code} is already used by {title} ({service}) of {department}; "
                                "an implementation code is unique on the whole platform",
    "unknown_document_code": "document code {code} is not in the document catalogue (材料目录); "
                             "correct the code, or leave it empty to match the document by its name",
    "statutory_contradicts": "the statutory time limit ({limit}) contradicts the basic item {code}'s ({basic}); "
                             "the law sets one limit for every implementation: give the item's, or none",
    "basic_item_withdrawn": "the basic item {code} was withdrawn; this implementation is flagged for review",
}


def plant_statistics_mistakes(rows_by_dept: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    planted = []

    def pick(dept: str, index: int, ok) -> dict[str, Any]:
        candidates = [r for r in rows_by_dept[dept] if not r.get("no_data") and ok(r)]
        return candidates[index % len(candidates)]

    def record(r):
        return f"{r['service_code']}/{r['period']}/{r['channel']}"

    r = pick("dongcheng-civil-affairs", 40, lambda r: True)
    r["department"] = "dongcheng-civil"
    planted.append({"kind": "statistics", "department": "dongcheng-civil-affairs", "record": record(r),
                    "field": "department", "value": "dongcheng-civil",
                    "reason": "is not dongcheng-civil-affairs, the department this file is loaded for"})

    # a service withdrawn from the catalogue years ago, still in the department's statistics system
    template = pick("dongcheng-civil-affairs", 41, lambda r: r["period"] == "2026-09")
    r = {**template, "service_code": "330102-DCMZ-GF099-01"}
    rows_by_dept["dongcheng-civil-affairs"].append(r)
    planted.append({"kind": "statistics", "department": "dongcheng-civil-affairs", "record": record(r),
                    "field": "service_code", "value": r["service_code"],
                    "reason": "is not a service of department dongcheng-civil-affairs in the catalogue"})

    r = pick("transport", 100, lambda r: r["received"] > 5)
    r["received"] = -r["received"]
    planted.append({"kind": "statistics", "department": "transport", "record": record(r),
                    "field": "received", "value": r["received"],
                    "reason": "is negative; counts cannot be below zero"})

    r = pick("health", 200, lambda r: r["ratings"] > 10)
    levels = r["ratings"]
    r["ratings"] = levels + 5
    planted.append({"kind": "statistics", "department": "health", "record": record(r),
                    "field": "ratings", "value": r["ratings"],
                    "reason": f"is {r['ratings']} but the five rating levels add up to {levels}"})

    r = pick("agriculture-rural", 60, lambda r: r["completed"] > 3)
    r["completed_on_time"] = r["completed"] + 2
    planted.append({"kind": "statistics", "department": "agriculture-rural", "record": record(r),
                    "field": "completed_on_time", "value": r["completed_on_time"],
                    "reason": f"is {r['completed_on_time']}, more than the applications completed ({r['completed']})"})
    return planted


# ---------------------------------------------------------------- writers

def _headers(kind: str) -> list[str]:
    if kind == "zh":
        return [schema.label(f, "zh_Hans_CN") for f in FEED_FIELDS]
    return [f["govservice_column"] for f in FEED_FIELDS]


def _rows(services_: list[dict[str, Any]]) -> list[list[Any]]:
    out = []
    for s in services_:
        row = catalogue.service_row(s)
        out.append([row[f["govservice_column"]] for f in FEED_FIELDS])
    return out


def write_csv(path: Path, d: dict, services_: list[dict[str, Any]]) -> None:
    spec = d["services"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if spec.get("title_row"):
        w.writerow([f"{d['title']}政务服务事项实施清单（{LAST_PERIOD}）"])
    w.writerow(_headers(spec["headers"]))
    for row in _rows(services_):
        w.writerow(["" if v is None else catalogue.neutralise(v) for v in row])
    path.write_bytes(buf.getvalue().encode(spec["encoding"]))


def write_xlsx(path: Path, d: dict, services_: list[dict[str, Any]]) -> None:
    import datetime as dt

    import openpyxl
    spec = d["services"]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "事项清单"
    headers = _headers(spec["headers"])
    if spec.get("title_row"):
        sheet.append([f"{d['title']}政务服务事项实施清单（{LAST_PERIOD}）"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    if spec.get("group_row"):
        groups = [("基本信息", "title_en"), ("办理要件", "process_steps"), ("时限与收费", "fees"),
                  ("办理渠道", "in_person_visits"), ("结果与状态", "version")]
        row, col = [], 1
        names = [f["field_name"] for f in FEED_FIELDS]
        starts = []
        for label, last in groups:
            end = names.index(last) + 1
            row += [label] + [None] * (end - col)
            starts.append((col, end))
            col = end + 1
        sheet.append(row)
        r = sheet.max_row
        for a, b in starts:
            sheet.merge_cells(start_row=r, start_column=a, end_row=r, end_column=b)
    sheet.append(headers)
    for row in _rows(services_):
        sheet.append([catalogue.neutralise(v) for v in row])
    stamp = dt.datetime(*FIXED_TIME)
    book.properties.created = book.properties.modified = stamp
    book.properties.creator = d["title"]
    buf = io.BytesIO()
    book.save(buf)
    path.write_bytes(_fixed_zip(buf.getvalue()))


def _fixed_zip(body: bytes) -> bytes:
    """The same zip with every entry's timestamp fixed, so the bytes never change."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            fixed.compress_type, fixed.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":   # openpyxl stamps "modified" with the clock
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-10-31T00:00:00Z", body)
            dst.writestr(fixed, body)
    return out.getvalue()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1) + "\n"


def write_json_feed(path: Path, services_: list[dict[str, Any]]) -> None:
    """{"services": [...]}, one service to a line: compact, and a diff shows which changed."""
    lines = ",\n".join(json.dumps(s, ensure_ascii=False, separators=(",", ":")) for s in services_)
    path.write_text('{"services": [\n' + lines + "\n]}\n", encoding="utf-8")


def write_cpsv(path: Path, d: dict, services_: list[dict[str, Any]]) -> None:
    base = DEPARTMENT_SITE.format(abbr=d["abbreviation"].lower())
    department = {k: d[k] for k in ("name", "title", "title_en", "level", "area", "area_code", "department_code")}
    with_duration = [({**s, "processing_time": service_rules.iso_duration(
        s["committed_limit"], s["committed_limit_unit"])}, department) for s in services_]
    path.write_text(cpsv.services_to_graph(with_duration, base).serialize(format="turtle"), encoding="utf-8")


def write_open311(path: Path, d: dict, services_: list[dict[str, Any]]) -> None:
    department = {"name": d["name"], "title": d["title"], "title_en": d["title_en"]}
    entries = [open311.service_entry(s, department) for s in services_ if s.get("status") == "active"]
    path.write_text(json.dumps(entries, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def basic_item_records(basics: dict[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    """The basic catalogue as its feed carries it, in code order."""
    return sorted(({k: v for k, v in b.items() if not k.startswith("_")} for b in basics.values()),
                  key=lambda b: b["basic_code"])


def document_records() -> list[dict[str, Any]]:
    """The document catalogue: every document of catalogue_data.DOCS, with its code."""
    out = []
    for key, (zh, en, _form, _issued) in data.DOCS.items():
        aliases, authority, holds = data.DOC_CATALOGUE[key]
        out.append({"document_code": document_code(key), "title": zh, "title_en": en, "aliases": aliases,
                    "issuing_authority": authority, "government_holds": holds, "status": "active"})
    return out


def write_basic_items(path: Path, records: list[dict[str, Any]]) -> None:
    lines = ",\n".join(json.dumps(b, ensure_ascii=False, separators=(",", ":")) for b in records)
    path.write_text('{"basic_items": [\n' + lines + "\n]}\n", encoding="utf-8")


def write_documents(path: Path, records: list[dict[str, Any]]) -> None:
    """CSV in UTF-8 with document.yaml's Chinese labels as headers; aliases joined by ';'."""
    fields = [f for f in schema.load("document")["dataset_fields"]
              if f["field_name"] not in ("name", "owner_org") and f["field_name"] not in schema.PROVENANCE]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([schema.label(f, "zh_Hans_CN") for f in fields])
    for r in records:
        w.writerow([";".join(v) if isinstance(v := r.get(f["field_name"]), list) else "" if v is None else v
                    for f in fields])
    path.write_bytes(buf.getvalue().encode("utf-8"))


def write_statistics(path: Path, d: dict, rows: list[dict[str, Any]]) -> dict[tuple, int]:
    """Write the rows; return each row's line (the header is line 1, as the loader counts)."""
    lines = {}
    if d["statistics"]["format"] == "json":
        records = [{k: r.get(k) for k in STAT_COLUMNS if r.get(k) is not None} for r in rows]
        path.write_text(json.dumps(records, ensure_ascii=False, separators=(",", ":"))
                        .replace("},{", "},\n{") + "\n", encoding="utf-8")
        for i, r in enumerate(rows, 2):
            lines[(r["service_code"], r["period"], r["channel"])] = i
        return lines
    columns = STAT_COLUMNS if d["statistics"]["has_department_column"] else STAT_CSV_COLUMNS
    labels = {c["name"]: schema.label(c, "zh_Hans_CN") for c in stats.columns()}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([labels[c] for c in columns])
    for i, r in enumerate(rows, 2):
        w.writerow(["是" if r.get(c) is True else "" if r.get(c) is None else r[c] for c in columns])
        lines[(r["service_code"], r["period"], r["channel"])] = i
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return lines


# ---------------------------------------------------------------- the whole city

def generate(out: Path) -> dict[str, Any]:
    import copy
    rng = random.Random(SEED)
    depts = departments()
    catalogue_by_dept, basics = services(rng, depts)
    rows_by_dept = statistics(depts, catalogue_by_dept)
    feeds = copy.deepcopy(catalogue_by_dept)
    reported = {r["service_code"] for rows in rows_by_dept.values() for r in rows}
    planted = plant_service_mistakes(feeds, reported, basics) + plant_statistics_mistakes(rows_by_dept)

    out.mkdir(parents=True, exist_ok=True)
    office = publisher()
    (out / office["name"]).mkdir(exist_ok=True)
    items, documents = basic_item_records(basics), document_records()
    write_basic_items(out / office["basic_items"]["file"], items)
    write_documents(out / office["documents"]["file"], documents)
    office["basic_items"]["count"], office["documents"]["count"] = len(items), len(documents)
    office["service_centres"] = _sibling("centres").write(   # the halls, from the services' channels (issue 17)
        out, office["name"], data.HALLS, data.SELF_SERVICE, depts, catalogue_by_dept)
    for p in planted:
        if p["department"] == office["name"]:
            p["file"] = office["basic_items"]["file"]
    for d in depts:
        folder = out / d["name"]
        folder.mkdir(exist_ok=True)
        feed, fmt = feeds[d["name"]], d["services"]["format"]
        path = out / d["services"]["file"]
        if fmt == "csv":
            write_csv(path, d, feed)
        elif fmt == "xlsx":
            write_xlsx(path, d, feed)
        elif fmt in ("json", "json-file"):
            write_json_feed(path, feed)
        elif fmt == "cpsv":
            write_cpsv(path, d, feed)
        elif fmt == "open311":
            write_open311(path, d, feed)
        rows = sorted(rows_by_dept[d["name"]], key=lambda r: (r["period"], r["service_code"], r["channel"]))
        lines = write_statistics(out / d["statistics"]["file"], d, rows)
        d["services"]["count"] = len(feed)
        d["statistics"]["rows"] = len(rows)
        for p in planted:
            if p["department"] == d["name"] and p["kind"] == "statistics":
                p["file"] = d["statistics"]["file"]
                p["line"] = lines[tuple(p["record"].split("/"))]
            elif p["department"] == d["name"]:
                p["file"] = d["services"]["file"]
    (out / "departments.json").write_text(_json({
        "city": data.CITY, "districts": data.DISTRICTS, "periods": [FIRST_PERIOD, LAST_PERIOD],
        "seed": SEED, "departments": depts, "catalogues": office}), encoding="utf-8")
    (out / "planted-mistakes.json").write_text(_json(planted), encoding="utf-8")
    (out / "standards.json").write_text(_json(STANDARDS), encoding="utf-8")
    # The catalogue as it should land (planted mistakes not applied): what tests compare with.
    (out / "catalogue.json").write_text(json.dumps(
        {name: [s["service_code"] for s in rows] for name, rows in catalogue_by_dept.items()},
        ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    return {"departments": depts, "services": catalogue_by_dept, "statistics": rows_by_dept,
            "planted": planted, "basic_items": items, "documents": documents}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="output folder (default: datasets/demo/city; var/province with --province)")
    parser.add_argument("--province", action="store_true",
                        help="the demo province (issue 13, province.py) instead of the city; never committed")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="with --province: its size against the full one (about 100,000 services at 1.0)")
    args = parser.parse_args()
    if args.province:
        sys.modules.setdefault("demo_generate", sys.modules[__name__])   # province.py builds on this module
        _sibling("province").main(Path(args.out or HERE.parent.parent / "var" / "province"), args.scale)
        return
    args.out = args.out or str(HERE / "city")
    result = generate(Path(args.out))
    total = sum(len(v) for v in result["services"].values())
    rows = sum(len(v) for v in result["statistics"].values())
    print(f"{len(result['departments'])} departments, {total} services, {len(result['basic_items'])} basic items, "
          f"{len(result['documents'])} documents, {rows} statistics rows, "
          f"{len(result['planted'])} planted mistakes -> {args.out}")


if __name__ == "__main__":
    main()
