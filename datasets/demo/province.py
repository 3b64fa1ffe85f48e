"""Generate the demo province (issue 13): one network of a province, its cities and
their districts and counties, about 100,000 services and 10 million statistics rows.

    .venv/bin/python datasets/demo/generate.py --province [--scale F] [--out DIR]

江海省 (Jianghai, area code 390000: a code no real province has) is made of the
province's own departments, 11 cities (390100 … 391100) and 9-10 districts or
counties in each. Every area has the same 16 kinds of department as the demo
city (generate.DEPARTMENTS), and each implements the items of catalogue_data under
the province's shared basic codes (the basic catalogue, 基本目录, published by the
province's government service office with the document catalogue, 材料目录), with
local details of its own: committed limits, fees, documents, channels, halls and
addresses differ from area to area. Implementation codes (实施编码) are unique on
the platform (each department's credit code is), documents name the catalogue's code.

The services go out in the city's feed formats (the paged JSON feed and CSV in
UTF-8, UTF-8 with BOM, GBK or with column-name headers); every department's
statistics go out as CSV, one row per service, month and channel the service
offers (48 months: 2022-11 to 2026-10), a month with no applications included as
zeros, so ``rows = Σ services × channels × months``.

Seeded and deterministic (same scale, same bytes). Generated on demand into
var/province/ (git-ignored), never committed: the full province is 1,872
departments, 99,235 services and 12.1 million statistics rows, 1.2 GB, written with
about 2½ minutes of CPU and a peak RSS of 56 MB (README.md, "Province scale").
Departments are generated one at a time and the statistics written row by row, so
memory stays flat (one department's services and the basic catalogue).

``--scale F`` keeps the structure and shrinks it: with F < 1 there are fewer cities
(11 × √F, at least 1) and districts (9-10 × √F, at least 1 a city), and each department
keeps the share of its items that brings the services to about F × 100,000;
``--scale 0.01`` gives one city and one district, about 1,000 services.
"""
from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import math
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _generator():
    """generate.py (the city's generator, whose services this module reuses), loaded by
    path once: this folder is not a package."""
    if "demo_generate" not in sys.modules:
        spec = importlib.util.spec_from_file_location("demo_generate", HERE / "generate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["demo_generate"]


gen = _generator()
data = gen.data
stats = gen.stats

SEED = 20261129
PROVINCE = {"zh": "江海省", "en": "Jianghai Province", "short_zh": "江海", "short_en": "Jianghai",
            "slug": "jianghai", "area_code": "390000", "phone": "0590"}
# (slug, name, English name); a city's area code is 39CC00, in this order.
CITIES = [("yunzhou", "云州市", "Yunzhou"), ("minghu", "明湖市", "Minghu"), ("bailu", "白鹭市", "Bailu"),
          ("songling", "松陵市", "Songling"), ("qinghe", "清河市", "Qinghe"), ("lanxi", "澜溪市", "Lanxi"),
          ("taoyuan", "桃源市", "Taoyuan"), ("jinsha", "金沙市", "Jinsha"), ("haiyan", "海晏市", "Haiyan"),
          ("longquan", "龙泉市", "Longquan"), ("fengcheng", "枫城市", "Fengcheng")]
# A city's districts and counties are the first 9-10 of these (area code 39CCdd).
DISTRICTS = [("dongcheng", "东城区", "Dongcheng District"), ("xicheng", "西城区", "Xicheng District"),
             ("nanhu", "南湖区", "Nanhu District"), ("beishan", "北山区", "Beishan District"),
             ("linjiang", "临江区", "Linjiang District"), ("xingang", "新港区", "Xingang District"),
             ("qingxi", "青溪县", "Qingxi County"), ("yunling", "云岭县", "Yunling County"),
             ("shimen", "石门县", "Shimen County"), ("anping", "安平县", "Anping County")]
FIRST_PERIOD, LAST_PERIOD, MONTHS = "2022-11", "2026-10", 48
# The kinds of department every area has: the demo city's own (not its districts').
KINDS = [row for row in gen.DEPARTMENTS if row[3] is None]
# The city's feed formats, those a department can export without a workbook (XLSX of
# 10,000 services is slow to write and no new case for the readers) or a service list
# without codes (Open311); the CPSV-AP department sends the JSON feed.
FORMATS = {"json": "json", "json-file": "json", "cpsv": "json", "open311": "json", "csv": "csv",
           "csv-bom": "csv-bom", "csv-en": "csv-en", "csv-gbk": "csv-gbk", "csv-gb18030": "csv-gbk",
           "xlsx": "csv", "xlsx-en": "csv-en", "xlsx-title": "csv-bom"}
# Applications a month, against the city's: the province's own departments handle fewer
# (most items are delegated down), a district or county a share of its city's.
VOLUME = {"province": 0.4, "city": 1.0, "district": 0.5}


# ---------------------------------------------------------------- the areas

def areas(scale: float = 1.0) -> list[dict[str, Any]]:
    """The province, each city and each of its districts and counties, in generation
    order: [{"level", "zh", "en", "short_zh", "short_en", "slug", "area_code", "phone"}]."""
    rng = random.Random(f"{SEED}/areas")
    shrink = min(1.0, math.sqrt(scale))
    out = [{"level": "province", **PROVINCE}]
    for c, (slug, zh, en) in enumerate(CITIES[:max(1, round(len(CITIES) * shrink))], 1):
        code = f"39{c:02d}00"
        city = {"level": "city", "zh": f"{PROVINCE['zh']}{zh}", "en": f"{en} City", "short_zh": zh[:-1],
                "short_en": en, "slug": slug, "area_code": code, "phone": f"05{90 + c:02d}", "city": zh}
        out.append(city)
        count = rng.choice([9, 10])   # 8-10 in the issue; 9-10 brings the province to about 100,000 services
        for j, (dslug, dzh, den) in enumerate(DISTRICTS[:max(1, round(count * shrink))]):
            out.append({"level": "district", "zh": f"{city['zh']}{dzh}", "en": f"{den}, {en}",
                        "short_zh": f"{zh}{dzh}", "short_en": f"{en} {den}", "slug": f"{slug}-{dslug}",
                        "area_code": f"{code[:4]}{j + 2:02d}", "phone": city["phone"], "city": zh})
    return out


def item_share(scale: float, area_count: int) -> float:
    """The share of each department's items it implements: all at full scale; what
    brings a smaller province's services to about ``scale`` of the full one."""
    return min(1.0, scale * len(areas(1.0)) / area_count)


def _kept(item_title: str, share: float) -> bool:
    """Whether an item is in a shrunk province: the same for every department, so the
    items kept are implemented at every level under one basic code."""
    if share >= 1.0:
        return True
    digest = hashlib.sha256(f"{SEED}/{item_title}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2 ** 32 < share


def departments(scale: float = 1.0) -> list[dict[str, Any]]:
    """Every department of the province (the city's departments.json entries)."""
    out = []
    for area in areas(scale):
        for kind, zh, en, _district, abbr, feed, stat_format in KINDS:
            i = len(out)
            name = f"{area['slug']}-{kind}"
            fmt = FORMATS[feed]
            spec = dict(gen.FEEDS[fmt])
            registration = {"format": spec.pop("format"), "file": f"{name}/{spec.pop('file')}", **spec}
            out.append({
                "name": name, "kind": kind,
                "title": zh.replace("滨江市", area["zh"]), "title_en": en.replace("Binjiang", area["short_en"]),
                "level": area["level"], "area": area["zh"], "area_code": area["area_code"],
                "department_code": f"11{area['area_code']}{gen._credit_body(i)}",
                "abbreviation": abbr,
                "services": registration,
                "statistics": {"format": "csv", "file": f"{name}/statistics.csv",
                               "has_department_column": stat_format == "csv-department"},
                "_area": area,
            })
    return out


def publisher() -> dict[str, Any]:
    """The province's government service office: publishes the basic item and document catalogues."""
    name, zh, en, abbr = gen.PUBLISHER
    return {"name": f"{PROVINCE['slug']}-{name}", "title": zh.replace("滨江市", PROVINCE["zh"]),
            "title_en": en.replace("Binjiang", PROVINCE["short_en"]), "level": "province",
            "area": PROVINCE["zh"], "area_code": PROVINCE["area_code"],
            "department_code": f"11{PROVINCE['area_code']}{gen._credit_body(10 ** 6)}", "abbreviation": abbr,
            **{kind: {**spec, "file": f"{PROVINCE['slug']}-{name}/{spec['file']}"}
               for kind, spec in gen.CATALOGUE_FILES.items()}}


# ---------------------------------------------------------------- codes and local details

def province_code(code: str | None) -> str | None:
    """A basic item's or a catalogue document's code, the province's: the city's
    generator numbers them under 330000 / 330100; here the province (390000) sets them."""
    if code and code[:6] in ("330000", "330100"):
        return PROVINCE["area_code"] + code[6:]
    return code


def _localiser(area: dict[str, Any]):
    """Rewrites the city's names, sites and phones in a service to its area's."""
    words = {"滨江市民服务中心": f"{area['zh']}政务服务中心", "滨江市": area["zh"], "滨江": area["short_zh"],
             "binjiang": area["slug"].replace("-", "."), "Binjiang": area["short_en"], "0571-": f"{area['phone']}-"}
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    return lambda text: pattern.sub(lambda m: words[m.group(0)], text)


def _localise(rng: random.Random, s: dict[str, Any], area: dict[str, Any], localise) -> dict[str, Any]:
    """The area's own version of a service: its names and addresses, and now and then
    a fee waived, an optional document dropped or one more asked for, a channel more."""
    s = json.loads(localise(json.dumps(s, ensure_ascii=False)))
    s["basic_code"] = province_code(s.get("basic_code"))
    for doc in s.get("documents") or []:
        if doc.get("code"):
            doc["code"] = province_code(doc["code"])
    if area["level"] != "province":
        if s.get("fees") and rng.random() < 0.25:
            del s["fees"]                                   # the area waives it (免收)
        docs = s.get("documents") or []
        if docs and not docs[-1]["mandatory"] and rng.random() < 0.3:
            docs.pop()                                      # no letter of authorisation asked
        elif rng.random() < 0.15:
            extra = gen._document(rng.choice(["hukou", "photo", "health"]), True)
            extra["code"] = province_code(extra["code"])
            if extra["name"] not in {d["name"] for d in docs}:
                docs.insert(sum(1 for d in docs if d["mandatory"]), extra)
        kinds = {c["channel_type"] for c in s["channels"]}
        if "in_person" in kinds and "self_service" not in kinds and rng.random() < 0.1:
            hall = next(c for c in s["channels"] if c["channel_type"] == "in_person")
            s["channels"].append({"channel_type": "self_service", "name": data.SELF_SERVICE[0],
                                  "address": hall["address"], "opening_hours": data.SELF_SERVICE[1]})
    return s


# ---------------------------------------------------------------- services

def department_services(d: dict[str, Any], share: float, basics: dict) -> list[dict[str, Any]]:
    """One department's services: the items of its kind kept at this scale, each
    situation an implementation of the shared basic item (made by the first to implement it)."""
    rng = random.Random(f"{SEED}/{d['name']}")
    local = random.Random(f"{SEED}/local/{d['name']}")
    localise = _localiser(d["_area"])
    out = []
    for n, item in enumerate(data.ITEMS[d["kind"]], 1):
        if not _kept(item[0], share):
            continue
        for v, variant in enumerate(data.SITUATIONS.get(item[0]) or gen.VARIANTS[item[3]], 1):
            if v > 1 and rng.random() < 0.03:
                continue
            s = gen._service(rng, d, None, n, item, v, variant, basics)
            out.append(_localise(local, s, d["_area"], localise))
    return out


def basic_item_records(basics: dict) -> list[dict[str, Any]]:
    """The province's basic catalogue: the city generator's records under the province's codes."""
    out = []
    for b in gen.basic_item_records(basics):
        b = {**b, "basic_code": province_code(b["basic_code"]), "set_by_level": "province",
             "standard_documents": [{**doc, "code": province_code(doc["code"])} for doc in b["standard_documents"]]}
        b["status"] = "active"      # the city's withdrawn item is the city's story, not the province's
        out.append(b)
    return sorted(out, key=lambda b: b["basic_code"])


def document_records() -> list[dict[str, Any]]:
    return [{**doc, "document_code": province_code(doc["document_code"])} for doc in gen.document_records()]


# ---------------------------------------------------------------- statistics

def periods() -> list[str]:
    return [stats.shift_period(FIRST_PERIOD, i) for i in range(MONTHS)]


def channels_reporting(s: dict[str, Any]) -> list[str]:
    """The channels a service reports figures for: each kind of channel it offers, once."""
    kinds = []
    for c in s.get("channels") or []:
        if c["channel_type"] not in kinds:
            kinds.append(c["channel_type"])
    return kinds


def _binomial(rng: random.Random, n: int, p: float) -> int:
    """A binomial draw by its normal approximation: one Gaussian, whatever n (the
    city's exact draw costs n uniforms below 60; at 10 million rows that is minutes)."""
    if n <= 0 or p <= 0:
        return 0
    mean = n * p
    return max(0, min(n, round(mean + rng.gauss(0.0, math.sqrt(mean * (1 - p)) if p < 1 else 0.0))))


def service_rows(d: dict[str, Any], s: dict[str, Any], months: list[str]) -> Iterator[list[Any]]:
    """One service's rows (the statistics CSV's columns, in STAT_COLUMNS order): every
    month × every channel it offers, zeros where nobody applied. The service's own
    generator (seeded by its code), so one service's figures move no other's."""
    rng = random.Random(f"{SEED}/{d['name']}/{s['service_code']}")
    scale = {"public_service": 60, "administrative_payment": 30, "administrative_confirmation": 25}.get(
        s["service_type"], 4) * VOLUME[d["level"]]
    base = scale * math.exp(rng.gauss(0, 1.0)) * (1.0 if s["service_code"].endswith("-01") else 0.3)
    quality = gen.QUALITY.get(d["kind"], gen.QUALITY_DEFAULT)
    late_factor, bad_factor = math.exp(rng.gauss(0, 0.45)), math.exp(rng.gauss(0, 0.4))
    rate_ratings, speed = rng.uniform(0.3, 0.7), rng.uniform(0.25, 0.7)
    committed = gen.service_rules.calendar_days(s["committed_limit"], s.get("committed_limit_unit", "working_days"))
    kinds = channels_reporting(s)
    digital = [k for k in kinds if k in ("online", "mobile")]
    start, rise = rng.uniform(0.2, 0.55), rng.uniform(0.12, 0.35)
    rectify = gen.RECTIFIED_SHARE.get(d["kind"], 1.0)
    columns = gen.STAT_COLUMNS
    for t, period in enumerate(months):
        month = int(period[5:])
        season = gen.SEASON[month] * gen.DEPT_SEASON.get(d["kind"], {}).get(month, 1.0)
        total = base * season * (1 + 0.1 * t / MONTHS)
        if not digital or len(digital) == len(kinds):
            digital_share = 1.0 if digital else 0.0
        else:
            digital_share = min(0.97, start + rise * t / MONTHS)
        late = min(0.6, gen._path(quality["late"], round(t * 35 / (MONTHS - 1))) * late_factor)
        bad_share = min(0.5, gen._path(quality["bad"], round(t * 35 / (MONTHS - 1))) * bad_factor)
        for channel in kinds:
            if channel in digital:
                share = digital_share / len(digital)
            else:
                share = (1 - digital_share) / (len(kinds) - len(digital))
            received = gen._poisson(rng, total * share)
            completed = received - _binomial(rng, received, 0.03)
            on_time = completed - _binomial(rng, completed, late)
            rated = _binomial(rng, completed, rate_ratings)
            bad = _binomial(rng, rated, bad_share)
            very_bad = _binomial(rng, bad, 0.35)
            basic = _binomial(rng, rated - bad, 0.06)
            satisfied = _binomial(rng, rated - bad - basic, 0.2)
            rectified = _binomial(rng, bad, rectify * (0.5 if t >= MONTHS - 2 else 1.0))
            row = {"service_code": s["service_code"], "department": d["name"], "period": period,
                   "channel": channel, "received": received, "completed": completed,
                   "completed_on_time": on_time,
                   "completed_online": completed - _binomial(rng, completed, 0.04) if channel in digital else 0,
                   "mean_processing_days": round(max(0.1, (committed or 0.3) * speed * (1 + 3 * late)), 1)
                   if completed else None,
                   "rating_very_satisfied": rated - bad - basic - satisfied, "rating_satisfied": satisfied,
                   "rating_basically_satisfied": basic, "rating_dissatisfied": bad - very_bad,
                   "rating_very_dissatisfied": very_bad, "ratings": rated, "bad_reviews": bad,
                   "bad_reviews_rectified": rectified, "enquiries": _binomial(rng, received, 0.3)}
            yield [row.get(c) for c in columns]


def write_statistics(path: Path, d: dict[str, Any], services_: list[dict[str, Any]], months: list[str]) -> int:
    """Stream a department's rows to its CSV (the city's headers); return how many."""
    with_department = d["statistics"]["has_department_column"]
    keep = [i for i, c in enumerate(gen.STAT_COLUMNS) if with_department or c != "department"]
    labels = {c["name"]: gen.schema.label(c, "zh_Hans_CN") for c in stats.columns()}
    count = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([labels[gen.STAT_COLUMNS[i]] for i in keep])
        for s in services_:
            for row in service_rows(d, s, months):
                w.writerow(["" if row[i] is None else row[i] for i in keep])
                count += 1
    return count


# ---------------------------------------------------------------- the whole province

def generate(out: Path, scale: float = 1.0, progress=None) -> dict[str, Any]:
    """Write the province to ``out``; return its departments.json (with counts)."""
    out.mkdir(parents=True, exist_ok=True)
    the_areas = areas(scale)
    share = item_share(scale, len(the_areas))
    months = periods()
    basics: dict = {}
    written = []
    implementations: dict[str, int] = {}
    for d in departments(scale):
        services_ = department_services(d, share, basics)
        if not services_:          # a shrunk province: nothing of this kind kept
            continue
        (out / d["name"]).mkdir(exist_ok=True)
        fmt = d["services"]["format"]
        if fmt == "json":
            gen.write_json_feed(out / d["services"]["file"], services_)
        else:
            gen.write_csv(out / d["services"]["file"], d, services_)
        d["services"]["count"] = len(services_)
        d["statistics"]["rows"] = write_statistics(out / d["statistics"]["file"], d, services_, months)
        for s in services_:
            implementations[s["basic_code"]] = implementations.get(s["basic_code"], 0) + 1
        written.append({k: v for k, v in d.items() if not k.startswith("_")})
        if progress:
            progress(d, len(written))
    office = publisher()
    (out / office["name"]).mkdir(exist_ok=True)
    items, documents = basic_item_records(basics), document_records()
    gen.write_basic_items(out / office["basic_items"]["file"], items)
    gen.write_documents(out / office["documents"]["file"], documents)
    office["basic_items"]["count"], office["documents"]["count"] = len(items), len(documents)
    counts = {"departments": len(written), "services": sum(d["services"]["count"] for d in written),
              "basic_items": len(items), "basic_items_implemented": len(implementations),
              "documents": len(documents), "statistics_rows": sum(d["statistics"]["rows"] for d in written),
              "months": MONTHS}
    manifest = {"province": {k: PROVINCE[k] for k in ("zh", "en", "area_code")},
                "areas": [{k: a[k] for k in ("level", "zh", "en", "area_code")} for a in the_areas],
                "periods": [FIRST_PERIOD, LAST_PERIOD], "seed": SEED, "scale": scale, "counts": counts,
                "departments": written, "catalogues": office}
    (out / "departments.json").write_text(gen._json(manifest), encoding="utf-8")
    # the platform's standards (the city's departments' own pledges name city departments)
    (out / "standards.json").write_text(gen._json([s for s in gen.STANDARDS if "department" not in s]),
                                        encoding="utf-8")
    return manifest


def main(out: Path, scale: float) -> None:
    """Generate (generate.py --province): a line per 100 departments, then the counts."""
    import time
    started = time.monotonic()

    def progress(d, done):
        if done % 100 == 0:
            print(f"  {done} departments … ({d['name']}, {time.monotonic() - started:.0f} s)", flush=True)

    manifest = generate(out, scale, progress)
    c = manifest["counts"]
    print(f"{PROVINCE['zh']} ({PROVINCE['en']}) at scale {scale}: {len(manifest['areas'])} areas, "
          f"{c['departments']} departments, {c['services']} services, {c['basic_items']} basic items, "
          f"{c['documents']} documents, {c['statistics_rows']} statistics rows over {c['months']} months "
          f"-> {out} in {time.monotonic() - started:.0f} s")
