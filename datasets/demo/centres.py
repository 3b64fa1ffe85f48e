"""The demo city's service centres (办事大厅, issue 17), published by the city's
government service office as one feed (``service_centres.json``).

The halls are those the services already name in their in-person channels
(``catalogue_data.HALLS``); a centre's counters are the departments whose
services name the hall, each counter listing those services by implementation
code (实施编码), so a service's centres are exactly the halls its channels name.
The city hall's 24-hour self-service area (``SELF_SERVICE``) is a centre of its
own, handling the services offered at its kiosks (``<hall>_24h``). Opening hours are the halls'
own, written in the platform's compact form (``core.centres``).
"""
from __future__ import annotations

import re
from typing import Any

from ckanext.govservice.core import centres as core_centres

CODE_PREFIX = "330100-DT"      # the city's area code, 大厅
SELF_SERVICE = "_24h"          # a hall's 24-hour self-service area: <hall key>_24h
# Where each hall is (WGS 84; the city is fictional, the places plausible) and
# what it offers people with disabilities.
PLACES = {
    "city": (30.2084, 120.2108), "dongcheng": (30.2741, 120.1751), "linjiang": (30.1853, 120.2650),
    "exit_entry": (30.2796, 120.1869), "vehicles": (30.3224, 120.1956), "tax": (30.2862, 120.1709),
    "social_security": (30.2731, 120.1890), "real_estate": (30.2610, 120.2003),
    "provident_fund": (30.2815, 120.1632), "medical": (30.2733, 120.1894),
}
ACCESSIBILITY = {
    "city": ["step_free_access", "accessible_toilet", "hearing_loop", "sign_language", "wheelchair_loan",
             "priority_window", "accessible_parking"],
    "dongcheng": ["step_free_access", "accessible_toilet", "priority_window"],
    "linjiang": ["step_free_access", "priority_window"],
    "exit_entry": ["step_free_access", "accessible_toilet"],
    "vehicles": ["step_free_access", "accessible_parking"],
    "social_security": ["step_free_access", "accessible_toilet", "priority_window"],
    "medical": ["step_free_access", "priority_window", "wheelchair_loan"],
}
# Halls that take appointments online (the rest take walk-ins only).
APPOINTMENTS = ("city", "dongcheng", "linjiang", "exit_entry", "vehicles", "real_estate", "social_security")

_DAYS = dict(zip("一二三四五六日", core_centres.DAYS))
_RULE = re.compile(r"(周[一二三四五六日](?:至周[一二三四五六日])?)\s*"
                   r"((?:\d{1,2}:\d{2}-\d{1,2}:\d{2})(?:[，,]\s*\d{1,2}:\d{2}-\d{1,2}:\d{2})*)")


def compact_hours(text: str) -> str:
    """A hall's hours as the city writes them (``周一至周五 8:30-12:00，13:30-17:00``)
    in the platform's compact form (``Mo-Fr 08:30-12:00,13:30-17:00``)."""
    rules = []
    for days, ranges in _RULE.findall(text):
        days = "-".join(_DAYS[d] for d in re.findall(r"周([一二三四五六日])", days))
        rules.append(f"{days} {','.join(r.strip() for r in re.split(r'[，,]', ranges))}")
    return core_centres.normalise_hours("; ".join(rules))


def _centre(key: str, hall: tuple[str, str, str, str], counters: list[dict[str, Any]], en: str) -> dict[str, Any]:
    name, address, hours, phone = hall
    lat, lon = PLACES[key.removesuffix(SELF_SERVICE)]
    centre = {"centre_code": f"{CODE_PREFIX}-{key.upper().replace('_', '-')}", "title": name, "title_en": en,
              "address": address, "latitude": lat, "longitude": lon, "opening_hours": compact_hours(hours),
              "phone": phone, "counters": counters, "status": "active"}
    if key in APPOINTMENTS:
        centre["appointment_url"] = f"https://yuyue.binjiang.example.gov.cn/{key.replace('_', '-')}"
    if ACCESSIBILITY.get(key):
        centre["accessibility"] = ACCESSIBILITY[key]
    return centre


def _counters(departments: list[dict[str, Any]], services: dict[str, list[dict[str, Any]]],
              handles) -> list[dict[str, Any]]:
    counters = []
    for d in departments:
        codes = sorted({s["implementation_code"] for s in services.get(d["name"], [])
                        if s.get("implementation_code") and handles(s)})
        if codes:
            counters.append({"counter_number": f"{len(counters) + 1:02d}", "counter_name": f"{d['title']}窗口",
                             "implementation_codes": codes})
    return counters


HALL_NAMES_EN = {
    "city": "Binjiang Citizen Service Centre", "dongcheng": "Dongcheng District Government Service Centre",
    "linjiang": "Linjiang District Government Service Centre", "exit_entry": "Exit and Entry Reception Hall",
    "vehicles": "Vehicle Administration Office", "tax": "First Tax Service Hall",
    "social_security": "Social Insurance Service Hall", "real_estate": "Real Estate Registration Centre",
    "provident_fund": "Housing Provident Fund Service Hall", "medical": "Medical Security Service Hall",
}


def records(halls: dict[str, tuple[str, str, str, str]], self_service: tuple[str, str],
            departments: list[dict[str, Any]], services: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The centres: every hall some service names in an in-person channel, and the
    24-hour self-service area of each hall some service has kiosks at; by centre code."""
    def channel(s, kind):
        return [c for c in s.get("channels") or [] if c.get("channel_type") == kind]
    out = []
    for key, hall in halls.items():
        counters = _counters(departments, services,
                             lambda s, name=hall[0]: any(c.get("name") == name for c in channel(s, "in_person")))
        if counters:
            out.append(_centre(key, hall, counters, HALL_NAMES_EN[key]))
        kiosks = _counters(departments, services,
                           lambda s, address=hall[1]: any(c.get("address") == address
                                                          for c in channel(s, "self_service")))
        if kiosks:
            out.append(_centre(key + SELF_SERVICE, (f"{hall[0]}{self_service[0]}", hall[1], self_service[1], hall[3]),
                               kiosks, f"24-hour Self-service Area, {HALL_NAMES_EN[key]}"))
    return sorted(out, key=lambda c: c["centre_code"])


def write(out, publisher: str, halls, self_service, departments, services) -> dict[str, Any]:
    """Write the centres' feed into the publisher's folder of ``out`` (a Path),
    ``{"service_centres": [...]}`` one centre a line; return its entry of the
    publisher's sources in departments.json."""
    import json
    found = records(halls, self_service, departments, services)
    spec = {"format": "json", "file": f"{publisher}/service_centres.json",
            "note": '{"service_centres": [...]}, the halls (datasets/demo/centres.py); served as the paged '
                    'JSON feed at /feeds/<dept>/service_centres', "count": len(found)}
    lines = ",\n".join(json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in found)
    (out / spec["file"]).write_text('{"service_centres": [\n' + lines + "\n]}\n", encoding="utf-8")
    return spec
