"""The registry of harvest sources, in the harvest database."""
from __future__ import annotations

from typing import Any

import psycopg2.extras
from croniter import croniter

from . import formats

KINDS = ("services", "statistics")


class SourceError(ValueError):
    """A source definition that cannot be used; the message names the field."""


def check(source: dict[str, Any]) -> None:
    if source.get("kind", "services") not in KINDS:
        raise SourceError(f"kind must be one of {', '.join(KINDS)} (got {source.get('kind')!r})")
    if source.get("format") not in formats.READERS:
        raise SourceError(f"format must be one of {', '.join(formats.READERS)} "
                          f"(got {source.get('format')!r})")
    schedule = source.get("schedule")
    if schedule and not croniter.is_valid(schedule):
        raise SourceError(f"schedule is not a cron expression: {schedule!r}")


def add(conn, *, name: str, department: str, format: str, location: str,
        kind: str = "services", schedule: str | None = None, credentials_ref: str | None = None,
        mapping: dict | None = None, withdraw_threshold: float = 0.2) -> dict:
    source = dict(name=name, department=department, kind=kind, format=format, location=location,
                  schedule=schedule, credentials_ref=credentials_ref,
                  mapping=psycopg2.extras.Json(mapping or {}), withdraw_threshold=withdraw_threshold)
    check(source)
    with conn.cursor() as cur:
        cur.execute("""INSERT INTO source (name, department, kind, format, location, schedule,
                                           credentials_ref, mapping, withdraw_threshold)
                       VALUES (%(name)s, %(department)s, %(kind)s, %(format)s, %(location)s,
                               %(schedule)s, %(credentials_ref)s, %(mapping)s, %(withdraw_threshold)s)
                       ON CONFLICT (name) DO UPDATE SET department = EXCLUDED.department,
                           kind = EXCLUDED.kind, format = EXCLUDED.format,
                           location = EXCLUDED.location, schedule = EXCLUDED.schedule,
                           credentials_ref = EXCLUDED.credentials_ref, mapping = EXCLUDED.mapping,
                           withdraw_threshold = EXCLUDED.withdraw_threshold, enabled = true
                       RETURNING *""", source)
        return cur.fetchone()


def get(conn, name: str) -> dict:
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM source WHERE name = %s", (name,))
        row = cur.fetchone()
    if row is None:
        raise SourceError(f"no harvest source named {name!r}")
    return row


def all_sources(conn) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM source ORDER BY name")
        return cur.fetchall()


def disable(conn, name: str) -> None:
    get(conn, name)
    with conn.cursor() as cur:
        cur.execute("UPDATE source SET enabled = false WHERE name = %s", (name,))
