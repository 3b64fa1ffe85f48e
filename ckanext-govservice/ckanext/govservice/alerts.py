"""Alerts: what has gone wrong in a department, told once to its admins and the data office.

The conditions, per department:

* ``target_missed``: one of its KPIs missed its standard in the latest month
  with figures (subject: the KPI; the condition: red or amber, and whether it
  has now been missed 3 months in a row);
* ``services_flagged``: its services that missed a standard 3 months or more
  in a row (subject: the KPI; the condition: which services);
* ``source_stale`` / ``source_failing``: a harvest source (subject: its name)
  with no successful harvest for the configured days, or whose latest harvest
  failed (the condition includes the error);
* ``coverage_low``: fewer of its active services reported the last complete
  month than the threshold;
* ``links_broken``: channel or legal-basis addresses found broken (the
  condition: which ones).

``run`` finds them, records them in the KPI engine's ``alert`` table and
e-mails (CKAN's mailer) only the ones that are new or changed: an unchanged
condition is never sent twice, a resolved one is closed, and one that comes
back is new. Each e-mail and each entry of the department's Atom feed
(``/performance/<department>/alerts.atom``) says what, since when, and links
to the page that shows it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any
from xml.sax.saxutils import escape

import ckan.plugins.toolkit as tk

from . import feed_health, standards, statistics_publish, statistics_store as store
from .core import kpis as stats, standards as rules, words
from .statistics_store import performance as pm

log = logging.getLogger(__name__)

# What each kind of alert says: an English message id, in the catalogue
# (i18n/) for Chinese. Every alert is worded in both languages when found.
LANGUAGES = ("zh_Hans_CN", "en")
KINDS = {
    "target_missed": "{kpi}: {status}, target {target} missed in {month}{run}",
    "services_flagged": "{count} service(s) missed the {kpi} standard 3 months or more in a row up to {month}",
    "source_stale": "harvest source {source} is stale: no successful harvest since {since}",
    "source_failing": "harvest source {source} is failing: {error}",
    "coverage_low": "coverage {coverage} in {month}: {reporting} of {active} active services reported",
    "links_broken": "{count} broken links in channels and legal bases",
}


def _what(kind: str, values) -> dict[str, str]:
    """{"zh_Hans_CN": …, "en": …}: the alert in both languages; ``values(lang)``
    gives its placeholders in that language."""
    return {lang: words.word(KINDS[kind], lang, **values(lang)) for lang in LANGUAGES}


def _worded(kind: str, values) -> dict[str, str]:
    """An alert's ``details`` wording: ``what`` (English, as stored before) and ``what_zh``."""
    what = _what(kind, values)
    return {"what": what["en"], "what_zh": what["zh_Hans_CN"]}


def said(alert: dict[str, Any], lang: str) -> str:
    """What an alert says in ``lang`` (one recorded before it was worded in
    Chinese says it in English)."""
    details = alert.get("details") or {}
    if lang != "en" and details.get("what_zh"):
        return details["what_zh"]
    return details.get("what") or alert.get("kind", "")


def _page(path: str) -> str:
    return tk.config.get("ckan.site_url").rstrip("/") + path


def department_conditions(department: str, health: dict[str, Any] | None,
                          now: dt.datetime) -> list[dict[str, Any]]:
    """What is wrong in the department now, each {"kind", "subject", "condition",
    "since", "details" (with "what" and "link")}."""
    found: list[dict[str, Any]] = []
    with store.engine().connect() as conn:
        period_to = store.latest_period(conn, department)
    if period_to:
        history = standards.monthly_values("department", period_to, department=department)
        monthly = history.get((department, None), {})
        all_standards = standards.all_standards(department)
        definitions = {k["name"]: k for k in stats.kpi_definitions()}
        for name, months in sorted(monthly.items()):
            standard = rules.applicable(all_standards, name, department, None, period_to)
            latest = dict(months).get(period_to)
            judged = rules.judge(latest, standard, months)
            if not judged or judged["met"] is not False:
                continue
            run = judged["missed_in_a_row"]
            first = stats.shift_period(period_to, -(run - 1))
            worded = _worded("target_missed", lambda lang, name=name, judged=judged, run=run: dict(
                kpi=rules.label(definitions[name], lang), status=words.word(judged["status"], lang),
                target=rules.format_target(judged["target"], definitions[name]["unit"]), month=period_to,
                run=words.word(" ({run} months in a row)", lang, run=run) if judged["flagged"] else ""))
            found.append({"kind": "target_missed", "subject": name,
                          "condition": f"{judged['status']}{' flagged' if judged['flagged'] else ''}",
                          "since": dt.datetime.strptime(first + "-01", "%Y-%m-%d").replace(tzinfo=dt.timezone.utc),
                          "details": {**worded, "link": _page(f"/performance/{department}"),
                                      "value": latest, "target": judged["target"], "months": run}})
        found.extend(_services_flagged(department, period_to, all_standards, definitions))
    if health:
        feeds = _page(f"/performance/feeds/{department}")
        for s in health["sources"] or []:
            if s["state"] == "stale":
                found.append({"kind": "source_stale", "subject": s["name"], "condition": "stale",
                              "since": dt.datetime.fromisoformat(s["last_success"]) if s["last_success"] else now,
                              "details": {**_worded("source_stale", lambda lang, s=s: dict(
                                  source=s["name"], since=s["last_success"] or words.word("never", lang))),
                                          "link": feeds}})
            elif s["state"] == "failing":
                found.append({"kind": "source_failing", "subject": s["name"],
                              "condition": "failing: " + (s["last_error"] or ""),
                              "since": dt.datetime.fromisoformat(s["last_finished"]) if s["last_finished"] else now,
                              "details": {**_worded("source_failing", lambda lang, s=s: dict(
                                  source=s["name"], error=s["last_error"])), "link": feeds}})
        if health["coverage_below_threshold"]:
            found.append({"kind": "coverage_low", "subject": "coverage", "condition": "below",
                          "since": now,
                          "details": {**_worded("coverage_low", lambda lang: dict(
                              coverage=f"{health['coverage'] * 100:.0f}%", month=health["month"],
                              reporting=health["services_reporting"], active=health["active_services"])),
                              "link": feeds}})
    with store.engine().connect() as conn:
        broken = pm.broken_links(conn, department)
    if broken:
        urls = sorted(b["url"] for b in broken)
        found.append({"kind": "links_broken", "subject": "links",
                      "condition": hashlib.sha256("\n".join(urls).encode()).hexdigest()[:16],
                      "since": min(b["checked_at"] for b in broken),
                      "details": {**_worded("links_broken", lambda lang: dict(count=len(urls))),
                                  "link": _page(f"/performance/feeds/{department}"), "urls": urls[:50]}})
    return found


def _services_flagged(department: str, period_to: str, all_standards: list[dict[str, Any]],
                      definitions: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One condition per KPI: the department's services that missed their standard
    3 months or more in a row up to its latest month (which ones is the condition)."""
    history = standards.monthly_values("service", period_to, department=department)
    flagged: dict[str, list[tuple[str, str]]] = {}
    for (_, service), monthly in history.items():
        for name, months in monthly.items():
            judged = rules.judge(dict(months).get(period_to),
                                 rules.applicable(all_standards, name, department, service, period_to), months)
            if judged and judged["flagged"]:
                first = stats.shift_period(period_to, -(judged["missed_in_a_row"] - 1))
                flagged.setdefault(name, []).append((service, first))
    out = []
    for name, services in sorted(flagged.items()):
        codes = sorted(code for code, _ in services)
        first = min(month for _, month in services)
        out.append({"kind": "services_flagged", "subject": name,
                    "condition": hashlib.sha256("\n".join(codes).encode()).hexdigest()[:16],
                    "since": dt.datetime.strptime(first + "-01", "%Y-%m-%d").replace(tzinfo=dt.timezone.utc),
                    "details": {**_worded("services_flagged", lambda lang, name=name, codes=codes: dict(
                        count=len(codes), kpi=rules.label(definitions[name], lang), month=period_to)),
                        "link": _page(f"/performance/{department}"), "services": codes[:50]}})
    return out


def recipients(department: str) -> list[tuple[str, str]]:
    """(name, e-mail) of the department's admins and of the data office (sysadmins)."""
    from ckan import model
    out: dict[str, str] = {}
    group = model.Group.get(department)
    if group is not None:
        for member in model.Session.query(model.Member).filter(
                model.Member.group_id == group.id, model.Member.table_name == "user",
                model.Member.state == "active", model.Member.capacity == "admin"):
            user = model.User.get(member.table_id)
            if user is not None and user.email and user.state == "active":
                out[user.email] = user.fullname or user.name
    for user in model.Session.query(model.User).filter(model.User.sysadmin.is_(True),
                                                       model.User.state == "active"):
        if user.email and user.name != tk.config.get("ckan.site_id"):
            out[user.email] = user.fullname or user.name
    return sorted((name, email) for email, name in out.items())


def _mail(department: str, alerts: list[dict[str, Any]], title: dict[str, str]) -> int:
    """One e-mail to each recipient, in Chinese and then in English (CKAN keeps
    no language per user)."""
    from ckan.lib import mailer
    lines = []
    for lang in LANGUAGES:
        lines += [words.word("{title} ({department}): {n} new or changed alert(s).", lang,
                             title=title.get(lang) or title.get("en") or department,
                             department=department, n=len(alerts)), ""]
        for a in alerts:
            lines += [f"- {said(a, lang)}",
                      "  " + words.word("since {moment}", lang, moment=a["since"].isoformat(timespec="minutes")),
                      f"  {a['details']['link']}", ""]
    body = "\n".join(lines)
    subject = " / ".join(words.word("{title}: {n} alert(s)", lang, title=title.get(lang) or department,
                                    n=len(alerts)) for lang in LANGUAGES)
    sent = 0
    for name, email in recipients(department):
        mailer.mail_recipient(name, email, f"[{tk.config.get('ckan.site_id')}] {subject}", body)
        sent += 1
    return sent


def run(now: dt.datetime | None = None) -> dict[str, Any]:
    """Find every department's conditions, record them, e-mail the new or changed ones.

    Returns {"departments": {name: {"found", "sent", "recipients"}}}."""
    now = now or dt.datetime.now(dt.timezone.utc)
    health = {d["department"]: d for d in feed_health.report(now=now)["departments"]}
    out: dict[str, Any] = {}
    for department, row in sorted(health.items()):
        found = department_conditions(department, row, now)
        with store.engine().begin() as conn:
            to_send = pm.note_alerts(conn, department, found)
        mailed = 0
        if to_send:
            try:
                mailed = _mail(department, to_send, row["title"])
            except Exception:   # the mail server down: sent next run, as they are still unsent
                log.exception("could not e-mail the alerts of %s", department)
                with store.engine().begin() as conn:
                    for a in to_send:
                        pm.forget_alert(conn, department, a["kind"], a["subject"])
                continue
            with store.engine().begin() as conn:
                for a in to_send:
                    pm.mark_sent(conn, department, a["kind"], a["subject"])
        out[department] = {"found": len(found), "sent": len(to_send), "recipients": mailed}
    return {"departments": out}


def atom(department: str, title: str, lang: str = "en") -> str:
    """The department's open alerts as an Atom feed in ``lang``, newest first."""
    with store.engine().connect() as conn:
        alerts = pm.alerts(conn, department)
    page = _page(f"/performance/{department}")
    updated = max((a["sent_at"] or a["since"] for a in alerts), default=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
    out = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
           f'<title>{escape(words.word("{title}: alerts", lang, title=title))}</title>',
           f'<link href="{escape(page)}"/>', f'<link rel="self" href="{escape(page)}/alerts.atom"/>',
           f"<id>{escape(page)}/alerts.atom</id>", f"<updated>{updated.isoformat()}</updated>"]
    for a in alerts:
        what = said(a, lang)
        out += ["<entry>", f"<title>{escape(what)}</title>",
                f'<link href="{escape(a["details"].get("link", page))}"/>',
                f"<id>{escape(page)}/alerts/{escape(a['kind'])}/{escape(a['subject'])}/{a['since'].isoformat()}</id>",
                f"<published>{a['since'].isoformat()}</published>",
                f"<updated>{(a['sent_at'] or a['since']).isoformat()}</updated>",
                "<summary>" + escape(words.word("{what} (since {moment})", lang, what=what,
                                                moment=a["since"].isoformat(timespec="minutes"))) + "</summary>",
                "</entry>"]
    out.append("</feed>")
    return "\n".join(out) + "\n"
