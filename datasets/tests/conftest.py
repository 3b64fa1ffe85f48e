"""Tests of datasets/: the demo city's generator and files, and the feed
templates. unit/ needs nothing running (``make test-unit``); integration/ loads
the demo's services and statistics into the test site (CKAN in-process, the test
databases). The demo city, read once per module, for both.
"""
from __future__ import annotations

import json

import pytest

from demo_city import CITY, read_feed, read_statistics


@pytest.fixture(scope="module")
def departments():
    return json.loads((CITY / "departments.json").read_text(encoding="utf-8"))["departments"]


@pytest.fixture(scope="module")
def planted():
    return json.loads((CITY / "planted-mistakes.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def feeds(departments):
    return {d["name"]: read_feed(d) for d in departments}


@pytest.fixture(scope="module")
def statistics(departments):
    return {d["name"]: read_statistics(d) for d in departments}
