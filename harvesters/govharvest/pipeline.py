"""One harvest job: extract → read and normalise → compare → load → report.

The same pipeline harvests each catalogue (catalogues.py): services, basic
items and documents differ only in their dataset type, the field that keys a
record and their schema.

Two passes over the spooled file keep memory bounded and publishing safe: the
first reads every record and computes its hash (only ids and hashes are kept),
so a body that turns out truncated or unparseable fails the job before CKAN is
touched; the second loads the new and changed records one by one.
"""
from __future__ import annotations

import collections
import contextlib
import datetime as dt
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import ckanapi

from . import bulk, catalogues, ckan_reader, compare, db, extract, formats, queues, settings, sources, statistics
from .errors import JobError, RecordError
from .load import CkanTarget, error_messages
from .normalise import normalise

log = logging.getLogger(__name__)


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class JobBusy(Exception):
    """The source already has a job queued or running (the database allows one)."""

    def __init__(self, job_id: int):
        super().__init__(f"harvest job {job_id} of this source is queued or running")
        self.job_id = job_id


def start_job(conn, source: dict, *, join: bool = True) -> int:
    """Queue a job for the source, or return the one already queued or running
    (join=False: raise JobBusy instead, for a caller that brings new input)."""
    if not join:
        busy = db.open_job_of(conn, source["id"])
        if busy is not None:
            raise JobBusy(busy)
    return db.open_job(conn, source["id"])


def fail_overdue_jobs(conn) -> list[int]:
    """The watchdog: a running job with no heartbeat for longer than its time limit
    is marked failed, so nothing stays 'running' forever after a crash."""
    return db.fail_overdue_jobs(conn)


def _dataset(record: dict, source: dict, record_id: str, digest: str) -> dict[str, Any]:
    return {**record, "type": catalogues.of(source).dataset_type, "owner_org": source["department"],
            "source": source["name"], "source_record_id": record_id,
            "harvested_at": now().isoformat(timespec="seconds"), "content_hash": digest}


def run_job(conn_factory, job_id: int, ckan: ckanapi.RemoteCKAN | ckanapi.LocalCKAN,
            *, dry_run: bool = False) -> dict:
    """Run a queued job to the end. Returns the job's counts. Never raises for a
    bad source or bad records: those end up in the job's status and report. A
    job that is not queued (another process has it) is left alone: returns {}.

    dry_run: fetch, read, validate what can be validated here and compare, then
    stop: the counts say what a real run would add, change and withdraw, and
    CKAN is not touched (nor are the source's records or HTTP validators).

    Whatever happens, the job ends: an unexpected exception fails it with the
    exception's class and message (logged with its traceback) rather than
    leaving it 'running' to block its source until the watchdog's hour is up."""
    with conn_factory() as conn:
        claimed = db.claim_job(conn, job_id)
    if claimed is None:   # run --now beside a worker, or a message delivered twice
        log.warning("harvest job %s is not queued (another process runs it, or it ended): "
                    "not run a second time", job_id)
        return {}
    try:
        with _heartbeat(conn_factory, job_id, claimed["time_limit_s"]):
            return _run_job(conn_factory, job_id, claimed["source_id"], ckan, dry_run)
    except BaseException as e:
        _finish(conn_factory, job_id, "failed", {}, unexpected(e))
        log.exception("harvest job %s failed unexpectedly", job_id)
        if not isinstance(e, Exception):   # interrupted, exiting: let it go on
            raise
        return {}


@contextlib.contextmanager
def _heartbeat(conn_factory, job_id: int, time_limit_s: int) -> Iterator[None]:
    """Beat for the job while it runs, a few times per time limit, so the watchdog
    does not declare a long fetch or parse dead and let a second run start
    beside it. Only a dead process stops beating."""
    stop = threading.Event()
    interval = max(0.5, min(60.0, time_limit_s / 4))

    def beat() -> None:
        while not stop.wait(interval):
            try:
                with conn_factory() as conn:
                    db.beat(conn, job_id)
            except Exception:   # a missed beat is not the job's failure; the next may land
                log.warning("harvest job %s: heartbeat failed", job_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"govharvest-heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def unexpected(e: BaseException) -> str:
    """An unexpected error in a job's report: its kind and message, cut short (a
    message may quote a body; the log has the whole traceback)."""
    text = f"unexpected error: {type(e).__name__}: {e}"
    return text if len(text) <= 300 else text[:299] + "…"


def _run_job(conn_factory, job_id: int, source_id: int, ckan, dry_run: bool) -> dict:
    with conn_factory() as conn:
        source = db.source_by_id(conn, source_id)
        # ids, hashes and names only: a changed record's last content is read when needed
        previous = db.records_of(conn, source["id"])
    # rows for the statistics store or the queues' time series, checked by the platform
    rows_job = {"statistics": statistics.run_job, "queues": queues.run_job}.get(source["kind"])
    if rows_job:
        if dry_run:
            _finish(conn_factory, job_id, "failed", {}, f"a {source['kind']} source has no dry run: "
                    "the platform checks its rows as it loads them")
            return {}
        status, counts, error = rows_job(conn_factory, job_id, source, ckan)
        _finish(conn_factory, job_id, status, counts, error)
        return counts
    try:
        counts = _harvest(conn_factory, job_id, source, previous, bulk.target(ckan), dry_run)
    except JobError as e:          # the source as a whole: fetch or format
        _finish(conn_factory, job_id, "failed", {}, str(e))
        log.warning("harvest job %s of %s failed: %s", job_id, source["name"], e)
        return {}
    status = "held" if counts.get("held") and not dry_run else "done"
    _finish(conn_factory, job_id, status, counts, None)
    return counts


def _finish(conn_factory, job_id: int, status: str, counts: dict, error: str | None) -> None:
    with conn_factory() as conn:
        if not db.finish_job(conn, job_id, status, counts, error):
            ended = db.job(conn, job_id)
            log.warning("harvest job %s ended as %s (%s) before its process finished; the late "
                        "result %s is not recorded", job_id, ended["status"], ended["error"], status)


def _fetch(source) -> extract.Fetched:
    """The source's body on disk; its credentials (if any) are resolved here, for
    this fetch only."""
    headers = sources.credentials_headers(source.get("credentials_ref"))
    local = bool(source.get("local"))
    if source["format"] == "json":
        return extract.fetch_json_pages(source["location"], etag=source["last_etag"],
                                        last_modified=source["last_modified"], headers=headers,
                                        local=local, feed_key=catalogues.of(source).feed_key)
    if source["format"] == "ckan":
        catalogue = catalogues.of(source)
        return ckan_reader.fetch(source["location"], headers=headers, local=local,
                                 dataset_type=catalogue.dataset_type, key=catalogue.key)
    return extract.fetch(source["location"], etag=source["last_etag"],
                         last_modified=source["last_modified"], headers=headers, local=local)


def _records(path, source) -> Iterator[tuple[str, str, dict | None, RecordError | None]]:
    """(where, source record id, normalised record or None, its error or None) for
    every record of the spooled body, with the source's mapping and defaults applied."""
    catalogue = catalogues.of(source)
    key = catalogue.key
    reader = formats.reader(source["format"], catalogue)
    mapping = {**getattr(reader, "mapping", {}), **(source["mapping"] or {})}
    defaults = source.get("defaults") or {}
    if defaults:
        defaults = {k: v for k, v in normalise({**defaults, key: "-"}, catalogue=catalogue).items()
                    if k != key}
    lacks = getattr(reader, "lacks", ())
    for where, raw in reader(path):
        record_id = raw.pop(compare.RECORD_ID, None)
        try:
            record = normalise(raw, mapping, catalogue)
            for name, value in defaults.items():
                if record.get(name) in (None, "", []):
                    record[name] = value
            for name in lacks:
                if record.get(name) in (None, "", []):
                    raise RecordError(name, f"is missing: the {source['format']} feed does not carry "
                                            f"it, and this source has no default for it "
                                            f"(govharvest source add … --default {name}=…)")
        except RecordError as e:
            # no id of its own: ``where`` stands in (and the harvest holds its withdrawals)
            yield where, str(record_id or str(raw.get(key) or "").strip() or where), None, e
            continue
        yield where, str(record_id or record[key]), record, None


def _harvest(conn_factory, job_id, source, previous, target: CkanTarget, dry_run=False) -> dict:
    key = catalogues.of(source).key
    fetched = _fetch(source)
    if fetched.not_modified:
        # the source says nothing changed since the last good harvest: nothing to do
        return {"new": 0, "changed": 0, "unchanged": len(previous), "withdrawn": 0,
                "rejected": 0, "held": 0, "not_modified": True}
    try:
        # pass 1: every record readable? ids and hashes only
        current: dict[str, str] = {}
        codes: dict[str, str] = {}      # record code -> record id: one dataset per code here
        rejected: dict[str, dict] = {}
        unidentified = False    # a record that failed to read before its id was known
        for where, record_id, record, error in _records(fetched.path, source):
            if error is not None:
                rejected[record_id] = {error.field: [f"{where}: {error.reason}"]}
                unidentified |= record_id == where
                continue
            if record_id in current:
                rejected[record_id] = {key: [f"{where}: appears more than once in this source"]}
                continue
            code = record[key]
            if codes.setdefault(code, record_id) != record_id:
                rejected[record_id] = {key: [
                    f"{where}: {key.replace('_', ' ')} {code} also comes from {codes[code]} in this "
                    "source; the catalogue would hold one record twice"]}
                continue
            current[record_id] = compare.content_hash(record)
        del codes
        # a record rejected here is still in the feed: not missing, not withdrawn
        result = compare.compare({k: v["content_hash"] for k, v in previous.items()
                                  if v["state"] == "published"}, current, unreadable=rejected)
        to_load = set(result.new) | set(result.changed)
        # records withdrawn earlier that came back are loaded again
        to_load |= {k for k in current if k in previous and previous[k]["state"] == "withdrawn"}
        # a record unread without its id may be any of the missing ones: a person decides
        hold = compare.withdrawal_needs_confirmation(result, source["withdraw_threshold"]) or (
            unidentified and bool(result.missing))

        counts = {"new": 0, "changed": 0, "unchanged": len(result.unchanged), "withdrawn": 0,
                  "rejected": len(rejected), "held": 0}
        with conn_factory() as conn:
            for record_id, errors in rejected.items():
                db.note_outcome(conn, job_id, record_id, "rejected", errors=errors)
        if dry_run:
            return {**counts, "new": sum(1 for k in to_load if k not in previous),
                    "changed": sum(1 for k in to_load if k in previous),
                    "withdrawn": 0 if hold else len(result.missing),
                    "held": len(result.missing) if hold else 0, "dry_run": True}

        # pass 2: load what is new or changed, each record noted (committed) as soon
        # as CKAN has it, so a job killed mid-way loses nothing
        pending = ((where, record_id, record, previous.get(record_id))
                   for where, record_id, record, _error in _records(fetched.path, source)
                   if record_id in to_load and record_id not in rejected)
        try:
            with conn_factory() as conn:
                if isinstance(target, bulk.BatchTarget):
                    _load_batches(conn, job_id, source, target, pending, current, counts)
                else:
                    _load_in_flight(conn, job_id, source, target, pending, current, counts)

            with conn_factory() as conn:
                # records gone from the source: withdrawn (kept, restorable), or held for a person
                for record_id in result.missing:
                    if hold:
                        db.note_outcome(conn, job_id, record_id, "held")
                        counts["held"] += 1
                        continue
                    target.withdraw(previous[record_id]["dataset_name"])
                    db.mark_withdrawn(conn, source["id"], record_id, job_id)
                    db.note_outcome(conn, job_id, record_id, "withdrawn")
                    conn.commit()
                    counts["withdrawn"] += 1
                # validators of this good fetch
                db.remember_validators(conn, source["id"], fetched.etag, fetched.last_modified)
        finally:   # background work (catalogue files, KPI copy): once per load, even a broken one
            target.after_load()
        return counts
    finally:
        fetched.path.unlink(missing_ok=True)


def _load_in_flight(conn, job_id, source, target: CkanTarget, pending, current, counts) -> None:
    """Over HTTP: a few CKAN writes in flight at once (a write waits mostly on
    CKAN's validation and Solr commit), settled in order."""
    workers = load_workers(target.ckan)
    with ThreadPoolExecutor(workers, thread_name_prefix="govharvest-load") as pool:
        in_flight: collections.deque = collections.deque()

        def settle(item) -> None:
            future, where, record_id, record, before = item
            outcome = _note(conn, job_id, source, where, record_id, record,
                            current[record_id], before, future.result())
            conn.commit()
            counts[outcome] += 1

        for where, record_id, record, before in pending:
            future = pool.submit(_upsert, target, _dataset(record, source, record_id, current[record_id]),
                                 before["dataset_name"] if before else None)
            in_flight.append((future, where, record_id, record, before))
            if len(in_flight) >= 2 * workers:      # bounded: a few records in memory
                settle(in_flight.popleft())
        while in_flight:
            settle(in_flight.popleft())


def _load_batches(conn, job_id, source, target: bulk.BatchTarget, pending, current, counts) -> None:
    """In-process (bulk.py): batches written and committed by CKAN together, then
    noted together; a refused record is noted as rejected, the rest land."""
    batch: list = []

    def flush() -> None:
        saved = target.upsert_many([(_dataset(record, source, record_id, current[record_id]),
                                     before["dataset_name"] if before else None)
                                    for _where, record_id, record, before in batch])
        for (where, record_id, record, before), result in zip(batch, saved):
            counts[_note(conn, job_id, source, where, record_id, record, current[record_id],
                         before, result)] += 1
        conn.commit()
        batch.clear()

    size = settings.load_batch_size()
    for item in pending:
        batch.append(item)
        if len(batch) >= size:
            flush()
    if batch:
        flush()


def load_workers(ckan) -> int:
    """How many CKAN writes a harvest keeps in flight: GOVHARVEST_LOAD_WORKERS
    (default 2, CKAN's own worker count here) over HTTP; one in-process, where
    CKAN's database session is not for sharing between threads."""
    if not isinstance(ckan, ckanapi.RemoteCKAN):
        return 1
    return settings.load_workers()


def _upsert(target: CkanTarget, dataset: dict, known_name: str | None) -> dict | ckanapi.ValidationError:
    """In a load thread: the saved dataset, or the validation error that rejects it."""
    try:
        return target.upsert(dataset, known_name)
    except ckanapi.ValidationError as e:
        return e


def _note(conn, job_id, source, where, record_id, record, digest, before, saved) -> str:
    """Note what CKAN did with one record; returns its outcome."""
    if isinstance(saved, ckanapi.ValidationError):
        db.note_outcome(conn, job_id, record_id, "rejected",
                        errors={field: [f"{where}: {m}" for m in found]
                                for field, found in error_messages(saved.error_dict).items()})
        return "rejected"
    changes = None
    if before:
        changes = [c.__dict__ for c in compare.field_changes(
            db.record_content(conn, source["id"], record_id), record)]
    db.save_published(conn, source["id"], record_id, digest, saved["name"], record, job_id)
    outcome = "changed" if before else "new"
    db.note_outcome(conn, job_id, record_id, outcome, changes=changes)
    db.beat(conn, job_id)
    return outcome


def confirm_withdrawals(conn_factory, job_id: int, ckan) -> int:
    """A person confirms a held job's withdrawals: withdraw them now. Returns how many.
    Raises LookupError for no such job, ValueError for a job not held (ended, or
    being confirmed by someone else now) or one a later harvest of its source
    has superseded or is running now.

    Checked and taken in one transaction, not checked then acted on: the job
    becomes its source's open job while its withdrawals are made
    (``db.claim_held_job``), so two confirmations cannot both withdraw, and no
    harvest of the source can start, and publish what is being withdrawn,
    until the confirmation ends."""
    target = CkanTarget(ckan)
    with conn_factory() as conn:
        job = db.job(conn, job_id)
        if job is None:
            raise LookupError(f"no harvest job {job_id}")
        try:
            claimed = db.claim_held_job(conn, job_id)
        except db.SourceBusy as busy:
            raise ValueError(f"job {busy.job_id}, a later harvest of {job['source']}, is running: confirm "
                             f"job {job_id}'s withdrawals after it ends, if it still holds them")
        if claimed is None:
            status = db.job(conn, job_id)["status"]
            being = "being confirmed by someone else" if status == "running" else status
            raise ValueError(f"job {job_id} is {being}, not held: nothing to confirm")
        # a later harvest compared the feed again: what this job held may be back
        # (and stay published: the feed may answer "not modified" from now on)
        later = db.later_harvest(conn, job_id, job["source_id"])
        if later is not None:   # raising rolls the claim back: the job stays held
            raise ValueError(f"job {job_id} was superseded by job {later}, a later harvest of "
                             f"{job['source']}: its withdrawals are out of date")
        held = db.held_records(conn, job_id, job["source_id"])
    try:
        for row in held:
            target.withdraw(row["dataset_name"])
            with conn_factory() as conn:
                db.mark_withdrawn(conn, job["source_id"], row["source_record_id"], job_id)
                db.note_outcome(conn, job_id, row["source_record_id"], "withdrawn")
                db.beat(conn, job_id)
    except BaseException:
        with conn_factory() as conn:
            db.release_held_job(conn, job_id)
        raise
    with conn_factory() as conn:
        db.close_held_job(conn, job_id, len(held))
    return len(held)


def report(conn, job_id: int) -> dict:
    """A job's report: status, counts, duration, each change field by field, each rejection."""
    job = db.job(conn, job_id)
    if job is None:
        raise LookupError(f"no harvest job {job_id}")
    outcomes = db.outcomes(conn, job_id)
    duration = None
    if job["started_at"] and job["finished_at"]:
        duration = round((job["finished_at"] - job["started_at"]).total_seconds(), 3)
    return {
        "job": job_id, "source": job["source"], "department": job["department"],
        "status": job["status"], "error": job["error"], "counts": job["counts"],
        "started_at": job["started_at"].isoformat() if job["started_at"] else None,
        "duration_s": duration,
        "changed": [{"record": o["source_record_id"], "changes": o["changes"]}
                    for o in outcomes if o["outcome"] == "changed"],
        "rejected": [{"record": o["source_record_id"], "errors": o["errors"]}
                     for o in outcomes if o["outcome"] == "rejected"],
        "new": [o["source_record_id"] for o in outcomes if o["outcome"] == "new"],
        "withdrawn": [o["source_record_id"] for o in outcomes if o["outcome"] == "withdrawn"],
        "held": [o["source_record_id"] for o in outcomes if o["outcome"] == "held"],
    }
