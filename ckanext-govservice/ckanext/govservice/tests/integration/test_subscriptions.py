"""Subscriptions to change (issue 17) on the real stack: Atom feeds from CKAN's
activity, webhooks delivered signed to a receiving server on loopback (allowed
for the test only, as the harvesters' tests allow their feed server), retried
and turned off, kept from other users, and e-mail digests to a local SMTP server."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree as ET

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from ckanext.govservice import subscriptions

from .. import factories as gov
from ..pages import checked
from .test_alerts import inbox  # noqa: F401 (a fixture: a local SMTP server)

ATOM = {"a": "http://www.w3.org/2005/Atom"}


class Receiver:
    """A developer's server on loopback: records each POST; answers the statuses
    queued in ``answers`` (200 once they run out)."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/govservice"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def store(statistics_db, sysadmin):
    """Migrated stores, and no fan-out cursor left by an earlier test."""
    r = subscriptions._redis()
    for key in r.keys(f"{subscriptions.REDIS_KEY}:*"):
        r.delete(key)
    return sysadmin


@pytest.fixture
def developer(store):
    user = factories.User()
    return {"user": user["name"], "id": user["id"]}


FEE_80 = [{"name": "工本费", "amount": "80.00", "currency": "CNY"}]
FEE_0 = [{"name": "工本费", "amount": "0.00", "currency": "CNY"}]


def _service(store, **overrides):
    dept = gov.department(name="market-regulation")
    return gov.service(dept["id"], context=dict(store), name="licence", fees=FEE_80, **overrides)


def _cut_the_fee(store, service):
    helpers.call_action("package_patch", context=dict(store), id=service["id"], fees=FEE_0)


def _webhook(developer, url, follows="service", value="licence"):
    return helpers.call_action("govservice_webhook_create", context={"user": developer["user"]},
                               target_url=url, follows=follows, value=value)


def _entries(app, url):
    response = checked(app, url)
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.get_data())
    return root, root.findall("a:entry", ATOM)


# ---------------------------------------------------------------- Atom feeds

def test_an_atom_entry_says_what_a_fee_cut_changed(app, store):
    service = _service(store)
    _cut_the_fee(store, service)
    root, entries = _entries(app, "/en/service/licence/changes.atom")
    assert [root.find(f"a:{t}", ATOM) is not None for t in ("id", "title", "updated")] == [True] * 3
    newest = entries[0]
    assert newest.find("a:content", ATOM).text == "<ul><li>Fees (工本费): 80.00 → 0.00 yuan</li></ul>"
    assert newest.find("a:link", ATOM).get("href").endswith("/en/service/licence")
    assert [e.find("a:title", ATOM).text for e in entries] == [
        "Business licence issuance: Fees (工本费): 80.00 → 0.00 yuan", "Business licence issuance: published"]


def test_the_department_theme_and_life_event_feeds_carry_the_change_in_chinese(app, store):
    _cut_the_fee(store, _service(store))
    for url in ("/organization/market-regulation/changes.atom", "/service/theme/business/changes.atom",
                "/service/life-event/starting_a_business/changes.atom"):
        _, entries = _entries(app, url)
        assert entries[0].find("a:content", ATOM).text == "<ul><li>收费（工本费）：80.00 → 0.00 元</li></ul>", url


def test_a_private_service_is_in_no_feed(app, store):
    service = _service(store, private=True)
    _cut_the_fee(store, service)
    checked(app, "/service/licence/changes.atom", status=404)
    _, entries = _entries(app, "/organization/market-regulation/changes.atom")
    assert entries == []


def test_a_feed_of_an_unknown_theme_is_not_found(app, store):
    checked(app, "/service/theme/no-such-theme/changes.atom", status=404)


# ---------------------------------------------------------------- webhooks

def test_a_webhook_on_a_loopback_or_private_address_is_refused(developer):
    for url in ("http://127.0.0.1:8080/hook", "http://10.0.0.5/hook", "http://169.254.169.254/latest"):
        with pytest.raises(tk.ValidationError) as refused:
            _webhook(developer, url, follows="theme", value="business")
        assert "private or local address" in refused.value.error_dict["target_url"][0], url


def test_a_webhook_must_name_something_to_follow(developer, receiver):
    with pytest.raises(tk.ValidationError) as refused:
        _webhook(developer, receiver.url, follows="theme", value="gardening")
    assert refused.value.error_dict["value"] == [
        "'gardening' is not a code of the theme vocabulary (see govservice_schema)"]


def test_a_change_is_delivered_signed_with_the_secret_shown_once(store, developer, receiver):
    service = _service(store)
    hook = _webhook(developer, receiver.url)
    assert "secret" not in helpers.call_action("govservice_webhook_list", context={"user": developer["user"]})[0]
    _cut_the_fee(store, service)
    assert subscriptions.fan_out()["queued"] == 1
    assert subscriptions.deliver_due()["delivered"] == 1
    (headers, body), = receiver.received
    expected = "sha256=" + hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-govservice-signature"] == expected
    sent = json.loads(body)
    assert (sent["event"], sent["service"]["name"], [c["en"] for c in sent["changes"]]) == (
        "service.changed", "licence", ["Fees (工本费): 80.00 → 0.00 yuan"])
    assert subscriptions.fan_out()["queued"] == 0        # queued once, however often it looks


def test_a_failed_delivery_is_tried_again_after_its_wait(store, developer, receiver):
    service = _service(store)
    hook = _webhook(developer, receiver.url)
    _cut_the_fee(store, service)
    subscriptions.fan_out()
    receiver.answers = [503]
    now = dt.datetime.now(dt.timezone.utc)
    assert subscriptions.deliver_due(now)["failed"] == 1
    assert subscriptions.deliver_due(now + dt.timedelta(seconds=30)) == {
        "delivered": 0, "failed": 0, "webhooks_disabled": 0}          # not due yet (60 s)
    assert subscriptions.deliver_due(now + dt.timedelta(seconds=61))["delivered"] == 1
    log = helpers.call_action("govservice_webhook_deliveries", context={"user": developer["user"]}, id=hook["id"])
    (delivery,) = log["deliveries"]
    assert (delivery["status"], delivery["attempts"], delivery["response_code"]) == ("delivered", 2, 200)
    assert len(receiver.received) == 2 and receiver.received[0][1] == receiver.received[1][1]


def test_a_webhook_failing_again_and_again_is_turned_off(store, developer, receiver, monkeypatch):
    monkeypatch.setitem(tk.config, "ckanext.govservice.webhooks.disable_after", 3)
    service = _service(store)
    hook = _webhook(developer, receiver.url)
    _cut_the_fee(store, service)
    subscriptions.fan_out()
    receiver.answers = [500] * 10
    now = dt.datetime.now(dt.timezone.utc)
    ran = [subscriptions.deliver_due(now + dt.timedelta(days=n)) for n in range(4)]
    assert [r["failed"] for r in ran] == [1, 1, 1, 0]
    (shown,) = helpers.call_action("govservice_webhook_list", context={"user": developer["user"]})
    assert (shown["id"], shown["active"], shown["failures_in_a_row"]) == (hook["id"], False, 3)
    assert shown["disabled_reason"].endswith("after 3 failed deliveries in a row; the last: the receiver answered HTTP 500")


def test_a_target_rebound_to_a_private_address_is_refused_at_delivery(store, developer, receiver, monkeypatch):
    service = _service(store)
    hook = _webhook(developer, receiver.url)
    _cut_the_fee(store, service)
    subscriptions.fan_out()
    monkeypatch.delenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS")     # as if the name now resolved to loopback
    assert subscriptions.deliver_due()["failed"] == 1
    (delivery,) = helpers.call_action("govservice_webhook_deliveries", context={"user": developer["user"]},
                                      id=hook["id"])["deliveries"]
    assert "resolves to 127.0.0.1, a private or local address" in delivery["last_error"]
    assert receiver.received == []


def test_a_payload_is_bounded_and_says_what_it_left_out(store, developer, receiver, monkeypatch):
    monkeypatch.setitem(tk.config, "ckanext.govservice.webhooks.max_payload_bytes", 1500)
    service = _service(store)
    _webhook(developer, receiver.url)
    helpers.call_action("package_patch", context=dict(store), id=service["id"], fees=FEE_0,
                        themes=["business", "tax", "housing", "health", "employment", "transport"],
                        notes="新的说明", eligibility="任何企业", output_name="电子营业执照")
    subscriptions.fan_out()
    subscriptions.deliver_due()
    (_, body), = receiver.received
    sent = json.loads(body)
    assert len(body) <= 1500 and sent["changes_left_out"] >= 1
    assert len(sent["changes"]) + sent["changes_left_out"] == 9


def test_another_user_can_neither_see_nor_delete_your_webhook(store, developer, receiver):
    hook = _webhook(developer, receiver.url, follows="theme", value="business")
    other = {"user": factories.User()["name"]}
    assert helpers.call_action("govservice_webhook_list", context=dict(other)) == []
    for action in ("govservice_webhook_deliveries", "govservice_webhook_delete"):
        with pytest.raises(tk.ObjectNotFound):
            helpers.call_action(action, context=dict(other), id=hook["id"])
    assert [h["id"] for h in helpers.call_action("govservice_webhook_list", context=dict(store))] == [hook["id"]]


def test_an_anonymous_caller_cannot_register_a_webhook(app, store, receiver):
    response = app.post("/api/action/govservice_webhook_create",
                        json={"target_url": receiver.url, "follows": "theme", "value": "business"})
    assert response.status_code == 403


# ---------------------------------------------------------------- e-mail digests

def test_a_digest_of_a_followed_service_reaches_the_mail_server(store, inbox, monkeypatch):  # noqa: F811
    monkeypatch.setitem(tk.config, "ckan.activity_streams_email_notifications", True)
    citizen = factories.User(email="citizen@example.cn", activity_streams_email_notifications=True)
    service = _service(store)
    helpers.call_action("follow_dataset", context={"user": citizen["name"]}, id=service["id"])
    _cut_the_fee(store, service)
    assert subscriptions.send_digests() == {"sent": True}
    (recipients, mail), = inbox.messages
    assert recipients == ["citizen@example.cn"]
    from email.header import decode_header, make_header
    assert str(make_header(decode_header(mail["Subject"]))).startswith("2 new activities from ")
    body = mail.get_payload(decode=True).decode("utf-8")
    assert f"{tk.config['ckan.site_url']}/dashboard" in body      # the creation and the fee cut
    assert f"- 企业营业执照核发: {tk.config['ckan.site_url']}/service/licence" in body


def test_digests_are_off_unless_ckan_sends_activity_emails(store, monkeypatch):
    monkeypatch.setitem(tk.config, "ckan.activity_streams_email_notifications", False)
    assert subscriptions.send_digests()["sent"] is False


def test_the_pages_link_their_feeds(app, store):
    _service(store)
    for page, feed in (("/service/licence", "/service/licence/changes.atom"),
                       ("/organization/market-regulation", "/organization/market-regulation/changes.atom"),
                       ("/service/theme/business", "/service/theme/business/changes.atom"),
                       ("/service/life-event/retiring", "/service/life-event/retiring/changes.atom")):
        html = checked(app, page).get_data(as_text=True)
        assert f'<link rel="alternate" type="application/atom+xml" href="{feed}"' in html, page
        checked(app, feed)


def test_the_webhooks_page_shows_your_own_and_their_log_not_anothers(app, store, developer, receiver):
    service = _service(store)
    mine = _webhook(developer, receiver.url)
    _cut_the_fee(store, service)
    subscriptions.fan_out()
    subscriptions.deliver_due()
    other = factories.User()
    theirs = _webhook({"user": other["name"]}, receiver.url + "/theirs", follows="theme", value="tax")
    page = checked(app, "/en/api/govservice/webhooks", headers={"Authorization": developer_token(developer)})
    html = page.get_data(as_text=True)
    assert f'id="webhook-{mine["id"]}"' in html and "service.changed · licence" in html
    assert theirs["id"] not in html and "/theirs" not in html
    assert "Sign in to see your webhooks." in checked(app, "/en/api/govservice/webhooks").get_data(as_text=True)


def developer_token(developer) -> str:
    return helpers.call_action("api_token_create", context={"user": developer["user"]},
                               user=developer["user"], name="webhooks")["token"]


def test_a_user_may_register_only_so_many_webhooks(developer, receiver, monkeypatch):
    monkeypatch.setitem(tk.config, "ckanext.govservice.webhooks.per_user", 2)
    _webhook(developer, receiver.url, follows="theme", value="business")
    _webhook(developer, receiver.url, follows="theme", value="tax")
    with pytest.raises(tk.ValidationError) as refused:
        _webhook(developer, receiver.url, follows="theme", value="housing")
    assert refused.value.error_dict["webhooks"] == [
        "you have 2 webhooks, as many as a user may register; delete one first"]


def test_the_scheduled_task_delivers_and_keeps_the_log_to_30_days(store, developer, receiver):
    service = _service(store)
    hook = _webhook(developer, receiver.url)
    _cut_the_fee(store, service)
    ran = subscriptions.run_webhooks()
    assert (ran["fan_out"]["queued"], ran["delivery"]["delivered"], ran["forgotten"]) == (1, 1, 0)
    assert subscriptions.forget_old_deliveries(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=31)) == 1
    assert helpers.call_action("govservice_webhook_deliveries", context={"user": developer["user"]},
                               id=hook["id"])["deliveries"] == []


def test_a_failing_receiver_is_tried_once_a_run_not_once_per_waiting_change(store, developer, receiver):
    service = _service(store)
    hook = _webhook(developer, receiver.url)
    _cut_the_fee(store, service)
    helpers.call_action("package_patch", context=dict(store), id=service["id"], output_name="电子驾驶证")
    assert subscriptions.fan_out()["queued"] == 2
    receiver.answers = [500, 500]
    assert subscriptions.deliver_due()["failed"] == 1
    log = helpers.call_action("govservice_webhook_deliveries", context={"user": developer["user"]}, id=hook["id"])
    assert sorted(d["attempts"] for d in log["deliveries"]) == [0, 1]


def test_webhooks_following_a_department_or_a_life_event_are_told_their_services_changes(
        store, developer, receiver):
    service = _service(store)
    _webhook(developer, receiver.url + "/department", follows="department", value="market-regulation")
    _webhook(developer, receiver.url + "/life-event", follows="life_event", value="starting_a_business")
    _webhook(developer, receiver.url + "/retiring", follows="life_event", value="retiring")
    _cut_the_fee(store, service)
    subscriptions.run_webhooks()
    told = sorted(json.loads(body)["follows"]["kind"] for _, body in receiver.received)
    assert told == ["department", "life_event"]
