"""The "what is due for me" page's script (assets/due.js), run under node: its dates
agree with core/due.py's, and its iCalendar file follows RFC 5545."""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ckanext.govservice.core import due

SCRIPT = Path(__file__).resolve().parents[2] / "assets" / "due.js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run(expression: str) -> object:
    program = f"const due = require({json.dumps(str(SCRIPT))});\nprocess.stdout.write(JSON.stringify({expression}));"
    return json.loads(subprocess.run([NODE, "-e", program], check=True, capture_output=True,
                                     text=True, timeout=60).stdout)


def test_the_script_shifts_dates_as_the_core_does_across_month_ends_and_leap_years():
    starts = ["2024-01-31", "2024-02-29", "2025-02-28", "2026-03-31", "2026-12-31", "2027-08-31"]
    cases = [(d, n, unit) for d in starts for n in (-13, -1, 1, 6, 90) for unit in ("days", "months", "years")]
    script = run("%s.map(([d, n, u]) => due.shift(due.parseDate(d), n, u).toISOString().slice(0, 10))"
                 % json.dumps(cases))
    assert script == [due.shift(dt.date.fromisoformat(d), n, u).isoformat() for d, n, u in cases]


def test_the_script_finds_the_same_services_due_as_the_action():
    services = [{"name": "licence-renewal", "basic_code": "BI-DL", "output_validity": 6,
                 "output_validity_unit": "years", "reminders": [
                     {"trigger": "output_expiry", "offset": 90, "offset_unit": "days", "direction": "before"}]},
                {"name": "birth-registration", "reminders": [
                    {"trigger": "birth", "offset": 1, "offset_unit": "months", "direction": "after"}]}]
    rules = due.rule_rows(services)
    today = dt.date(2026, 11, 29)
    events = due.read_events([{"output": "BI-DL", "issued": "2021-03-02"},
                              {"event": "birth", "date": "2026-01-31"}], today)
    expected = due.due(rules, events, today)
    script = run("due.due(%s, [{output: 'BI-DL', issued: due.parseDate('2021-03-02')}, "
                 "{event: 'birth', date: due.parseDate('2026-01-31')}], due.parseDate('2026-11-29'))"
                 % json.dumps(rules))
    assert [(r["service"], r["due_date"], r["days_left"]) for r in script] == [
        (r["service"], r["due_date"], r["days_left"]) for r in expected] == [
        ("birth-registration", "2026-02-28", -274), ("licence-renewal", "2026-12-02", 3)]


def test_the_script_refuses_an_impossible_date():
    assert run("['2026-02-30', '2026-13-01', '01/11/2026', '2028-02-29'].map(d => due.parseDate(d) && 'ok')") == [
        None, None, None, "ok"]


ITEM = {"uid": "licence-renewal-1-2026-12-02@example.gov.cn", "date": "2026-12-02",
        "summary": "办理：机动车驾驶证换证（证照到期前90日），请携带身份证、驾驶证和体检证明，别忘了",
        "description": "身份证; 驾驶证, 体检证明\n/service/licence-renewal",
        "url": "https://example.gov.cn/service/licence-renewal"}


def calendar() -> str:
    return run("due.ics(%s, {now: new Date(Date.UTC(2026, 10, 29, 8, 30, 0))})" % json.dumps([ITEM]))


def unfolded(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_the_calendar_has_crlf_lines_of_at_most_75_octets_folded_between_characters():
    text = calendar()
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines)   # the long summary was folded
    assert "\ufffd" not in text.encode("utf-8").decode("utf-8")


def test_the_calendar_is_one_vevent_with_an_all_day_start_summary_description_and_alarm():
    lines = unfolded(calendar())
    assert lines[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"]
    assert any(line.startswith("PRODID:") for line in lines)
    event = lines[lines.index("BEGIN:VEVENT"):lines.index("END:VEVENT") + 1]
    props = dict(line.split(":", 1) for line in event[1:event.index("BEGIN:VALARM")])
    assert props["DTSTART;VALUE=DATE"] == "20261202"
    assert props["DTEND;VALUE=DATE"] == "20261203"
    assert props["DTSTAMP"] == "20261129T083000Z"
    assert props["UID"] == ITEM["uid"]
    assert props["SUMMARY"] == ITEM["summary"].replace(",", "\\,").replace(";", "\\;")
    assert props["DESCRIPTION"] == "身份证\\; 驾驶证\\, 体检证明\\n/service/licence-renewal"
    alarm = event[event.index("BEGIN:VALARM"):event.index("END:VALARM") + 1]
    assert alarm[1:3] == ["ACTION:DISPLAY", "TRIGGER:-P7D"]
    assert any(line.startswith("DESCRIPTION:") for line in alarm)   # DISPLAY needs one
    assert lines[-2:] == ["END:VCALENDAR", ""]


def test_every_calendar_line_is_a_name_and_value():
    for line in unfolded(calendar())[:-1]:
        assert re.match(r"^[A-Z-]+(;[A-Z-]+=[^:;]+)*:", line), line
