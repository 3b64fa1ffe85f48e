"""What can go wrong in a harvest, in two kinds kept apart.

A job-fatal error (``JobError``) means the source as a whole cannot be read:
the job fails with its message before CKAN is touched. A record error
(``RecordError``) concerns one record: it is reported with its field and
reason while the other records land.

This module imports nothing of the package, so every reader can raise these
without an import cycle.
"""
from __future__ import annotations


class JobError(Exception):
    """The source cannot be harvested at all; the message says why, in an operator's words."""


class ExtractError(JobError):
    """The source could not be read; the message says why, in an operator's words."""


class FormatError(JobError):
    """The body is not what the format promises; the message says where and why."""


class RecordError(ValueError):
    """A record that cannot be read: field and reason."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason
