"""The harvesters' own PostgreSQL database: connection and migrations.

Migrations are the numbered SQL files in migrations/, applied in order, each
once, inside a transaction; `govharvest db upgrade` runs them.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

import psycopg2
import psycopg2.extras

MIGRATIONS = Path(__file__).parent / "migrations"


def database_url() -> str:
    url = os.environ.get("GOVHARVEST_DB_URL")
    if not url:
        raise RuntimeError("set GOVHARVEST_DB_URL to the harvest database, "
                           "e.g. postgresql://user:password@127.0.0.1:5432/govharvest")
    return url


@contextlib.contextmanager
def connect(url: str | None = None) -> Iterator[psycopg2.extensions.connection]:
    """A connection that commits when the block ends cleanly and rolls back otherwise."""
    conn = psycopg2.connect(url or database_url(),
                            cursor_factory=psycopg2.extras.RealDictCursor)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def upgrade(url: str | None = None) -> list[str]:
    """Apply the migrations not applied yet; return their names."""
    applied_now = []
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS schema_migration ("
                    " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('govharvest-migrations'))")
        cur.execute("SELECT name FROM schema_migration")
        done = {row["name"] for row in cur.fetchall()}
        for path in sorted(MIGRATIONS.glob("*.sql")):
            if path.name in done:
                continue
            cur.execute(path.read_text(encoding="utf-8"))
            cur.execute("INSERT INTO schema_migration (name) VALUES (%s)", (path.name,))
            applied_now.append(path.name)
    return applied_now
