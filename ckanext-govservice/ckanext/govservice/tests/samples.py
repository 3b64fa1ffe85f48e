"""Services that between them fill every field and use every vocabulary value.

Plain dicts, as a department sends them (``sent``) — the open-standards tests
create them on the stack or, for the pure tests, add what ``package_show``
would add (``as_shown``). ``minimal`` is a service with every optional field
absent. The samples implement the basic item ``BASIC_ITEM`` and name the
catalogue document ``DOCUMENTS[0]`` by code (document 0) and ``DOCUMENTS[1]``
by name (document 2); create ``catalogue(owner_org)`` first on the stack.
"""
from __future__ import annotations

import copy

from ckanext.govservice.core import rules as service_rules, schema


def _values(field_name: str, sub: str | None = None) -> list[str]:
    f = schema.field(field_name)
    if sub:
        f = next(s for s in f["repeating_subfields"] if s["field_name"] == sub)
    return [c["value"] for c in schema.choices(f)]


def _pick(values: list[str], i: int) -> str:
    return values[i % len(values)]


def count() -> int:
    """Enough services for every value of the longest single-valued vocabulary to appear."""
    return max(len(_values(n)) for n in ("service_type", "audience", "output_type", "status",
                                         "statutory_limit_unit"))


BASIC_CODE = "BI-S001"
BASIC_ITEM = {"type": "basic_item", "basic_code": BASIC_CODE, "title": "企业设立登记",
              "title_en": "Company registration", "notes": "企业设立登记并核发营业执照。",
              "service_type": "administrative_licence", "set_by_level": "province",
              "legal_basis": [{"title": "中华人民共和国市场主体登记管理条例", "article": "第三条"}],
              # no statutory limit: the samples state theirs in every unit, which one
              # limit of the item's would contradict (a contradiction is refused)
              "standard_limit": 3, "standard_limit_unit": "working_days", "standard_visits": 1,
              "standard_documents": [{"code": "DOC-S-ID", "name": "居民身份证", "mandatory": True}],
              "status": "active"}
DOCUMENTS = [
    {"type": "document", "document_code": "DOC-S-ID", "title": "居民身份证", "title_en": "Resident ID card",
     "aliases": ["身份证"], "notes": "公安机关签发的居民身份证，已有电子证照。",
     "issuing_authority": "公安机关", "government_holds": "electronic_licence",
     "status": "active"},
    {"type": "document", "document_code": "DOC-S-LEASE", "title": "材料2", "title_en": "Lease contract",
     "aliases": ["租赁合同"], "government_holds": "no", "status": "active"},
]


def catalogue(owner_org: str) -> list[dict]:
    """The basic item and the catalogue documents the samples refer to, to create first."""
    return [{**entry, "owner_org": owner_org} for entry in (BASIC_ITEM, *DOCUMENTS)]


def network(i: int) -> dict:
    """The ``network`` key package_show gives ``sent(i)`` once ``catalogue`` exists."""
    documents = sent(i)["documents"]
    by_index = {0: DOCUMENTS[0], 2: DOCUMENTS[1]}
    rows = []
    for n, doc in enumerate(documents):
        entry = by_index.get(n)
        held = entry["government_holds"] if entry else None
        rows.append({"index": n, "code": entry["document_code"] if entry else None,
                     "matched_by": ("code" if doc.get("code") else "name") if entry else None,
                     "title": entry["title"] if entry else None, "government_holds": held,
                     "must_bring": bool(doc["mandatory"]) and held in (None, "no")})
    mandatory = [r for r, d in zip(rows, documents) if d["mandatory"]]
    return {"basic_item": {k: BASIC_ITEM.get(k) for k in (
                "basic_code", "title", "title_en", "status", "service_type", "statutory_limit",
                "statutory_limit_unit", "standard_limit", "standard_limit_unit", "standard_visits",
                "standard_documents")} | {"name": "item-bi-s001"},
            "flags": [], "documents": rows, "documents_demanded": len(mandatory),
            "documents_to_bring": sum(r["must_bring"] for r in mandatory)}


def minimal(i: int = 0, owner_org: str = "market-regulation") -> dict:
    """A service with only its required fields: every optional field absent, every list empty."""
    required = {f["field_name"] for f in schema.service_fields() if f.get("required")}
    full = sent(i, owner_org)
    out = {k: v for k, v in full.items() if k in required or k in ("type", "owner_org", "name")}
    out["channels"] = [{"channel_type": "in_person", "address": "滨江市江南大道1号",
                        "opening_hours": "周一至周五 9:00-17:00"}]
    out["service_code"] = f"SC-M{i:03d}"
    out["name"] = f"minimal-service-{i}"
    return out


def sent(i: int, owner_org: str = "market-regulation") -> dict:
    """Service number ``i``: every field filled; single-valued vocabularies cycle with ``i``."""
    unit = _pick(_values("statutory_limit_unit"), i)
    forms, sources = _values("documents", "form"), _values("documents", "issued_by")
    return {
        "type": "service",
        "owner_org": owner_org,
        "name": f"sample-service-{i}",
        "service_code": f"SC-S{i:03d}",
        "basic_code": BASIC_CODE,
        "implementation_code": f"330100-SC-S{i:03d}",
        "version": "1.0",
        "title": f"样例事项{i}",
        "title_en": f"Sample service {i}",
        "notes": "为企业办理设立登记并核发营业执照。",
        "notes_en": "Registers a company and issues its business licence.",
        "service_type": _pick(_values("service_type"), i),
        "themes": _values("themes"),
        "life_events": _values("life_events"),
        "audience": _pick(_values("audience"), i),
        "legal_basis": [
            {"title": "中华人民共和国市场主体登记管理条例", "article": "第十九条",
             "url": f"https://law.example.gov.cn/regulation/{i}"},
            {"title": "滨江市市场主体登记办法"},
        ],
        "co_departments": [{"name": "滨江市税务局", "role": "同步办理税务登记"}, {"name": "滨江市公安局"}],
        "eligibility": "依法设立的企业",
        "eligibility_en": "A lawfully established company",
        "documents": [
            {**({"code": "DOC-S-ID"} if n == 0 else {}),
             "name": f"材料{n}", "name_en": f"Document {n}", "mandatory": n % 2 == 0,
             "form": _pick(forms, n), "issued_by": _pick(sources, n), "copies": n + 1}
            for n in range(max(len(forms), len(sources)))
        ],
        "intermediary_services": [{"name": "房屋安全鉴定", "provider": "具备资质的鉴定机构",
                                   "legal_basis": "城市危险房屋管理规定"}, {"name": "测绘"}],
        "process_steps": [{"name": "受理", "description": "窗口收件", "time_limit": 0, "time_limit_unit": unit},
                          {"name": "审核", "description": "材料审查", "time_limit": 2,
                           "time_limit_unit": _pick(_values("statutory_limit_unit"), i + 1)},
                          {"name": "办结", "time_limit_unit": "working_days"}],
        "special_procedures": [{"name": "现场核查", "time_limit": 5, "time_limit_unit": unit,
                                "description": "对经营场所进行现场核查"},
                               {"name": "专家评审", "time_limit_unit": "working_days"}],
        "statutory_limit": 20, "statutory_limit_unit": unit,
        "committed_limit": i % 3, "committed_limit_unit": unit,
        "fees": [{"name": "工本费", "amount": 10.5, "currency": "CNY", "basis": "发改价格〔2019〕1号"}],
        "channels": [
            {"channel_type": t, "name": f"渠道{t}", "url": f"https://zwfw.example.gov.cn/{t}/{i}",
             "address": "滨江市江南大道1号", "opening_hours": "周一至周五 9:00-17:00",
             "phone": "0571-12345"}
            for t in _values("channels", "channel_type")
        ],
        "online_depth": _values("online_depth"),
        "handling_scope": _pick(_values("handling_scope"), i),
        "in_person_visits": i % 3,
        "output_type": _pick(_values("output_type"), i),
        "output_name": "营业执照",
        "output_validity": 5,
        "output_validity_unit": _pick(_values("output_validity_unit"), i),
        "output_sample_url": f"https://zwfw.example.gov.cn/samples/{i}.pdf",
        "reminders": [  # every trigger; the expiry one renews this service's own output
            {"trigger": t, "offset": n * 30, "offset_unit": _pick(_values("reminders", "offset_unit"), n),
             "direction": _pick(_values("reminders", "direction"), n),
             **({"prepare": "原证照", "prepare_en": "The old certificate"} if n == 0 else {})}
            for n, t in enumerate(_values("reminders", "trigger"))
        ] + [{"trigger": "output_expiry", "offset": 3, "offset_unit": "months", "direction": "before",
              "renews_basic_code": BASIC_CODE}],
        "contact_phone": "0571-12345",
        "complaint_phone": "12345",
        "contact_points": [
            {"purpose": "enquiry", "phone": "0571-12345", "email": "zixun@scjg.example.gov.cn",
             "url": f"https://zwfw.example.gov.cn/zixun/{i}", "address": "滨江市江南大道1号",
             "opening_hours": "周一至周五 9:00-17:00"},
            {"purpose": "complaint", "phone": "12345", "email": "tousu@example.gov.cn"}],
        "status": _pick(_values("status"), i),
        "valid_from": "2024-01-01",
        "valid_to": "2030-12-31",
    }


DEPARTMENT = {"id": "0b8a-department", "name": "market-regulation", "title": "滨江市市场监督管理局",
              "title_en": "Binjiang Market Regulation Bureau", "level": "city", "area": "滨江市",
              "area_code": "330100", "department_code": "11330100MB0000000X"}


def as_shown(i: int) -> dict:
    """``sent(i)`` with what package_show adds: id, organisation, derived fields."""
    s = copy.deepcopy(sent(i))
    s["id"] = f"00000000-0000-0000-0000-{i:012d}"
    s["organization"] = {k: DEPARTMENT[k] for k in ("id", "name", "title")}
    s["processing_time"] = service_rules.iso_duration(s["committed_limit"], s["committed_limit_unit"])
    s["network"] = network(i)
    return s
