"""Alerts e-mailed through CKAN's mailer to a local SMTP server (aiosmtpd): a target
missed and a failing source are told once to the department's admins and the data
office, not again while unchanged; the department's Atom feed lists them."""
from __future__ import annotations

import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from ckanext.govservice import alerts, feed_health
from ckanext.govservice.core import kpis as stats

from .. import factories as gov
from ..pages import checked
from .test_feed_health import harvest_db, harvested  # noqa: F401 (a fixture)
from .test_statistics import HEADER, load_csv


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def inbox(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(tk.config, "smtp.server", f"127.0.0.1:{port}")
    monkeypatch.setitem(tk.config, "smtp.mail_from", "alerts@binjiang.example.gov.cn")
    yield box
    controller.stop()


@pytest.fixture
def slipping(statistics_db, sysadmin, dept, harvest_db):  # noqa: F811
    """market-regulation's on-time rate at 80% for the last three complete months,
    against its standard of 95%; an admin with an e-mail address."""
    admin = factories.User(email="admin@market.example.gov.cn")
    helpers.call_action("organization_member_create", id="market-regulation", username=admin["name"], role="admin")
    gov.service(dept["id"], service_code="SR-1", name="sr-1")
    month = feed_health.last_complete_month()
    load_csv(sysadmin, "market-regulation", HEADER + "".join(
        f"SR-1,{stats.shift_period(month, -n)},online,10,10,8,10,,,,,,,,,\n" for n in range(3)))
    helpers.call_action("govservice_standards_set", context=dict(sysadmin), kpi="on_time_rate",
                        department="market-regulation", target=0.95)
    from ckan import model
    data_office = sorted(u.email for u in model.Session.query(model.User).filter_by(sysadmin=True, state="active")
                         if u.email)
    return {"admin": admin["email"], "data_office": data_office, "month": month, "harvest": harvest_db}


def test_alerts_are_e_mailed_once_not_twice_a_new_one_alone_and_all_are_in_the_atom_feed(app, inbox, slipping):
    alerts.run()
    assert sorted(rcpt for tos, _ in inbox.messages for rcpt in tos) == sorted(
        [slipping["admin"], *slipping["data_office"]])
    sent = len(inbox.messages)
    _, mail = inbox.messages[0]
    body = mail.get_payload(decode=True).decode("utf-8")
    first = stats.shift_period(slipping["month"], -2)
    assert "On-time rate: red, target 95% missed in " + slipping["month"] + " (3 months in a row)" in body
    assert f"since {first}-01T00:00" in body
    assert "1 service(s) missed the On-time rate standard 3 months or more in a row up to " + slipping["month"] in body
    assert f"{tk.config['ckan.site_url']}/performance/market-regulation" in body
    alerts.run()                                  # nothing changed: nothing sent
    assert len(inbox.messages) == sent
    # a new condition is sent alone; the Atom feed lists all three
    harvested(slipping["harvest"], "market-regulation-statistics", "market-regulation",
              ("done", "2 days", None, '{"rows": 3, "rejected": 0}'),
              ("failed", "1 hour", "HTTP 503 from https://feeds.example.gov.cn/stats.csv", "{}"))
    alerts.run()
    assert len(inbox.messages) == 2 * sent        # every recipient, once more
    body = inbox.messages[-1][1].get_payload(decode=True).decode("utf-8")
    assert "1 new or changed alert(s)" in body
    assert "harvest source market-regulation-statistics is failing: HTTP 503 from" in body
    assert "/performance/feeds/market-regulation" in body
    feed = checked(app, "/en/performance/market-regulation/alerts.atom")
    assert feed.headers["Content-Type"].startswith("application/atom+xml")
    assert feed.get_data(as_text=True).count("<entry>") == 3
    assert "On-time rate: red, target 95% missed" in feed.get_data(as_text=True)


def test_alerts_are_worded_in_chinese_too_in_the_e_mail_and_the_chinese_feed(app, inbox, slipping):
    harvested(slipping["harvest"], "market-regulation-statistics", "market-regulation",
              ("failed", "1 hour", "HTTP 503 from https://feeds.example.gov.cn/stats.csv", "{}"))
    alerts.run()
    body = inbox.messages[0][1].get_payload(decode=True).decode("utf-8")
    first = stats.shift_period(slipping["month"], -2)
    assert f"按时办结率：红，{slipping['month']} 未达到目标 95%（连续 3 个月）" in body
    assert f"始于 {first}-01T00:00" in body
    assert "采集源 market-regulation-statistics 采集失败：HTTP 503 from" in body
    assert body.index("采集源") < body.index("harvest source")        # Chinese first, then English
    from email.header import decode_header, make_header
    subject = str(make_header(decode_header(inbox.messages[0][1]["Subject"])))
    assert "：3 条提醒 / " in subject and subject.endswith(": 3 alert(s)")
    feed = checked(app, "/performance/market-regulation/alerts.atom").get_data(as_text=True)   # the site's language
    assert f"按时办结率：红，{slipping['month']} 未达到目标 95%（连续 3 个月）" in feed
    assert "On-time rate" not in feed
