"""The harvesters' own PostgreSQL database, and every SQL statement on it.

Its tables: ``source`` (one per department feed), ``job`` (one per run of a
source), ``record`` (what the last good harvest of each source record was and
the dataset it became) and ``job_outcome`` (what a job did with each record).
Other modules call the named functions below with plain values and get plain
dicts back; none of them writes SQL.

Each function works in the caller's connection and transaction (``connect``
commits when the caller's block ends), so a caller decides what is committed
together.

Migrations are the numbered SQL files in migrations/, applied in order, each
once, inside a transaction; `govharvest db upgrade` runs them.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

import psycopg2
import psycopg2.errors
import psycopg2.extras

from . import settings

MIGRATIONS = Path(__file__).parent / "migrations"
Json = psycopg2.extras.Json


class Unreachable(settings.NotConfigured):
    """The harvest database does not answer, or refuses the settings' role."""

    def __init__(self, url: str, error: psycopg2.OperationalError):
        try:
            dsn = psycopg2.extensions.parse_dsn(url)
            where = f"{dsn.get('dbname', '?')} on {dsn.get('host', 'localhost')}:{dsn.get('port', 5432)}"
        except psycopg2.ProgrammingError:
            where = "GOVHARVEST_DB_URL"
        reason = (str(error).strip().splitlines() or ["no answer"])[0]
        super().__init__(f"the harvest database {where} cannot be reached ({reason}): start the stack "
                         "with `make up` in the checkout, or check GOVHARVEST_DB_URL")


@contextlib.contextmanager
def connect(url: str | None = None) -> Iterator[psycopg2.extensions.connection]:
    """A connection that commits when the block ends cleanly and rolls back otherwise."""
    url = url or settings.database_url()
    try:
        conn = psycopg2.connect(url, cursor_factory=psycopg2.extras.RealDictCursor)
    except psycopg2.OperationalError as e:
        raise Unreachable(url, e) from e
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


def _one(conn, sql: str, params: Any = None) -> dict | None:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def _all(conn, sql: str, params: Any = None) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _run(conn, sql: str, params: Any = None) -> None:
    with conn.cursor() as cur:
        cur.execute(sql, params)


# ------------------------------------------------------------------ sources

# the source columns a caller may set; JSON ones are stored as jsonb
SOURCE_SETTINGS = ("department", "kind", "format", "location", "schedule", "credentials_ref",
                   "mapping", "defaults", "withdraw_threshold", "enabled", "local",
                   "last_etag", "last_modified")
_JSONB = ("mapping", "defaults")


def _jsonb(columns: dict[str, Any]) -> dict[str, Any]:
    return {k: Json(v or {}) if k in _JSONB else v for k, v in columns.items()}


def put_source(conn, source: dict[str, Any]) -> dict:
    """Create the source, or redefine the one of that name whole (and enable it)."""
    return _one(conn, """
        INSERT INTO source (name, department, kind, format, location, schedule,
                            credentials_ref, mapping, defaults, withdraw_threshold, local)
        VALUES (%(name)s, %(department)s, %(kind)s, %(format)s, %(location)s,
                %(schedule)s, %(credentials_ref)s, %(mapping)s, %(defaults)s,
                %(withdraw_threshold)s, %(local)s)
        ON CONFLICT (name) DO UPDATE SET department = EXCLUDED.department,
            kind = EXCLUDED.kind, format = EXCLUDED.format, local = EXCLUDED.local,
            location = EXCLUDED.location, schedule = EXCLUDED.schedule,
            credentials_ref = EXCLUDED.credentials_ref, mapping = EXCLUDED.mapping,
            defaults = EXCLUDED.defaults,
            withdraw_threshold = EXCLUDED.withdraw_threshold, enabled = true
        RETURNING *""", _jsonb(source))


def update_source(conn, name: str, columns: dict[str, Any]) -> dict:
    """Set these columns of the named source; returns the source as it is now."""
    unknown = set(columns) - set(SOURCE_SETTINGS)
    if unknown:   # column names go into the statement: only known ones
        raise ValueError(f"not source settings: {', '.join(sorted(unknown))}")
    assignments = ", ".join(f"{column} = %({column})s" for column in columns)
    return _one(conn, f"UPDATE source SET {assignments} WHERE name = %(name)s RETURNING *",
                {**_jsonb(columns), "name": name})


def source_named(conn, name: str) -> dict | None:
    return _one(conn, "SELECT * FROM source WHERE name = %s", (name,))


def source_by_id(conn, source_id: int) -> dict | None:
    return _one(conn, "SELECT * FROM source WHERE id = %s", (source_id,))


def all_sources(conn) -> list[dict]:
    return _all(conn, "SELECT * FROM source ORDER BY name")


def disable_source(conn, name: str) -> None:
    _run(conn, "UPDATE source SET enabled = false WHERE name = %s", (name,))


def scheduled_sources(conn) -> list[dict]:
    """Enabled sources with a schedule, each with ``last_queued``: when its last job was queued."""
    return _all(conn, """SELECT source.*, (SELECT max(queued_at) FROM job WHERE job.source_id = source.id)
                                AS last_queued
                         FROM source WHERE enabled AND schedule IS NOT NULL""")


def remember_validators(conn, source_id: int, etag: str | None, last_modified: str | None) -> None:
    """The HTTP validators of a good fetch, for the next one's If-None-Match / If-Modified-Since."""
    _run(conn, "UPDATE source SET last_etag = %s, last_modified = %s WHERE id = %s",
         (etag, last_modified, source_id))


# --------------------------------------------------------------------- jobs

def open_job(conn, source_id: int) -> int:
    """Queue a job for the source, or return the one already queued or running."""
    row = _one(conn, """INSERT INTO job (source_id) VALUES (%s)
                        ON CONFLICT (source_id) WHERE status IN ('queued', 'running') DO NOTHING
                        RETURNING id""", (source_id,))
    if row:
        return row["id"]
    return _one(conn, "SELECT id FROM job WHERE source_id = %s AND status IN ('queued', 'running')",
                (source_id,))["id"]


def fail_overdue_jobs(conn) -> list[int]:
    """Mark failed every running job with no heartbeat for longer than its time limit."""
    return [r["id"] for r in _all(conn, """
        UPDATE job SET status = 'failed', finished_at = now(),
                       error = 'no sign of life within the time limit; the worker probably died'
        WHERE status = 'running'
          AND coalesce(heartbeat_at, started_at) < now() - make_interval(secs => time_limit_s)
        RETURNING id""")]


def open_job_of(conn, source_id: int) -> int | None:
    """The source's job queued or running now, if any."""
    row = _one(conn, "SELECT id FROM job WHERE source_id = %s AND status IN ('queued', 'running')",
               (source_id,))
    return row["id"] if row else None


def claim_job(conn, job_id: int) -> dict | None:
    """Take a queued job to run it: mark it running, its heartbeat now, and return
    its ``source_id`` and ``time_limit_s``. None if it is not queued (another
    process runs it, or it ended): one job is run by one process, however many
    were told to run it."""
    return _one(conn, """UPDATE job SET status = 'running', started_at = now(), heartbeat_at = now()
                         WHERE id = %s AND status = 'queued' RETURNING source_id, time_limit_s""",
                (job_id,))


def beat(conn, job_id: int) -> None:
    """The job's sign of life for the watchdog."""
    _run(conn, "UPDATE job SET heartbeat_at = now() WHERE id = %s", (job_id,))


def finish_job(conn, job_id: int, status: str, counts: dict, error: str | None) -> bool:
    """End a running job. False, and nothing written, if it is no longer running:
    the watchdog failed it meanwhile, and a late process must not turn that into
    'done' (a later run of the source may already have started)."""
    return _one(conn, """UPDATE job SET status = %s, finished_at = now(), counts = %s, error = %s
                         WHERE id = %s AND status = 'running' RETURNING id""",
                (status, Json(counts), error, job_id)) is not None


def job(conn, job_id: int) -> dict | None:
    """The job with its source's ``source`` name and ``department``; None if there is none."""
    return _one(conn, """SELECT job.*, source.name AS source, source.department
                         FROM job JOIN source ON source.id = job.source_id WHERE job.id = %s""",
                (job_id,))


def recent_jobs(conn, *, source: str | None = None, limit: int = 50) -> list[dict]:
    """The newest jobs first (of one source, if named), each with its ``source``
    name and ``department``."""
    return _all(conn, """SELECT job.id, source.name AS source, source.department, job.status,
                                job.counts, job.queued_at, job.started_at, job.finished_at, job.error
                         FROM job JOIN source ON source.id = job.source_id
                         WHERE %(s)s::text IS NULL OR source.name = %(s)s
                         ORDER BY job.id DESC LIMIT %(limit)s""", {"s": source, "limit": limit})


def later_harvest(conn, job_id: int, source_id: int) -> int | None:
    """The first job of the source after this one that compared the feed anew
    (done or held), if any."""
    row = _one(conn, """SELECT id FROM job WHERE source_id = %s AND id > %s
                        AND status IN ('done', 'held') ORDER BY id LIMIT 1""", (source_id, job_id))
    return row["id"] if row else None


class SourceBusy(Exception):
    """A harvest of the source is queued or running (``job_id``)."""

    def __init__(self, job_id: int | None):
        super().__init__(f"harvest job {job_id} of this source is queued or running")
        self.job_id = job_id


def claim_held_job(conn, job_id: int) -> dict | None:
    """Take a held job to confirm its withdrawals, in one statement: it becomes
    its source's open job again ('running', beating for the watchdog), so the
    database's one-open-job-per-source index keeps any harvest of the source
    from being queued or run until the confirmation ends, and a second
    confirmation finds it no longer held. Returns the job (as ``job``), None if
    it is not held (ended, or another confirmation has it). Raises SourceBusy
    when a harvest of the source is queued or running now. The caller checks
    ``later_harvest`` in the same transaction before it commits: a harvest that
    ended while this statement waited for it is seen by that next statement."""
    _run(conn, "SAVEPOINT claim_held_job")
    try:
        claimed = _one(conn, """UPDATE job SET status = 'running', heartbeat_at = now()
                                WHERE id = %s AND status = 'held' RETURNING source_id""", (job_id,))
    except psycopg2.errors.UniqueViolation:
        _run(conn, "ROLLBACK TO SAVEPOINT claim_held_job")
        busy = _one(conn, """SELECT o.id FROM job o JOIN job h ON h.source_id = o.source_id
                             WHERE h.id = %s AND o.status IN ('queued', 'running')""", (job_id,))
        raise SourceBusy(busy["id"] if busy else None)
    _run(conn, "RELEASE SAVEPOINT claim_held_job")
    return job(conn, job_id) if claimed else None


def release_held_job(conn, job_id: int) -> None:
    """A confirmation that stopped half way gives its job back as held (if it
    still has it), to be confirmed again or superseded."""
    _run(conn, "UPDATE job SET status = 'held' WHERE id = %s AND status = 'running'", (job_id,))


def close_held_job(conn, job_id: int, withdrawn: int) -> None:
    """A held job whose withdrawals a person confirmed (``claim_held_job``) is
    done, and no longer occupies its source (if the watchdog has not failed it)."""
    _run(conn, """UPDATE job SET status = 'done',
                         counts = counts || jsonb_build_object('held', 0, 'withdrawn', %s)
                  WHERE id = %s AND status = 'running'""", (withdrawn, job_id))


# ------------------------------------------------------------------ records

def records_of(conn, source_id: int) -> dict[str, dict]:
    """The source's records by source record id: id, hash, dataset name and state
    (not their content, which is read when needed)."""
    return {r["source_record_id"]: r for r in _all(
        conn, "SELECT source_record_id, content_hash, dataset_name, state "
              "FROM record WHERE source_id = %s", (source_id,))}


def record_content(conn, source_id: int, record_id: str) -> dict:
    return _one(conn, "SELECT content FROM record WHERE source_id = %s AND source_record_id = %s",
                (source_id, record_id))["content"]


def save_published(conn, source_id: int, record_id: str, content_hash: str, dataset_name: str,
                   content: dict, job_id: int) -> None:
    """The record as CKAN now publishes it."""
    _run(conn, """INSERT INTO record (source_id, source_record_id, content_hash,
                                      dataset_name, content, state, last_job_id)
                  VALUES (%s, %s, %s, %s, %s, 'published', %s)
                  ON CONFLICT (source_id, source_record_id) DO UPDATE SET
                    content_hash = EXCLUDED.content_hash, dataset_name = EXCLUDED.dataset_name,
                    content = EXCLUDED.content, state = 'published',
                    last_job_id = EXCLUDED.last_job_id""",
         (source_id, record_id, content_hash, dataset_name, Json(content), job_id))


def mark_withdrawn(conn, source_id: int, record_id: str, job_id: int) -> None:
    _run(conn, "UPDATE record SET state = 'withdrawn', last_job_id = %s "
               "WHERE source_id = %s AND source_record_id = %s", (job_id, source_id, record_id))


def held_records(conn, job_id: int, source_id: int) -> list[dict]:
    """The records a job held back from withdrawal: source record id and dataset name."""
    return _all(conn, """SELECT o.source_record_id, r.dataset_name FROM job_outcome o
                         JOIN record r ON r.source_id = %s AND r.source_record_id = o.source_record_id
                         WHERE o.job_id = %s AND o.outcome = 'held'""", (source_id, job_id))


# ----------------------------------------------------------------- outcomes

def note_outcome(conn, job_id: int, record_id: str, outcome: str,
                 changes: list | None = None, errors: dict | None = None) -> None:
    """What the job did with one record (the last word counts)."""
    _run(conn, """INSERT INTO job_outcome (job_id, source_record_id, outcome, changes, errors)
                  VALUES (%s, %s, %s, %s, %s)
                  ON CONFLICT (job_id, source_record_id) DO UPDATE SET outcome = EXCLUDED.outcome,
                    changes = EXCLUDED.changes, errors = EXCLUDED.errors""",
         (job_id, record_id, outcome, Json(changes) if changes is not None else None,
          Json(errors) if errors is not None else None))


def outcomes(conn, job_id: int) -> list[dict]:
    """Every record outcome of the job, by outcome and record id."""
    return _all(conn, "SELECT source_record_id, outcome, changes, errors FROM job_outcome "
                      "WHERE job_id = %s ORDER BY outcome, source_record_id", (job_id,))


# ------------------------------------------------------------------- health

def source_health(conn) -> list[dict]:
    """Every source with what its feed's health is judged on: ``name``,
    ``department``, ``kind``, ``enabled``, ``location``; ``last_success`` (when
    its last done or held job finished), ``last_status``, ``last_finished`` and
    ``last_error`` of its latest finished job, and ``last_counts``: the counts
    of its latest job that read the feed anew (not "not modified")."""
    return _all(conn, """
        SELECT s.name, s.department, s.kind, s.enabled, s.location,
               (SELECT max(finished_at) FROM job WHERE source_id = s.id AND status IN ('done', 'held'))
                 AS last_success,
               l.status AS last_status, l.finished_at AS last_finished, l.error AS last_error,
               (SELECT counts FROM job WHERE source_id = s.id AND status IN ('done', 'held')
                  AND NOT counts ? 'not_modified' ORDER BY id DESC LIMIT 1) AS last_counts
        FROM source s
        LEFT JOIN LATERAL (SELECT status, finished_at, error FROM job
                           WHERE source_id = s.id AND status IN ('done', 'held', 'failed')
                           ORDER BY id DESC LIMIT 1) l ON TRUE
        ORDER BY s.department, s.name""")


# --------------------------------------------------------------------- minute-level sources

def forget_jobs_before(conn, source_id: int, before) -> int:
    """Delete a source's ended jobs finished before ``before``, with their outcomes;
    return how many. For a queue source (queues.py): it runs every minute, 1,440
    jobs a day, and what it harvested lives on in the platform's time series;
    it keeps no records (no record row names its jobs)."""
    with conn.cursor() as cur:
        cur.execute("""WITH old AS (SELECT id FROM job WHERE source_id = %s AND finished_at < %s
                                    AND status NOT IN ('queued', 'running')),
                            outcomes AS (DELETE FROM job_outcome WHERE job_id IN (SELECT id FROM old))
                       DELETE FROM job WHERE id IN (SELECT id FROM old)""", (source_id, before))
        return cur.rowcount
