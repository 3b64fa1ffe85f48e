"""The registry of harvest sources, in the harvest database.

A source that needs credentials names where they are, never what they are:
``credentials_ref`` is ``env:NAME`` (an environment variable of the harvest
workers) or ``file:/path`` (a file only they can read), optionally prefixed
``basic:`` when the secret is ``user:password`` for HTTP basic auth; without
it the secret is sent as the ``Authorization`` header as it is (``Bearer …``,
or a CKAN API token). It is resolved at fetch time, for that fetch only; the
secret is never stored, logged, reported or shown.
"""
from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from croniter import croniter

from . import catalogues, db, formats, settings
from .errors import ExtractError, RecordError
from .normalise import normalise

# services, basic_items, documents (catalogues.py), statistics rows and queue rows (queues.py)
KINDS = (*catalogues.CATALOGUES, "statistics", "queues")
QUEUE_FORMATS = ("csv", "json", "json-file")   # a centre's queue feed (queues.py)
# A query parameter named with one of these words carries a secret (token=,
# api_key=, access_token=, sig=, X-Amz-Signature=…): refused in a location.
CREDENTIAL_WORDS = {"token", "key", "apikey", "secret", "password", "passwd", "pwd", "auth",
                    "authorization", "signature", "sig", "credential", "credentials", "session", "ticket"}
CREDENTIALS_REF = re.compile(r"^(?P<basic>basic:)?(?:env:(?P<env>[A-Za-z_][A-Za-z0-9_]*)|file:(?P<file>/.+))$")


class SourceError(ValueError):
    """A source definition that cannot be used; the message names the field."""


def check(source: dict[str, Any]) -> None:
    if source.get("kind", "services") not in KINDS:
        raise SourceError(f"kind must be one of {', '.join(KINDS)} (got {source.get('kind')!r})")
    if source.get("format") not in formats.READERS:
        raise SourceError(f"format must be one of {', '.join(formats.READERS)} "
                          f"(got {source.get('format')!r})")
    if source.get("kind") == "queues" and source["format"] not in QUEUE_FORMATS:
        raise SourceError(f"format: a queues source is read as one of {', '.join(QUEUE_FORMATS)} "
                          f"(got {source['format']!r})")
    catalogue = catalogues.CATALOGUES.get(source.get("kind") or "services")
    if catalogue and source["format"] not in catalogue.formats:
        raise SourceError(f"format: a {catalogue.kind} source is read as one of "
                          f"{', '.join(catalogue.formats)} (got {source['format']!r})")
    threshold = source.get("withdraw_threshold", 0.2)
    if not 0 <= threshold <= 1:
        raise SourceError(f"withdraw_threshold must be a share between 0 and 1, e.g. 0.2 for 20 % "
                          f"(got {threshold})")
    schedule = source.get("schedule")
    if schedule and not croniter.is_valid(schedule):
        raise SourceError(f"schedule is not a cron expression: {schedule!r}")
    ref = source.get("credentials_ref")
    if ref and not CREDENTIALS_REF.match(ref):
        # said without echoing it: what was given may be the secret itself
        raise SourceError("credentials_ref must say where the secret is, not be it: "
                          "env:VARIABLE or file:/absolute/path, optionally prefixed basic:")
    if is_local(source.get("location")) and not source.get("local"):
        raise SourceError(f"location {source.get('location')} is a file on this machine: only a source "
                          "an operator registers as local (source add --local) may read one")
    location = urlsplit(source.get("location") or "")
    if location.username is not None or location.password is not None:
        raise SourceError("location must not carry a password or user name: "
                          "give the secret as credentials_ref")
    secret_named = sorted({name for name, _ in parse_qsl(location.query, keep_blank_values=True)
                           if CREDENTIAL_WORDS & set(re.split(r"[^a-z0-9]+", name.lower()))})
    if secret_named:   # the parameters' names only: their values are the secret
        raise SourceError(f"location must not carry credentials in its query ({', '.join(secret_named)}): "
                          "give the secret as credentials_ref, sent as the Authorization header")
    defaults = source.get("defaults") or {}
    catalogue = catalogue or catalogues.SERVICES
    for name in defaults:
        if name not in catalogue.input_fields() or name in (catalogue.key, "name", "owner_org"):
            raise SourceError(f"defaults: {name!r} is not a {catalogue.dataset_type.replace('_', ' ')} "
                              "field a source may default")
    try:
        normalise({**defaults, catalogue.key: "-"}, catalogue=catalogue)
    except RecordError as e:
        raise SourceError(f"defaults: {e}") from None


def credentials_headers(ref: str | None) -> dict[str, str]:
    """The HTTP headers carrying the secret a credentials reference points to.
    Raises extract.ExtractError (naming the reference, never the secret) when it
    cannot be read."""
    if not ref:
        return {}
    m = CREDENTIALS_REF.match(ref)
    if not m:
        raise ExtractError("the source's credentials_ref is not env:NAME or file:/path")
    if m["env"]:
        secret = settings.secret(m["env"])
        if not secret:
            raise ExtractError(f"the source's credentials are in ${m['env']}, "
                               "which is not set for the harvest worker")
    else:
        try:
            secret = Path(m["file"]).read_text(encoding="utf-8")
        except OSError as e:
            raise ExtractError(f"the source's credentials file {m['file']} cannot be read: "
                               f"{e.strerror}") from None
    secret = secret.strip()
    if m["basic"]:
        if ":" not in secret:
            raise ExtractError(f"the source's credentials ({ref}) must be user:password "
                               "for basic:")
        return {"Authorization": "Basic " + base64.b64encode(secret.encode("utf-8")).decode("ascii")}
    return {"Authorization": secret}


def is_local(location: str) -> bool:
    """Whether a location is a file on this machine (a path or file:), not a URL."""
    return urlsplit(location or "").scheme in ("", "file")


def add(conn, *, name: str, department: str, format: str, location: str,
        kind: str = "services", schedule: str | None = None, credentials_ref: str | None = None,
        mapping: dict | None = None, defaults: dict | None = None,
        withdraw_threshold: float = 0.2, local: bool | None = None) -> dict:
    """Register (or redefine) a source. ``local`` lets it read a file on this
    machine and reach private addresses; the command line asks the operator for
    it (``--local``), while code that gives a local path here (the operator's own
    scripts, a push) marks the source local by giving it (None: local if the
    location is a file)."""
    source = dict(name=name, department=department, kind=kind, format=format, location=location,
                  schedule=schedule, credentials_ref=credentials_ref or None, defaults=defaults or {},
                  mapping=mapping or {}, withdraw_threshold=withdraw_threshold,
                  local=is_local(location) if local is None else bool(local))
    check(source)
    return db.put_source(conn, source)


UPDATABLE = ("format", "location", "schedule", "credentials_ref", "mapping", "defaults",
             "withdraw_threshold", "enabled", "local")


def update(conn, name: str, **changes: Any) -> dict:
    """Change some of a source's settings and keep the rest (``add`` redefines
    it whole, and turns it back on). A new location or format also forgets the
    HTTP validators of the last fetch, so the next run reads the new file."""
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise SourceError(f"{', '.join(unknown)}: not a setting that can be changed "
                          f"(one of {', '.join(UPDATABLE)})")
    current = get(conn, name)
    check({**current, **changes})
    columns = {k: v for k, v in changes.items() if v != current[k]}   # only what differs is written
    if not columns:
        return current
    if "location" in columns or "format" in columns:
        columns.update(last_etag=None, last_modified=None)
    return db.update_source(conn, name, columns)


def get(conn, name: str) -> dict:
    row = db.source_named(conn, name)
    if row is None:
        raise SourceError(f"no harvest source named {name!r}")
    return row


def all_sources(conn) -> list[dict]:
    return db.all_sources(conn)


def disable(conn, name: str) -> None:
    get(conn, name)
    db.disable_source(conn, name)
