"""Services that between them fill every field and use every vocabulary value.

Plain dicts, as a department sends them (``sent``) — the open-standards tests
create them on the stack or, for the pure tests, add what ``package_show``
would add (``as_shown``).
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


def sent(i: int, owner_org: str = "market-regulation") -> dict:
    """Service number ``i``: every field filled; single-valued vocabularies cycle with ``i``."""
    unit = _pick(_values("statutory_limit_unit"), i)
    forms, sources = _values("documents", "form"), _values("documents", "issued_by")
    return {
        "type": "service",
        "owner_org": owner_org,
        "name": f"sample-service-{i}",
        "service_code": f"SC-S{i:03d}",
        "local_code": f"LOCAL-{i:03d}",
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
        "eligibility": "依法设立的企业",
        "eligibility_en": "A lawfully established company",
        "documents": [
            {"name": f"材料{n}", "name_en": f"Document {n}", "mandatory": n % 2 == 0,
             "form": _pick(forms, n), "issued_by": _pick(sources, n), "copies": n + 1}
            for n in range(max(len(forms), len(sources)))
        ],
        "process_steps": [{"name": "受理", "description": "窗口收件"}, {"name": "审核", "description": "材料审查"},
                          {"name": "办结", "description": "发证"}],
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
        "in_person_visits": i % 3,
        "output_type": _pick(_values("output_type"), i),
        "output_name": "营业执照",
        "contact_phone": "0571-12345",
        "complaint_phone": "12345",
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
    return s
