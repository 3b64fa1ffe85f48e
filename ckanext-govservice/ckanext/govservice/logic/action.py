from __future__ import annotations

import datetime as dt

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from .. import health


@tk.side_effect_free
def govservice_health(context: Context, data_dict: DataDict) -> DataDict:
    """Report whether CKAN and every service it depends on is up.

    Public and read-only; meant for operators' monitoring and ``make status``.
    Each dependency is probed with a short timeout
    (``ckanext.govservice.health.timeout``), so a dead service is reported
    as down rather than hanging the check.

    Takes no parameters.

    :returns: ``{"status": "ok" | "degraded", "checked_at": ISO 8601 UTC,
        "services": {name: probe}}`` where ``name`` is one of ``ckan``,
        ``postgresql``, ``datastore``, ``solr``, ``redis``, ``job_worker`` and
        each ``probe`` has ``status`` (``up`` or ``down``), ``latency_ms``, and
        either details such as ``version`` (and ``documents`` for Solr,
        ``workers`` and ``queued_jobs`` for the job worker) or, when down, an
        ``error`` saying what failed and where. Credentials never appear in
        URLs shown here.
    :rtype: dict

    The action itself never fails because a dependency is down; that is what
    it reports.
    """
    tk.check_access("govservice_health", context, data_dict)
    services = {name: health.timed(probe) for name, probe in health.PROBES.items()}
    return {
        "status": health.overall_status(services),
        "checked_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "services": services,
    }
