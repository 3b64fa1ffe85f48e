"""What a GovService platform publishes for the sample services
(ckanext.govservice.tests.samples), as the feeds another platform's harvester
reads: CPSV-AP and an Open311 service list. Shared by unit/ and integration/
(this folder is on sys.path through its conftest.py, as test_pipeline is to
integration/).
"""
from __future__ import annotations

from pathlib import Path

from ckanext.govservice.core import cpsv as rdf, open311
from ckanext.govservice.tests import samples

BASE = "http://other-platform.example.gov.cn"
EXAMPLE = (Path(__file__).resolve().parents[2] / "datasets" / "standards" / "cpsv-ap-3.2.0"
           / "example-rdf_public_service.ttl")
# What the example lacks that every service must have (service.yaml's required fields).
REQUIRED_MISSING_FROM_EXAMPLE = {"title", "service_type", "audience", "committed_limit", "in_person_visits"}
# What an Open311 list lacks, given by the source.
DEFAULTS = {"service_type": "public_service", "audience": "both", "committed_limit": "5",
            "in_person_visits": "1"}


def our_feed(indexes, fmt="turtle", implementation_prefix: str | None = None) -> str:
    """What a GovService platform publishes for these sample services.
    ``implementation_prefix``: their implementation codes made unique to a test
    (an implementation code is unique on the whole platform, and other tests'
    sample services hold the samples' own)."""
    shown = [samples.as_shown(i) for i in indexes]
    if implementation_prefix:
        shown = [{**s, "implementation_code": f"{implementation_prefix}-{s['implementation_code']}"}
                 for s in shown]
    return rdf.services_to_graph([(s, samples.DEPARTMENT) for s in shown], BASE).serialize(format=fmt)


def our_list(indexes, locale="zh_Hans_CN") -> list[dict]:
    """What this platform serves at /open311/v2/services.json for these sample services."""
    return [open311.service_entry(samples.as_shown(i), samples.DEPARTMENT, locale) for i in indexes]
