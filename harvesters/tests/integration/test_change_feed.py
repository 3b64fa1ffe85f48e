"""A harvest that changes a fee is told in the service's Atom feed of changes
(issue 17): the department's CSV over HTTP into the test site, then the feed
read from the served site, as a feed reader reads it."""
import urllib.request
from xml.etree import ElementTree as ET

from test_pipeline import harvest, rewrite, services_of

ATOM = {"a": "http://www.w3.org/2005/Atom"}
HEADER = "事项编码,事项名称,事项类型,服务对象,承诺办结时限,到办事现场次数,收费\r\n"


def _row(amount: str) -> str:
    fees = f'"[{{""name"":""工本费"",""amount"":{amount}}}]"'
    return f"SC-FEE,机动车驾驶证换领,administrative_licence,citizen,5,1,{fees}\r\n"


def test_a_harvest_that_cuts_a_fee_is_told_in_the_services_atom_feed(portal, department, source, test_site):
    rewrite(source / "services.csv", (HEADER + _row("80.00")).encode("utf-8"))
    harvest(portal, "csv-feed")
    rewrite(source / "services.csv", (HEADER + _row("0")).encode("utf-8"))
    report = harvest(portal, "csv-feed")
    assert [c["record"] for c in report["changed"]] == ["SC-FEE"]

    name = services_of(portal, department)["SC-FEE"]["name"]
    with urllib.request.urlopen(f"{test_site}/en/service/{name}/changes.atom") as response:
        feed = ET.fromstring(response.read())
    newest = feed.find("a:entry", ATOM)
    assert newest.find("a:content", ATOM).text == "<ul><li>Fees (工本费): 80.00 → 0.00 yuan</li></ul>"
