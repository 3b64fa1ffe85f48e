"""The portal's home page: search, themes and life events with counts, headline KPIs."""
from __future__ import annotations

import pytest

from .. import factories as gov
from .test_statistics import HEADER, load_csv
from ..pages import fetch


@pytest.mark.usefixtures("with_request_context")
def test_home_page_searches_services_and_browses_themes_and_life_events(app, statistics_db, sysadmin, dept):
    gov.service(dept["id"], service_code="H-1", name="h-1", themes=["business"],
                life_events=["starting_a_business"])
    load_csv(sysadmin, "market-regulation", HEADER + "H-1,2026-01,online,10,8,6,8,,,,,,,,,\n")
    page = fetch(app, "/")
    assert 'action="/service/"' in page and 'name="q"' in page
    assert 'href="/service/theme/business"' in page
    assert 'href="/service/life-event/starting_a_business"' in page
    assert "全平台绩效（2026-01 至 2026-01）" in page or "全平台绩效（2025-02 至 2026-01）" in page
    assert "75%" in page                                   # on-time: 6 of 8
    english = fetch(app, "/en/")
    assert "Government services open data" in english and "On-time rate" in english


def test_home_page_without_statistics_still_serves(app, statistics_db):
    page = fetch(app, "/")
    assert "政务服务数据开放平台" in page
