"""Open311 GeoReport v2 service list: one service's entry (the views serving the
list are in integration/test_open311_views.py)."""
from __future__ import annotations

from ckanext.govservice.core import open311

from .. import samples


def test_a_service_decided_on_the_spot_is_realtime_and_others_batch():
    assert open311.service_type({"committed_limit": 0}) == "realtime"
    assert open311.service_type({"committed_limit": 3}) == "batch"


def test_an_entry_has_every_open311_field():
    entry = open311.service_entry(samples.as_shown(1), samples.DEPARTMENT)
    assert entry == {"service_code": "SC-S001", "service_name": "样例事项1",
                     "description": "为企业办理设立登记并核发营业执照。", "metadata": False,
                     "type": "batch", "keywords": entry["keywords"], "group": "滨江市市场监督管理局"}
    assert entry["keywords"].split(",")[:2] == ["户籍办理", "证件办理"]


def test_an_entry_in_english():
    entry = open311.service_entry(samples.as_shown(1), samples.DEPARTMENT, locale="en")
    assert entry["service_name"] == "Sample service 1"
    assert entry["group"] == "Binjiang Market Regulation Bureau"
    assert entry["keywords"].startswith("Household registration,Identity documents")
