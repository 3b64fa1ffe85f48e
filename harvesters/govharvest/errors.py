"""What can go wrong in a harvest, in two kinds kept apart.

A job-fatal error (``JobError``) means the source as a whole cannot be read:
the job fails with its message before CKAN is touched. A record error
(``RecordError``) concerns one record: it is reported with its field and
reason while the other records land.

This module imports nothing of the package, so every reader can raise these
without an import cycle.

A message may quote what a feed sent (a value, a server's error text): every
message is cut to ``MESSAGE_CHARS`` and its control characters escaped here,
where each error is made, so no report, log line or admin page can be flooded
or forged by a feed, whichever reader quoted it.
"""
from __future__ import annotations

from ckanext.govservice.core.untrusted import MESSAGE_CHARS, excerpt


class JobError(Exception):
    """The source cannot be harvested at all; the message says why, in an operator's words."""

    def __init__(self, message: str = ""):
        super().__init__(excerpt(message, MESSAGE_CHARS))


class ExtractError(JobError):
    """The source could not be read; the message says why, in an operator's words."""


class FormatError(JobError):
    """The body is not what the format promises; the message says where and why."""


class RecordError(ValueError):
    """A record that cannot be read: field and reason."""

    def __init__(self, field: str, reason: str):
        field, reason = excerpt(field, 100), excerpt(reason, MESSAGE_CHARS)
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason
