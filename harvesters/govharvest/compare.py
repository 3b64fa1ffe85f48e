"""Compare a harvested record with what the last harvest saw.

The identity of a record is its source record id; its content is the hash of
its normalised form. Plain functions: the pipeline, the reports and the tests
all use these.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

NEW, CHANGED, UNCHANGED, MISSING = "new", "changed", "unchanged", "missing"
# A reader whose records are not identified by their service code alone (another
# CKAN: department + code) puts the source record id in the raw record under this key.
RECORD_ID = "_source_record_id"


def content_hash(record: Mapping[str, Any]) -> str:
    """A stable hash of a normalised record: key order and whitespace do not matter."""
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldChange]:
    """Field by field, what changed from old to new (a field that appears or goes counts)."""
    changes = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if _canonical(before) != _canonical(after):
            changes.append(FieldChange(name, before, after))
    return changes


def _canonical(value: Any) -> str:
    if value in (None, "", [], {}):
        return ""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@dataclass
class Comparison:
    """Each source record id, sorted into what the load must do with it."""
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def compare(previous: Mapping[str, str], current: Mapping[str, str],
            unreadable: Iterable[str] = ()) -> Comparison:
    """previous/current: {source record id: content hash}; unreadable: the ids of
    records the source still delivers but that could not be read this time.

    Records in previous but not in current are missing from the source: the
    load withdraws them (it never deletes). An unreadable record is not
    missing: the department still publishes it, so its last good version stays.
    """
    result = Comparison()
    for record_id, digest in current.items():
        if record_id not in previous:
            result.new.append(record_id)
        elif previous[record_id] != digest:
            result.changed.append(record_id)
        else:
            result.unchanged.append(record_id)
    seen = set(current) | set(unreadable)
    result.missing = [record_id for record_id in previous if record_id not in seen]
    for ids in (result.new, result.changed, result.unchanged, result.missing):
        ids.sort()
    return result


def withdrawal_needs_confirmation(comparison: Comparison, threshold: float = 0.2) -> bool:
    """True when the source would withdraw more than `threshold` of what it had:
    more likely a broken feed than a department closing a fifth of its services."""
    before = len(comparison.changed) + len(comparison.unchanged) + len(comparison.missing)
    return before > 0 and len(comparison.missing) / before > threshold


def duplicates(record_ids: Iterable[str]) -> list[str]:
    """Source record ids that appear more than once in one harvest."""
    seen, twice = set(), set()
    for record_id in record_ids:
        (twice if record_id in seen else seen).add(record_id)
    return sorted(twice)
