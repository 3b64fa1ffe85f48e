"""Factories for departments and services, for tests."""
from __future__ import annotations

import copy
import itertools

from ckan.tests import factories, helpers

_codes = itertools.count(1)


def department(**overrides) -> dict:
    data = {"title": "滨江市市场监督管理局", "title_en": "Binjiang Market Regulation Bureau",
            "level": "city", "area": "滨江市", **overrides}
    return factories.Organization(**data)


def service_dict(owner_org: str, **overrides) -> dict:
    """A complete, valid service: every kind of field filled, as a department would send it."""
    data = {
        "type": "service",
        "owner_org": owner_org,
        "service_code": f"SC-{next(_codes):04d}",
        "title": "企业营业执照核发",
        "title_en": "Business licence issuance",
        "notes": "为企业办理设立登记并核发营业执照。",
        "service_type": "administrative_licence",
        "themes": ["business"],
        "life_events": ["starting_a_business", "opening_a_restaurant"],
        "audience": "business",
        "legal_basis": [{"title": "中华人民共和国市场主体登记管理条例", "article": "第十九条"}],
        "eligibility": "依法设立的企业",
        "documents": [
            {"name": "居民身份证", "name_en": "ID card", "mandatory": "true", "form": "original"},
            {"name": "公司章程", "name_en": "Articles of association", "mandatory": "true",
             "form": "copy"},
        ],
        "statutory_limit": 15, "statutory_limit_unit": "working_days",
        "committed_limit": 3, "committed_limit_unit": "working_days",
        "fees": [],
        "channels": [
            {"channel_type": "online", "url": "https://zwfw.binjiang.gov.cn/yyzz"},
            {"channel_type": "in_person", "name": "市民中心", "address": "滨江市江南大道1号",
             "opening_hours": "周一至周五 9:00-17:00", "phone": "0571-12345"},
        ],
        "online_depth": ["registration", "authentication", "application", "decision"],
        "in_person_visits": 1,
        "output_type": "licence",
        "output_name": "营业执照",
        "status": "active",
    }
    data.update(copy.deepcopy(overrides))
    return data


def service(owner_org: str, context: dict | None = None, **overrides) -> dict:
    return helpers.call_action("package_create", context=context or {"user": factories.Sysadmin()["name"]},
                               **service_dict(owner_org, **overrides))
