"""Subscriptions to change (issue 17): Atom feeds, webhooks and e-mail digests.

Every change comes from CKAN's activity stream (the activity plugin stores the
whole service as ``package_show`` gave it after each create and update; a
harvest's update is one too): a change is a service's activity compared with
the one before it (``core.changes``). Only public services of live datasets
are told: a private dataset's activity is never read here.

* **Atom feeds** of a service, a department, a theme or a life event
  (``feed``): the latest ``FEED_ENTRIES`` changes, one SQL query on CKAN's
  database, cached in Redis for a minute (a save anywhere starts a new cache).
* **Webhooks** (``govservice_webhook_*``, logic/subscriptions.py): kept in the
  DataStore database beside the KPI tables (statistics_store.tables.webhook,
  webhook_delivery). A save queues ``fan_out`` on the job queue after commit
  (plugin.py's hooks run before CKAN commits, and the activity is written
  after); the scheduler's ``webhooks`` task runs it too every minute, so a
  lost job only delays a change, and a change is queued once per webhook
  (the delivery table's unique key). ``deliver_due`` POSTs each pending
  delivery, signed (HMAC-SHA256 of the body under the webhook's secret),
  through the harvesters' guarded client (govharvest.extract.post: the target's
  address is checked at every delivery); a failure is tried again after a
  doubling wait, and a webhook failing ``disable_after`` times in a row is
  turned off, saying why.
* **E-mail digests**: CKAN's own activity e-mail notifications to the users
  following a service or a department (``send_digests``, the scheduler's
  ``digests`` task).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk

from .core import changes, schema

log = logging.getLogger(__name__)

FOLLOWS = ("service", "department", "theme", "life_event")
FEED_ENTRIES = 50          # entries in one Atom feed
FEED_CACHE_SECONDS = 60
FAN_OUT_BATCH = 500        # activities read by one fan-out
FAN_OUT_OVERLAP = dt.timedelta(minutes=5)   # an activity committed late is still seen
FAN_OUT_FIRST = dt.timedelta(minutes=15)    # how far the first fan-out looks back
FAN_OUT_JOB_SECONDS = 20  # at most one fan-out job queued in this time
LOG_KEPT = dt.timedelta(days=30)            # a finished delivery stays in the log this long
DELIVERY_TIMEOUT = 10      # seconds
RUN_BUDGET = 40            # seconds one delivery run may start deliveries for
ERROR_CHARS = 300
REDIS_KEY = "govservice:subscriptions"
PACKAGE_ACTIVITIES = ("new package", "changed package")


def _config_int(name: str) -> int:
    return int(tk.config.get(f"ckanext.govservice.webhooks.{name}"))


def _redis():
    from ckan.lib.redis import connect_to_redis
    return connect_to_redis()


def _store():
    from .statistics_store import tables
    return tables


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# ---------------------------------------------------------------- what changed (CKAN's activity)

def _filter(follows: str, value: str) -> tuple[str, dict[str, Any]]:
    """The SQL condition on ``act`` (the activity) and ``p`` (the package) for
    what a feed or webhook follows. ``value`` is a bound parameter, never SQL."""
    if follows == "service":
        return "(p.name = :value OR p.id = :value)", {"value": value}
    if follows == "department":
        return "p.owner_org IN (SELECT id FROM \"group\" WHERE name = :value OR id = :value)", {"value": value}
    # the services in the theme or life event now (scheming keeps the codes as a
    # JSON list in package.extras): a small text per service, not every
    # activity's whole JSON; the quotes keep "tax" from matching "taxi"
    field = {"theme": "themes", "life_event": "life_events"}[follows]
    return f"position(:quoted in coalesce(p.extras ->> '{field}', '')) > 0", {"quoted": json.dumps(value)}


def _changes_query(condition: str, order: str, limit: int) -> str:
    """The activities of public, live services matching ``condition``, each with
    the service as it was at the activity before it (one query: the previous
    activity is found by CKAN's index on (object_id, timestamp))."""
    return f"""
        SELECT a.id, a.timestamp, a.activity_type, a.data AS after, prev.data AS before
        FROM (SELECT act.id, act.timestamp, act.object_id, act.activity_type, act.data
              FROM activity act JOIN package p ON p.id = act.object_id
              WHERE act.activity_type IN :types
                AND 'public' = ANY(act.permission_labels)
                AND p.type = 'service' AND p.state = 'active' AND NOT p.private
                AND {condition}
              ORDER BY act.timestamp {order} LIMIT {int(limit)}) a
        LEFT JOIN LATERAL (
              SELECT b.data FROM activity b
              WHERE b.object_id = a.object_id AND b.timestamp < a.timestamp
                AND b.activity_type IN :types
              ORDER BY b.timestamp DESC LIMIT 1) prev ON true
        ORDER BY a.timestamp {order}"""


def _package(data: Any) -> dict[str, Any] | None:
    if isinstance(data, str):
        data = json.loads(data)
    return (data or {}).get("package")


def _utc(timestamp: dt.datetime) -> dt.datetime:
    """CKAN's activity timestamps are naive UTC."""
    return timestamp.replace(tzinfo=dt.timezone.utc) if timestamp.tzinfo is None else timestamp


def _service_url(name: str) -> str:
    return f"{tk.config['ckan.site_url'].rstrip('/')}/service/{name}"


def _change(row) -> dict[str, Any] | None:
    """One activity as a change: the service (as it is after), when, and what
    changed in words; None when nothing a department sends changed."""
    after = _package(row.after)
    if not after:
        return None
    said = changes.service_changes(_package(row.before) if row.before else None, after)
    if not said:
        return None
    org = after.get("organization") or {}
    withdrawn = bool(said) and said[0]["field"] == "status" and after.get("status") == "withdrawn"
    return {
        "id": row.id,
        "event": "service.published" if row.before is None else
                 "service.withdrawn" if withdrawn else "service.changed",
        "changed_at": _utc(row.timestamp),
        "service": {"id": after.get("id"), "name": after.get("name"), "title": after.get("title"),
                    "title_en": after.get("title_en"), "implementation_code": after.get("implementation_code"),
                    "status": after.get("status"), "url": _service_url(after.get("name", "")),
                    "department": {"id": org.get("id") or after.get("owner_org"), "name": org.get("name"),
                                   "title": org.get("title")},
                    "themes": after.get("themes") or [], "life_events": after.get("life_events") or []},
        "changes": said,
    }


def recent_changes(follows: str, value: str, limit: int = FEED_ENTRIES) -> list[dict[str, Any]]:
    """The latest changes (newest first, at most ``limit``) to what ``follows``
    ``value`` names: a service's name, a department's name, a theme's or life
    event's code (the services in it, or of it, now)."""
    condition, params = _filter(follows, value)
    query = sa.text(_changes_query(condition, "DESC", limit)).bindparams(
        sa.bindparam("types", expanding=True))
    rows = model.Session.execute(query, {**params, "types": list(PACKAGE_ACTIVITIES)}).fetchall()
    return [c for c in map(_change, rows) if c]


# ---------------------------------------------------------------- Atom feeds

def _generation() -> str:
    """Bumped by every save (``queue_after_commit``): a cached feed older than the
    last save is not served."""
    try:
        return (_redis().get(f"{REDIS_KEY}:generation") or b"0").decode()
    except Exception:
        return "0"


def feed(follows: str, value: str, title: str, page: str, lang: str) -> str:
    """The Atom feed of changes to what ``follows`` ``value`` names; ``title`` and
    ``page`` (a path) name it, ``lang`` the language of its sentences. Cached."""
    key = f"{REDIS_KEY}:atom:{_generation()}:{follows}:{value}:{lang}"
    try:
        cached = _redis().get(key)
    except Exception:
        cached = None
    if cached:
        return cached.decode()
    site = tk.config["ckan.site_url"].rstrip("/")
    found = recent_changes(follows, value)
    prefix = "" if lang == "zh_Hans_CN" else f"/{lang}"
    text = changes.atom(
        {"id": f"{site}{page}/changes.atom", "title": title, "link": f"{site}{prefix}{page}",
         "self": f"{site}{prefix}{page}/changes.atom", "lang": "zh-CN" if lang == "zh_Hans_CN" else lang,
         "author": tk.config.get("ckan.site_title") or site,
         "updated": found[0]["changed_at"] if found else dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)},
        [{"id": f"urn:uuid:{c['id']}",
          "title": f"{_title(c['service'], lang)}: {changes.summary(c['changes'], lang)}",
          "link": f"{site}{prefix}/service/{c['service']['name']}",
          "updated": c["changed_at"], "content": [s[lang] for s in c["changes"]]} for c in found])
    try:
        _redis().set(key, text, ex=FEED_CACHE_SECONDS)
    except Exception:
        log.warning("could not cache the Atom feed %s", key)
    return text


def _title(service: dict[str, Any], lang: str) -> str:
    return (service.get("title_en") if lang == "en" else None) or service.get("title") or service.get("name") or ""


# ---------------------------------------------------------------- after a save

_PENDING = "govservice_subscriptions_pending"


def queue_after_commit() -> None:
    """A service was saved: when the transaction commits, start a new feed cache
    and queue a fan-out to the webhooks (publishing.after_commit). Failing to
    reach Redis is logged, never a failed save."""
    from . import publishing
    publishing.after_commit(_PENDING, True, _saved)


def _saved(_items: list[Any]) -> None:
    try:
        r = _redis()
        r.incr(f"{REDIS_KEY}:generation")
        # one job for a burst of saves (a harvest saves hundreds): each fan-out
        # reads every change since the last, and the scheduler's runs follow
        if r.set(f"{REDIS_KEY}:fan_out_queued", "1", nx=True, ex=FAN_OUT_JOB_SECONDS):
            tk.enqueue_job(fan_out, title="govservice: changes to the webhooks")
    except Exception:
        log.exception("could not queue the webhooks' fan-out; the scheduler's next run does it")


# ---------------------------------------------------------------- webhooks: queueing changes

def follows_change(hook: dict[str, Any], change: dict[str, Any]) -> bool:
    """Whether a webhook follows this change's service."""
    service, value = change["service"], hook["value"]
    if hook["follows"] == "service":
        return value in (service["name"], service["id"])
    if hook["follows"] == "department":
        return value in (service["department"]["name"], service["department"]["id"])
    return value in service["themes" if hook["follows"] == "theme" else "life_events"]


def payload(hook: dict[str, Any], change: dict[str, Any]) -> bytes:
    """The JSON body a webhook receives for a change (bounded in size)."""
    return changes.bounded_payload({
        "event": change["event"], "id": change["id"], "changed_at": change["changed_at"].isoformat(),
        "webhook": hook["id"], "follows": {"kind": hook["follows"], "value": hook["value"]},
        "service": change["service"], "changes": change["changes"]}, _config_int("max_payload_bytes"))


def fan_out() -> dict[str, int]:
    """Queue a delivery of every recent change to each active webhook following
    it (once: the delivery table's unique key); changes made before a webhook
    was registered are not sent to it. Returns {"changes", "queued"}."""
    tables = _store()
    with tables.engine().connect() as conn:
        hooks = [dict(r._mapping) for r in conn.execute(sa.select(tables.webhook).where(tables.webhook.c.active))]
    if not hooks:
        return {"changes": 0, "queued": 0}
    r = _redis()
    seen = r.get(f"{REDIS_KEY}:fanned_out_until")
    started = _now()
    since = (dt.datetime.fromisoformat(seen.decode()) - FAN_OUT_OVERLAP) if seen else started - FAN_OUT_FIRST
    since = max(since, min(h["created_at"] for h in hooks))
    query = sa.text(_changes_query("act.timestamp > :since", "ASC", FAN_OUT_BATCH)).bindparams(
        sa.bindparam("types", expanding=True))
    rows = model.Session.execute(query, {"since": since.astimezone(dt.timezone.utc).replace(tzinfo=None),
                                         "types": list(PACKAGE_ACTIVITIES)}).fetchall()
    model.Session.rollback()   # a read; end it, so the session holds no snapshot
    found = [c for c in map(_change, rows) if c]
    queued = 0
    with tables.engine().begin() as conn:
        for change in found:
            for hook in hooks:
                if change["changed_at"] < hook["created_at"] or not follows_change(hook, change):
                    continue
                try:
                    body = payload(hook, change)
                except ValueError as e:
                    log.warning("webhook %s: change %s not sent: %s", hook["id"], change["id"], e)
                    continue
                queued += conn.execute(sa.text(
                    f"INSERT INTO {tables.SCHEMA}.webhook_delivery (webhook_id, event_id, payload) "
                    "VALUES (:w, :e, :p) ON CONFLICT ON CONSTRAINT webhook_delivery_once DO NOTHING"),
                    {"w": hook["id"], "e": change["id"], "p": body.decode()}).rowcount
    # the whole batch read: next time from its newest; a full batch goes on from there
    newest = found[-1]["changed_at"] if len(rows) == FAN_OUT_BATCH and found else started
    r.set(f"{REDIS_KEY}:fanned_out_until", newest.isoformat())
    return {"changes": len(found), "queued": queued}


# ---------------------------------------------------------------- webhooks: delivering

def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    from govharvest import extract
    return extract.post(url, body, headers, timeout=DELIVERY_TIMEOUT)


def deliver_due(now: dt.datetime | None = None) -> dict[str, int]:
    """POST every pending delivery that is due, at most ``per_minute`` per webhook
    this run; each row is claimed (FOR UPDATE SKIP LOCKED), so two runners never
    send one twice. Returns {"delivered", "failed", "webhooks_disabled"}."""
    from govharvest.errors import ExtractError
    tables = _store()
    now = now or _now()
    per_hook, max_attempts = _config_int("per_minute"), _config_int("max_attempts")
    disable_after, first_wait = _config_int("disable_after"), _config_int("retry_seconds")
    out = {"delivered": 0, "failed": 0, "webhooks_disabled": 0}
    with tables.engine().begin() as conn:
        due = conn.execute(sa.text(f"""
            SELECT d.id, d.webhook_id, d.event_id, d.payload, d.attempts, w.target_url, w.secret
            FROM {tables.SCHEMA}.webhook_delivery d JOIN {tables.SCHEMA}.webhook w ON w.id = d.webhook_id
            WHERE d.status = 'pending' AND d.next_attempt_at <= :now AND w.active
            ORDER BY d.next_attempt_at, d.id
            FOR UPDATE OF d SKIP LOCKED"""), {"now": now}).fetchall()
        sent: dict[str, int] = {}
        failing: set[str] = set()
        started = time.monotonic()
        for d in due:
            # a receiver that failed this run is tried again at its next time, not
            # once per waiting change; the run ends within its budget (the
            # scheduler's other tasks wait for it), the rest is the next run's
            if sent.get(d.webhook_id, 0) >= per_hook or d.webhook_id in failing \
                    or time.monotonic() - started > RUN_BUDGET:
                continue
            hook_active = conn.execute(sa.text(
                f"SELECT active FROM {tables.SCHEMA}.webhook WHERE id = :w"), {"w": d.webhook_id}).scalar()
            if not hook_active:
                continue
            sent[d.webhook_id] = sent.get(d.webhook_id, 0) + 1
            body = d.payload.encode()
            headers = {"Content-Type": "application/json; charset=utf-8",
                       "X-GovService-Event": json.loads(d.payload).get("event", ""),
                       "X-GovService-Delivery": str(d.id),
                       "X-GovService-Signature": changes.signature(d.secret, body)}
            code, error = None, None
            try:
                code = _post(d.target_url, body, headers)
                if not 200 <= code < 300:
                    error = f"the receiver answered HTTP {code}"
            except ExtractError as e:
                error = str(e)
            except Exception as e:   # one receiver's failure never stops the others
                error = f"{type(e).__name__}: {e}"
            attempts = d.attempts + 1
            if error is None:
                out["delivered"] += 1
                conn.execute(sa.text(f"""
                    UPDATE {tables.SCHEMA}.webhook_delivery SET status = 'delivered', attempts = :a,
                        response_code = :c, last_error = NULL, delivered_at = :now WHERE id = :id"""),
                    {"a": attempts, "c": code, "now": now, "id": d.id})
                conn.execute(sa.text(f"UPDATE {tables.SCHEMA}.webhook SET failures_in_a_row = 0 WHERE id = :w"),
                             {"w": d.webhook_id})
                continue
            out["failed"] += 1
            failing.add(d.webhook_id)
            conn.execute(sa.text(f"""
                UPDATE {tables.SCHEMA}.webhook_delivery SET attempts = :a, response_code = :c,
                    last_error = :e, status = CASE WHEN :a >= :max THEN 'given_up' ELSE 'pending' END,
                    next_attempt_at = :next WHERE id = :id"""),
                {"a": attempts, "c": code, "e": error[:ERROR_CHARS], "max": max_attempts, "id": d.id,
                 "next": now + dt.timedelta(seconds=changes.retry_wait(attempts, first_wait))})
            failures = conn.execute(sa.text(f"""
                UPDATE {tables.SCHEMA}.webhook SET failures_in_a_row = failures_in_a_row + 1
                WHERE id = :w RETURNING failures_in_a_row"""), {"w": d.webhook_id}).scalar()
            if failures >= disable_after:
                out["webhooks_disabled"] += 1
                conn.execute(sa.text(f"""
                    UPDATE {tables.SCHEMA}.webhook SET active = false, disabled_reason = :why WHERE id = :w"""),
                    {"w": d.webhook_id, "why": f"turned off at {now.isoformat(timespec='seconds')} after "
                                               f"{failures} failed deliveries in a row; the last: {error}"[:ERROR_CHARS * 2]})
    return out


def forget_old_deliveries(now: dt.datetime | None = None) -> int:
    """Drop the finished deliveries (delivered or given up) older than LOG_KEPT
    from the log; returns how many."""
    tables = _store()
    with tables.engine().begin() as conn:
        return conn.execute(sa.text(f"""
            DELETE FROM {tables.SCHEMA}.webhook_delivery
            WHERE status <> 'pending' AND created_at < :before"""), {"before": (now or _now()) - LOG_KEPT}).rowcount


def run_webhooks() -> dict[str, Any]:
    """The scheduler's ``webhooks`` task: queue the recent changes, deliver what
    is due, and keep the log to its last 30 days."""
    return {"fan_out": fan_out(), "delivery": deliver_due(), "forgotten": forget_old_deliveries()}


# ---------------------------------------------------------------- webhooks: registering

def check_target(url: str) -> str | None:
    """Why a webhook may not POST to ``url`` (None when it may): the harvest
    sources' address rules (http or https to a public address; a private or
    local one only for a host the operator allows, GOVHARVEST_ALLOW_PRIVATE_HOSTS)."""
    from govharvest import extract
    from govharvest.errors import ExtractError
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be a web address starting with http:// or https://"
    if parts.username or parts.password:
        return "must not carry a user name or password; the payload is signed instead"
    try:
        extract.checked_address(parts.hostname, extract.origin(url)[2], extract.shown(url))
    except ExtractError as e:
        return str(e).replace("source host", "the host")
    except ValueError as e:
        return f"is not a web address this platform can reach ({e})"
    return None


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "owner", "target_url", "follows", "value", "active",
                              "failures_in_a_row", "disabled_reason")}
    out["created_at"] = row["created_at"].isoformat()
    return out


def create(owner: str, target_url: str, follows: str, value: str) -> dict[str, Any]:
    """Register a webhook for ``owner`` (a user id); the secret is in the answer only."""
    tables = _store()
    row = {"id": str(uuid.uuid4()), "owner": owner, "target_url": target_url, "follows": follows,
           "value": value, "secret": secrets.token_hex(32)}
    with tables.engine().begin() as conn:
        created = conn.execute(tables.webhook.insert().values(**row).returning(tables.webhook)).one()
    return {**_shown(dict(created._mapping)), "secret": row["secret"]}


def count_of(owner: str) -> int:
    tables = _store()
    with tables.engine().connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(tables.webhook)
                            .where(tables.webhook.c.owner == owner)).scalar()


def webhooks(owner: str | None) -> list[dict[str, Any]]:
    """The webhooks of ``owner`` (a user id); every one when None (sysadmins)."""
    tables = _store()
    query = sa.select(tables.webhook).order_by(tables.webhook.c.created_at)
    if owner is not None:
        query = query.where(tables.webhook.c.owner == owner)
    with tables.engine().connect() as conn:
        return [_shown(dict(r._mapping)) for r in conn.execute(query)]


def webhook(webhook_id: str) -> dict[str, Any] | None:
    tables = _store()
    with tables.engine().connect() as conn:
        row = conn.execute(sa.select(tables.webhook).where(tables.webhook.c.id == webhook_id)).first()
    return _shown(dict(row._mapping)) if row else None


def delete(webhook_id: str) -> None:
    tables = _store()
    with tables.engine().begin() as conn:
        conn.execute(tables.webhook.delete().where(tables.webhook.c.id == webhook_id))


def deliveries(webhook_id: str, limit: int) -> list[dict[str, Any]]:
    """A webhook's latest deliveries, newest first: what, how it went, when."""
    tables = _store()
    d = tables.webhook_delivery
    with tables.engine().connect() as conn:
        rows = conn.execute(sa.select(d.c.id, d.c.event_id, d.c.status, d.c.attempts, d.c.last_error,
                                      d.c.response_code, d.c.created_at, d.c.next_attempt_at, d.c.delivered_at,
                                      d.c.payload)
                            .where(d.c.webhook_id == webhook_id).order_by(d.c.id.desc()).limit(limit)).fetchall()
    out = []
    for r in rows:
        sent = json.loads(r.payload)
        out.append({"id": r.id, "change": r.event_id, "event": sent.get("event"),
                    "service": (sent.get("service") or {}).get("name"), "status": r.status,
                    "attempts": r.attempts, "last_error": r.last_error, "response_code": r.response_code,
                    "queued_at": r.created_at.isoformat(),
                    "next_attempt_at": r.next_attempt_at.isoformat() if r.status == "pending" else None,
                    "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None})
    return out


# ---------------------------------------------------------------- e-mail digests

def send_digests() -> dict[str, Any]:
    """The scheduler's ``digests`` task: CKAN's activity e-mail notifications, a
    digest of what changed in the services and departments each signed-in user
    follows (users who asked for them, with an e-mail address), through CKAN's
    mailer. Off unless ckan.activity_streams_email_notifications is on."""
    if not tk.asbool(tk.config.get("ckan.activity_streams_email_notifications")):
        return {"sent": False, "why": "ckan.activity_streams_email_notifications is off"}
    tk.get_action("send_email_notifications")({"ignore_auth": True}, {})
    return {"sent": True}


def vocabulary_value(follows: str, value: str) -> bool:
    """Whether ``value`` is a code of the theme or life event vocabulary."""
    field = {"theme": "themes", "life_event": "life_events"}[follows]
    return any(c["value"] == value for c in schema.choices(schema.field(field)))
