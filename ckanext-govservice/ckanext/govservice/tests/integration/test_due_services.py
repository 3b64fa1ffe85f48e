"""When services become due (issue 17): the reminder fields on a service, the
govservice_due_services action (nothing written, nothing logged, impossible dates
refused naming the field), the rules as open data and the "what is due for me" page."""
from __future__ import annotations

import json
import logging
import re

import pytest
import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.tests import helpers

from ckanext.govservice import due as reminders

from .. import factories as gov
from ..pages import fetch, fetch_json

pytestmark = pytest.mark.usefixtures("clean_index")

ACTION = "/api/3/action/govservice_due_services"
EXPIRY_90_DAYS_BEFORE = {"trigger": "output_expiry", "offset": 90, "offset_unit": "days", "direction": "before",
                         "prepare": "原驾驶证和体检证明", "prepare_en": "The old licence and a health certificate"}


@pytest.fixture
def licence(sysadmin, dept):
    """A driving licence valid 6 years, its renewal due 90 days before it expires."""
    return gov.service(dept["id"], name="driving-licence", title="机动车驾驶证核发",
                       output_name="机动车驾驶证", output_validity=6, output_validity_unit="years",
                       reminders=[EXPIRY_90_DAYS_BEFORE])


@pytest.fixture
def birth(sysadmin, dept):
    return gov.service(dept["id"], name="birth-registration", title="出生登记", reminders=[
        {"trigger": "birth", "offset": 1, "offset_unit": "months", "direction": "after", "prepare": "出生医学证明"}])


def ask(app, status=200, **body):
    response = app.post(ACTION, json=body)
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    return response.json


# ---------------------------------------------------------------- the fields on a service

def test_an_expiry_reminder_on_a_service_whose_output_has_no_validity_and_renews_nothing_is_refused(sysadmin, dept):
    with pytest.raises(tk.ValidationError) as caught:
        gov.service(dept["id"], reminders=[{"trigger": "output_expiry", "offset": 30}])
    [reason] = caught.value.error_dict["reminders"][0]["trigger"]
    assert "output_validity" in reason and "renews_basic_code" in reason


def test_a_reminder_is_stored_with_its_defaults(licence):
    assert helpers.call_action("package_show", id=licence["id"])["reminders"] == [EXPIRY_90_DAYS_BEFORE]


def test_the_service_page_says_when_it_becomes_due(app, licence):
    page = fetch(app, "/service/driving-licence")
    assert re.search(r'class="govservice-reminder-when">证照到期前90日</strong>.*原驾驶证和体检证明', page)
    english = fetch(app, "/en/service/driving-licence")
    assert "90 days before an output expires" in english and "The old licence and a health certificate" in english


def test_a_service_without_reminders_renders_without_the_section(app, sysadmin, dept):
    gov.service(dept["id"], name="no-reminders")
    assert 'id="reminders"' not in fetch(app, "/service/no-reminders")


# ---------------------------------------------------------------- the action

def test_a_licence_issued_on_2_march_2021_is_due_on_2_december_2026(app, licence):
    [found] = ask(app, events=[{"output": "driving-licence", "issued": "2021-03-02"}], today="2026-11-29")["result"]["due"]
    assert (found["service"], found["trigger_date"], found["due_date"], found["days_left"]) == (
        "driving-licence", "2027-03-02", "2026-12-02", 3)
    assert (found["when_zh"], found["prepare"]) == ("证照到期前90日", "原驾驶证和体检证明")


def test_the_answer_says_where_and_what_to_bring(app, licence):
    [found] = ask(app, events=[{"output": "driving-licence", "issued": "2021-03-02"}],
                  today="2026-11-29")["result"]["due"]
    assert [c["channel_type"] for c in found["channels"]] == ["online", "in_person"]
    assert [(d["name"], d["mandatory"], d["no_need_to_bring"]) for d in found["documents"]] == [
        ("居民身份证", True, False), ("公司章程", True, False)]


def test_events_of_both_kinds_are_answered_soonest_first(app, licence, birth):
    due = ask(app, events=[{"output": "driving-licence", "issued": "2021-03-02"}, {"event": "birth", "date": "2026-10-31"}],
              today="2026-11-29")["result"]["due"]
    assert [(d["service"], d["due_date"]) for d in due] == [("birth-registration", "2026-11-30"),
                                                            ("driving-licence", "2026-12-02")]


def test_the_action_answers_get_as_every_read_action_does(app, birth):
    events = json.dumps([{"event": "birth", "date": "2026-10-31"}])
    result = fetch_json(app, f"{ACTION}?events={events}&today=2026-11-29")["result"]
    assert [d["due_date"] for d in result["due"]] == ["2026-11-30"]


@pytest.mark.parametrize("events, field", [
    ([{"event": "birth", "date": "2026-02-30"}], "events[0].date"),
    ([{"output": "driving-licence", "issued": "2027-01-01"}], "events[0].issued"),
    ([{"event": "birth", "date": "2026-01-01"}, {"event": "hatching", "date": "2026-01-01"}], "events[1].event"),
])
def test_an_impossible_event_is_a_400_naming_the_field(app, events, field):
    error = ask(app, 400, events=events, today="2026-11-29")["error"]
    assert error["__type"] == "Validation Error" and list(error) == [field, "__type"]


def test_an_unreadable_today_is_a_validation_error_naming_it(app):
    assert "today" in ask(app, 409, events=[{"event": "birth", "date": "2026-01-01"}], today="2026-13-01")["error"]


# ---------------------------------------------------------------- nothing written, nothing logged

def _row_counts() -> dict[str, int]:
    from ckanext.datastore.backend.postgres import get_write_engine
    counts = {}
    for name, engine in (("ckan", model.meta.engine), ("datastore", get_write_engine())):
        with engine.connect() as conn:
            tables = conn.execute(sa.text(
                "SELECT schemaname, relname FROM pg_stat_user_tables "
                "WHERE schemaname NOT LIKE 'pg\\_%temp\\_%' ORDER BY 1, 2")).all()   # others' temp tables
            for schema_name, table in tables:
                counts[f"{name}:{schema_name}.{table}"] = conn.execute(
                    sa.text(f'SELECT count(*) FROM "{schema_name}"."{table}"')).scalar()
    return counts


def test_asking_writes_no_row_in_any_table(app, licence, birth):
    model.Session.commit()
    before = _row_counts()
    ask(app, events=[{"output": "driving-licence", "issued": "2021-03-02"}, {"event": "birth", "date": "2026-10-31"}])
    ask(app, 400, events=[{"event": "birth", "date": "2026-02-30"}])
    fetch(app, "/due")
    after = _row_counts()
    assert len(before) > 20
    assert {t: (before[t], after.get(t)) for t in before if before[t] != after.get(t)} == {}


@pytest.fixture
def everything_logged(caplog, monkeypatch):
    """Every record any logger writes during the test, debug included (CKAN's config
    disables loggers that existed before it; they are switched back on)."""
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and logger.disabled:
            monkeypatch.setattr(logger, "disabled", False)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="ckan.views.api")
    return caplog


def test_the_dates_asked_about_leave_no_trace_in_the_log(app, licence, birth, everything_logged):
    ask(app, events=[{"output": "driving-licence", "issued": "2019-07-23"}, {"event": "birth", "date": "2026-04-17"}])
    ask(app, 400, events=[{"event": "birth", "date": "2026-02-30"}])
    text = everything_logged.text
    assert "its parameters are never logged" in text       # CKAN did try to log the request data
    for date in ("2019-07-23", "2026-04-17", "2026-02-30"):
        assert date not in text


def test_another_actions_request_data_is_still_logged(app, everything_logged):
    app.post("/api/3/action/package_search", json={"q": "marker-7f3a"})
    assert "marker-7f3a" in everything_logged.text


# ---------------------------------------------------------------- the rules as open data, and the page

def test_the_rules_json_has_its_dictionary_and_a_row_per_service_and_rule(app, licence, birth):
    document = fetch_json(app, "/due/rules.json")
    assert [f["column"] for f in document["fields"]][:3] == ["service", "service_title", "service_title_en"]
    assert sorted((r["service"], r["trigger"], r["output_validity"]) for r in document["rules"]) == [
        ("birth-registration", "birth", None), ("driving-licence", "output_expiry", 6)]
    assert [d["name"] for d in document["services"]["driving-licence"]["documents"]] == ["居民身份证", "公司章程"]


def test_the_rules_are_published_as_an_open_dataset(licence, birth):
    published = reminders.publish()
    assert published["rows"] == 2
    dataset = helpers.call_action("package_show", id="reminder-rules")
    assert sorted(r["format"] for r in dataset["resources"]) == ["CSV", "JSON"]
    assert "| `offset_unit` | 相隔时间单位 | days, months or years |" in dataset["notes"]


def test_the_page_offers_the_life_events_and_the_outputs_and_sends_nothing_by_itself(app, licence):
    page = fetch(app, "/due")
    assert '<option value="birth">出生</option>' in page
    assert '<option value="output:driving-licence">机动车驾驶证</option>' in page
    assert 'method="post"' in page and "/due/rules.json" in page
    assert 'data-service-base="/service/"' in page
    assert "_due.js" in page or "due.js" in page


def test_the_page_in_english(app, licence):
    page = fetch(app, "/en/due")
    assert "What is due for me" in page and '<option value="birth">A birth</option>' in page


def test_without_javascript_the_form_is_answered_by_post(app, licence):
    page = app.post("/due", data={"kind": ["output:driving-licence", ""], "date": ["2021-03-02", ""]})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "2027-01-31" not in text   # not a due date of this rule
    assert re.search(r"\d{4}-\d{2}-\d{2} · 证照到期前90日", text)


def test_an_impossible_date_on_the_form_names_the_field(app, licence):
    text = app.post("/due", data={"kind": ["birth"], "date": ["2026-02-30"]}).get_data(as_text=True)
    assert "events[0].date" in text


def test_the_life_event_pages_and_the_browse_page_lead_to_the_due_page(app, birth):
    for url in ("/service/life-event/having_a_baby", "/service/theme/"):
        assert re.search(r'id="due-link"><a href="/due">我有哪些事要办</a>', fetch(app, url)), url


def test_the_dates_asked_about_are_kept_nowhere_in_redis(app, licence):
    from ckan.lib.redis import connect_to_redis
    ask(app, events=[{"output": "driving-licence", "issued": "2018-05-19"}])
    fetch(app, "/due")
    redis = connect_to_redis()
    kept = []
    for key in redis.scan_iter(count=1000):
        kind = redis.type(key)
        values = ([redis.get(key)] if kind == b"string" else redis.lrange(key, 0, -1) if kind == b"list"
                  else list(redis.hgetall(key).items()) if kind == b"hash" else [])
        kept.append(repr((key, values)))
    assert not [k for k in kept if "2018-05-19" in k]


def test_the_page_links_the_rules_dataset_once_published_and_their_json_before(app, licence):
    assert re.search(r'id="due-rules-link" href="/due/rules.json"', fetch(app, "/due"))
    reminders.publish()
    assert re.search(r'id="due-rules-link" href="/dataset/reminder-rules"', fetch(app, "/due"))
