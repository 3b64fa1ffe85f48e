from __future__ import annotations

import datetime as dt

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from .. import health, publishing, schedule
from ..core import schema


@tk.side_effect_free
def govservice_health(context: Context, data_dict: DataDict) -> DataDict:
    """Report whether CKAN and every service it depends on is up.

    Public and read-only; meant for operators' monitoring and ``make status``.
    Anyone may ask whether each service is up; only sysadmins (and the
    platform's own calls, such as ``ckan govservice health``) get the
    details, since hosts, versions and database names help an attacker
    more than a monitor.
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
        URLs shown here. For anyone but a sysadmin each ``probe`` is
        ``{"status": "up" | "down"}`` only.
    :rtype: dict

    Sysadmins also get ``scheduled_tasks``: ``{"running": bool, "tasks":
    {task: {"schedule", "last": {"due", "ok", "seconds", "error"?} | null,
    "next"}}}`` for the periodic tasks ``ckan govservice scheduler`` runs
    (schedule.py); it does not change ``status``.

    The action itself never fails because a dependency is down; that is what
    it reports.
    """
    tk.check_access("govservice_health", context, data_dict)
    services = {name: health.timed(probe) for name, probe in health.probes().items()}
    answer = {
        "status": health.overall_status(services),
        "checked_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "services": services if health.may_see_details(context) else health.up_or_down(services),
    }
    if health.may_see_details(context):
        try:
            answer["scheduled_tasks"] = schedule.report()
        except Exception as e:   # Redis down: the services above say so
            answer["scheduled_tasks"] = {"error": f"{type(e).__name__}: {e}"}
    return answer


def _field_description(f: dict) -> dict:
    out = {
        "field_name": f["field_name"],
        "label": {lang: schema.label(f, lang) for lang in schema.LANGUAGES},
        "required": bool(f.get("required")),
        "derived": bool(f.get("govservice_derived")),
        "column": f.get("govservice_column", f["field_name"]),
    }
    if f.get("help_text"):
        out["help_text"] = {lang: schema.label({"label": f["help_text"]}, lang)
                            for lang in schema.LANGUAGES}
    if f.get("govservice_vocabulary"):
        out["vocabulary"] = f["govservice_vocabulary"]
        out["choices"] = [{"value": c["value"],
                           "label": {lang: schema.label(c, lang) for lang in schema.LANGUAGES}}
                          for c in schema.choices(f)]
    facet = schema.facet_fields().get(f["field_name"])
    if facet:
        out["solr_field"] = facet
    if f.get("cpsv"):
        out["cpsv"] = f["cpsv"]
    if f.get("repeating_subfields"):
        out["subfields"] = [_field_description(sub) for sub in f["repeating_subfields"]]
    return out


@tk.side_effect_free
def govservice_schema(context: Context, data_dict: DataDict) -> DataDict:
    """Describe the `service` dataset type: every field, in Chinese and English.

    Public and read-only. Developers use it to build forms and feeds, and to
    learn which Solr field facets or sorts on what (``solr_field``, for
    ``package_search``'s ``facet.field``, ``fq`` and ``sort``).

    Takes no parameters.

    :returns: ``{"dataset_type": "service", "fields": [field, ...],
        "vocabularies": {name: [{"value", "label": {"zh_Hans_CN", "en"}}]}}``
        where each ``field`` has ``field_name``, ``label`` and (when present)
        ``help_text`` as ``{"zh_Hans_CN": ..., "en": ...}``, ``required``,
        ``derived`` (computed by the platform, never sent by a publisher),
        ``column`` (its name in the bulk files and feed templates),
        ``vocabulary`` and ``choices`` for controlled values, ``solr_field``
        for faceted fields, ``cpsv`` (the CPSV-AP property) and ``subfields``
        for repeating fields (documents, fees, channels, legal basis…).
    :rtype: dict
    """
    tk.check_access("govservice_schema", context, data_dict)
    fields = [_field_description(f) for f in schema.service_fields()]
    vocabularies = {}
    for f in fields:
        for item in [f, *f.get("subfields", [])]:
            if item.get("vocabulary"):
                vocabularies[item["vocabulary"]] = item["choices"]
    return {"dataset_type": "service", "fields": fields, "vocabularies": vocabularies}


@tk.side_effect_free
def govservice_service_show(context: Context, data_dict: DataDict) -> DataDict:
    """Look a service up by its service code, the identifier departments use.

    :param service_code: the service's code (基本编码), e.g. ``330100-SC-0001``
    :type service_code: string
    :param department: the department's name or id; needed only when two
        departments use the same code
    :type department: string, optional

    :returns: the service, exactly as ``package_show`` returns it
    :rtype: dict
    :raises ValidationError: ``service_code`` missing, or the code is used by
        several departments and no ``department`` was given (the error lists them)
    :raises ObjectNotFound: no service has that code (in that department)
    """
    tk.check_access("govservice_service_show", context, data_dict)
    code = str(data_dict.get("service_code") or "").strip()
    if not code:
        raise tk.ValidationError({"service_code": ["Missing value"]})
    if any(ord(c) < 32 for c in code):
        raise tk.ObjectNotFound(f"no service with code {code!r}")
    fq = ['dataset_type:service', f'{schema.facet_fields()["service_code"]}:"{_solr_escape(code)}"']
    department = data_dict.get("department")
    if department:
        org = _department(context, department)
        fq.append(f'owner_org:"{org["id"]}"')
    found = tk.get_action("package_search")(
        context, {"fq": " AND ".join(fq), "rows": 10, "include_private": True,
                  "fl": "id,organization"})
    if not found["results"]:
        where = f" in department {department}" if department else ""
        raise tk.ObjectNotFound(f"no service with code {code}{where}")
    if len(found["results"]) > 1:
        owners = sorted(r["organization"] for r in found["results"])
        raise tk.ValidationError({"department": [
            f"service code {code} is used by several departments ({', '.join(owners)}); "
            "say which one with department"]})
    return tk.get_action("package_show")(context, {"id": found["results"][0]["id"]})


def _department(context: Context, name_or_id) -> dict:
    """The department (organisation) named, or ObjectNotFound — also for values no
    name can be, such as text with control characters, which PostgreSQL refuses."""
    text = str(name_or_id)
    if len(text) > 100 or any(ord(c) < 32 for c in text):
        raise tk.ObjectNotFound(f"no department {text[:100]!r}")
    return tk.get_action("organization_show")(
        {**context, "for_view": False}, {"id": text, "include_datasets": False})


def _solr_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def govservice_catalogue_build(context: Context, data_dict: DataDict) -> DataDict:
    """Queue a rebuild of the bulk catalogue files (CSV, JSON, XLSX).

    Sysadmins only. The files are rebuilt by the job worker, not in this
    request: one department's files and then the whole platform's, or, with
    no ``department``, every department's and the platform's. A rebuild of the
    same scope that is still waiting in the queue is reused, not doubled.

    :param department: the department's name or id; leave out to rebuild all
    :type department: string, optional

    :returns: ``{"job_id": rq job id, "queued": True}`` for a newly queued job,
        or the id of the job already waiting and ``"queued": False``
    :rtype: dict
    :raises NotAuthorized: the user is not a sysadmin
    :raises ObjectNotFound: no department has that name or id
    """
    from .. import catalogue_publish

    tk.check_access("govservice_catalogue_build", context, data_dict)
    department = data_dict.get("department")
    if department:
        department = _department(context, department)["id"]
    return catalogue_publish.enqueue_rebuild(department or None)


# ---------------------------------------------------------------- statistics and KPIs

def govservice_statistics_load(context: Context, data_dict: DataDict) -> DataDict:
    """Load a department's monthly performance statistics.

    Rows go through PostgreSQL COPY into a staging table, are checked there
    against every rule of ``statistics.yaml``, and the good ones are merged
    into the ``service-statistics`` DataStore table: a row for a service,
    month and channel already published replaces it (an identical row is
    left alone), never duplicates it. Bad rows are reported and the rest
    land. The KPI sums and the services' 12-month summaries are refreshed in
    the same transaction; the search index catches up in the background.

    Sysadmins, and editors and admins of the department.

    :param department: the department's name or id
    :type department: string
    :param upload: a CSV file (UTF-8, BOM allowed) with a header row: column
        names, their Chinese or English labels, or the aliases in
        ``statistics.yaml`` (e.g. 事项编码, 统计月份, 办理渠道, 受理量…)
    :type upload: file, or
    :param records: the rows as JSON objects with the same keys
    :type records: list of dicts

    :returns: ``{"department", "rows", "inserted", "updated", "unchanged",
        "rejected", "rejections": [{"line", "record": "code/period/channel",
        "field", "value", "reason"}], "ignored_columns", "refreshed",
        "services_reindexed", "seconds": {"copy", "validate", "merge",
        "aggregates"}}`` — ``line`` counts the header as line 1 (for
        ``records``, the first record is line 2); at most 1,000 rejections
        are listed, ``rejected`` counts them all
    :rtype: dict
    :raises ValidationError: no department, no rows, a file that is not
        UTF-8 CSV or lacks the service code, period or channel column
    :raises NotAuthorized: the user may not publish for the department
    """
    from .. import statistics_publish, statistics_store as store

    if not data_dict.get("department"):
        raise tk.ValidationError({"department": ["Missing value"]})
    org = _department(context, data_dict["department"])
    tk.check_access("govservice_statistics_load", context, {**data_dict, "owner_org": org["id"]})
    upload, records = data_dict.get("upload"), data_dict.get("records")
    try:
        if records is not None:
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise tk.ValidationError({"records": ["must be a list of JSON objects, one per row"]})
            headers, body = store.records_to_csv(records)
        elif upload is not None and hasattr(getattr(upload, "stream", upload), "read"):
            body = getattr(upload, "stream", upload)   # a web upload, or a file in-process
            headers, _ = store.read_header(body)
        else:
            raise tk.ValidationError({"upload": ["send the rows as a CSV file (upload) or as records"]})
        if not headers:
            raise tk.ValidationError({"upload": ["the file is empty"]})
        return statistics_publish.load(context, org, headers, body)
    except ValueError as e:
        raise tk.ValidationError({"upload" if upload is not None else "records": [str(e)]})


def _period_param(data_dict: DataDict, name: str) -> str | None:
    from ..core import kpis as stats
    value = data_dict.get(name)
    if value in (None, ""):
        return None
    try:
        stats.parse_period(str(value))
    except ValueError as e:
        raise tk.ValidationError({name: [str(e)]})
    return str(value)


def _list_param(data_dict: DataDict, name: str, allowed, default) -> list[str]:
    value = data_dict.get(name)
    if value in (None, "", []):
        return list(default)
    items = value if isinstance(value, list) else str(value).split(",")
    items = [str(i).strip() for i in items if str(i).strip()]
    wrong = [i for i in items if i not in allowed]
    if wrong:
        raise tk.ValidationError({name: [
            f"{', '.join(repr(w) for w in wrong)} not allowed; choose from {', '.join(allowed)}"]})
    return list(dict.fromkeys(items))


def _vocabulary_param(data_dict: DataDict, name: str, field_name: str) -> str | None:
    value = data_dict.get(name)
    if value in (None, ""):
        return None
    f = schema.field(field_name)
    sub = schema.vocabulary_field(f)
    allowed = [c["value"] for c in schema.choices(sub or f)]
    if value not in allowed:
        raise tk.ValidationError({name: [f"{str(value)[:100]!r} is not one of {', '.join(allowed)}"]})
    return value


TEXT_PARAMS = ("department", "service", "theme", "life_event", "channel",
               "period_from", "period_to", "period_type", "sort", "kpi")
LIST_PARAMS = ("group_by", "kpis")


def _text_only(data_dict: DataDict, *names: str) -> None:
    """Each named parameter, when given, is text (a JSON list or number is refused by name)."""
    errors = {name: ["must be text"] for name in names
              if name in data_dict and not isinstance(data_dict[name], str)}
    if errors:
        raise tk.ValidationError(errors)


def _whole_number(data_dict: DataDict, name: str, default: int, low: int, high: int) -> int:
    """A whole-number parameter from JSON (a number) or a query string (digits);
    true/false, fractions, blanks and numbers out of range are refused by name."""
    value = data_dict.get(name, default)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise tk.ValidationError({name: [f"must be a whole number from {low} to {high}"]})
    return value


def _check_types(data_dict: DataDict) -> None:
    """Text parameters are text; list parameters are a list of text or comma-separated text."""
    errors = {}
    for name in TEXT_PARAMS:
        value = data_dict.get(name)
        if name in data_dict and not isinstance(value, str):
            errors[name] = ["must be text"]
    for name in LIST_PARAMS:
        value = data_dict.get(name)
        if name in data_dict and not isinstance(value, str) and not (
                isinstance(value, list) and all(isinstance(v, str) for v in value)):
            errors[name] = ["must be a list of names, or names separated by commas"]
    if errors:
        raise tk.ValidationError(errors)


def _kpi_query(context: Context, data_dict: DataDict) -> dict:
    from ..core import kpis as stats
    _check_types(data_dict)
    query = {
        "period_from": _period_param(data_dict, "period_from"),
        "period_to": _period_param(data_dict, "period_to"),
        "service": (str(data_dict["service"])[:64] if data_dict.get("service") else None),
        "theme": _vocabulary_param(data_dict, "theme", "themes"),
        "life_event": _vocabulary_param(data_dict, "life_event", "life_events"),
        "channel": _vocabulary_param(data_dict, "channel", "channels"),
        "department": None,
    }
    if query["period_from"] and query["period_to"] and query["period_from"] > query["period_to"]:
        raise tk.ValidationError({"period_from": [
            f"{query['period_from']} is after period_to {query['period_to']}"]})
    period_type = data_dict.get("period_type") or "month"
    if period_type not in stats.PERIOD_TYPES:
        raise tk.ValidationError({"period_type": [
            f"{str(period_type)[:50]!r} is not one of {', '.join(stats.PERIOD_TYPES)}"]})
    query["period_type"] = period_type
    query["group_by"] = _list_param(data_dict, "group_by", stats.GROUP_BY, ["period"])
    query["kpis"] = _list_param(data_dict, "kpis", stats.kpi_names(), stats.kpi_names())
    if data_dict.get("department"):
        try:
            query["department"] = _department(context, data_dict["department"])["name"]
        except tk.ObjectNotFound:
            raise tk.ValidationError({"department": [
                f"no department called {str(data_dict['department'])[:100]!r}"]})
    return query


@tk.side_effect_free
def govservice_kpis(context: Context, data_dict: DataDict) -> DataDict:
    """Service performance KPIs, with their numerators, denominators and definitions.

    Public and read-only. Statistics KPIs (on-time rate, digital take-up,
    satisfaction rate and mean score, bad-review rectification rate, volume)
    come from the monthly statistics; catalogue KPIs (time-limit compression,
    zero-visit, at-most-one-visit and fully-online shares) from the services
    as they are now, so they are given only when not grouping by period or
    channel. A KPI whose denominator is zero or was never reported has
    ``value`` null: "no data", never 0.

    :param department: a department's name or id
    :type department: string, optional
    :param service: a service code (codes are unique within a department:
        give ``department`` too when several departments use the same code)
    :type service: string, optional
    :param theme: a theme (a value of the ``themes`` vocabulary)
    :type theme: string, optional
    :param life_event: a life event (a value of the ``life_events`` vocabulary)
    :type life_event: string, optional
    :param channel: a channel (``channel_type`` vocabulary)
    :type channel: string, optional
    :param period_from: first month, ``YYYY-MM`` (default: 11 months before ``period_to``)
    :type period_from: string, optional
    :param period_to: last month, ``YYYY-MM`` (default: the latest month with data)
    :type period_to: string, optional
    :param period_type: ``month`` (default), ``quarter`` or ``year``
    :type period_type: string, optional
    :param group_by: any of ``service``, ``department``, ``theme``,
        ``life_event``, ``channel``, ``period`` (list or comma-separated;
        default ``period``)
    :type group_by: list of strings, optional
    :param kpis: which KPIs (default: all; see ``definitions`` in the answer)
    :type kpis: list of strings, optional

    :returns: ``{"group_by", "period_type", "period_from", "period_to",
        "filters", "definitions": {kpi: {"name", "label", "definition"
        (zh_Hans_CN and en), "numerator", "denominator", "unit", "better",
        "source"}}, "results": [{<group keys>, "period", "kpis": {kpi:
        {"value", "numerator", "denominator", "change_previous",
        "change_year", "rank", "of"}}}]}`` — changes (on the previous period
        and the same period a year before) only when grouping by period; ranks
        (1 = best, among departments in the same period) only when grouping by
        department
    :rtype: dict
    :raises ValidationError: a period not written ``YYYY-MM``, ``period_from``
        after ``period_to``, an unknown department, theme, life event or
        channel, a ``group_by`` or KPI that does not exist
    """
    from .. import statistics_publish

    tk.check_access("govservice_kpis", context, data_dict)
    return statistics_publish.kpi_report(_kpi_query(context, data_dict))


@tk.side_effect_free
def govservice_league_table(context: Context, data_dict: DataDict) -> DataDict:
    """Departments ranked on every KPI over a window of months.

    Public and read-only. Each KPI of each department has its ``value``,
    numerator and denominator, ``rank`` among the departments with data (1 =
    best) and ``change_previous``: the change on the window of the same
    length just before (null when either has no data), from which the
    departments whose KPIs fell most can be read.

    :param period_from: first month, ``YYYY-MM`` (default: 11 months before ``period_to``)
    :type period_from: string, optional
    :param period_to: last month, ``YYYY-MM`` (default: the latest month with data)
    :type period_to: string, optional
    :param sort: the KPI to order by (default ``on_time_rate``), best first
    :type sort: string, optional

    :returns: ``{"period_from", "period_to", "previous_period_from",
        "previous_period_to", "definitions", "departments": [{"department",
        "title": {"zh_Hans_CN", "en"}, "kpis": {kpi: {"value", "numerator",
        "denominator", "rank", "of", "change_previous"}}, "standardisation":
        {"score", "matching", "implementations"}}], "platform": {"kpis": {kpi:
        {"value", "numerator", "denominator", "change_previous", "standard"}}},
        "standardisation_definition": {"zh_Hans_CN", "en"}}``; ``platform`` is
        the whole platform over the same window (every department's services
        together, those of departments since removed too), judged against the
        platform's standards; a department's standardisation score is the
        share of its implementations of basic items keeping to the item's
        standard (govservice_standardisation); null with no implementation
    :rtype: dict
    :raises ValidationError: a period not written ``YYYY-MM``, ``period_from``
        after ``period_to``, an unknown KPI in ``sort``
    """
    from .. import statistics_publish
    from ..core import kpis as stats

    tk.check_access("govservice_league_table", context, data_dict)
    _check_types(data_dict)
    period_from = _period_param(data_dict, "period_from")
    period_to = _period_param(data_dict, "period_to")
    if period_from and period_to and period_from > period_to:
        raise tk.ValidationError({"period_from": [f"{period_from} is after period_to {period_to}"]})
    sort = _list_param(data_dict, "sort", stats.kpi_names(), ["on_time_rate"])[0]
    table = statistics_publish.league_table(period_from, period_to)
    titles = _department_titles()
    # Only departments that are organisations now: figures of one since removed
    # stay in the open data, but it has no place in today's table.
    table["departments"] = [e for e in table["departments"] if e["department"] in titles]
    stats.add_ranks(table["departments"], within="period")   # ranked among those alone
    for entry in table["departments"]:
        org = titles.get(entry["department"], {})
        entry["title"] = {"zh_Hans_CN": org.get("title") or entry["department"],
                          "en": org.get("title_en") or org.get("title") or entry["department"]}
    table["departments"].sort(key=lambda e: (e["kpis"][sort].get("rank") or 10**6, e["department"]))
    table["sort"] = sort
    from .. import item_compare
    scores = {d["department"]: d for d in item_compare.standardisation()}
    for entry in table["departments"]:
        found = scores.get(entry["department"])
        entry["standardisation"] = {k: found[k] for k in ("score", "matching", "implementations")} \
            if found else {"score": None, "matching": 0, "implementations": 0}
    table["standardisation_definition"] = {lang: item_compare.definition(lang) for lang in schema.LANGUAGES}
    return table


def _department_titles() -> dict[str, dict[str, str | None]]:
    """{name: {"title", "title_en"}} of every live organisation, from one query
    (a province has a thousand departments; organization_list would dictize
    each, with its dataset count, and stop at its limit)."""
    from ckan import model
    rows = (model.Session.query(model.Group.name, model.Group.title, model.Group.extras)
            .filter(model.Group.is_organization.is_(True), model.Group.state == "active"))
    return {name: {"title": title, "title_en": (extras or {}).get("title_en")} for name, title, extras in rows}


# ---------------------------------------------------------------- the platform's own datasets
# Checked here, in the actions, not only in auth: an action called with
# ignore_auth skips every auth function, and only the platform (the site user)
# may do these things whoever calls.

def _refuse_reserved_name(context: Context, name) -> None:
    if publishing.reserved_name(name) and not publishing.is_platform(context):
        raise tk.ValidationError({"name": [publishing.RESERVED_NAME.format(name=name)]})


@tk.chained_action
def package_create(up_func, context: Context, data_dict: DataDict) -> DataDict:
    """CKAN's package_create; a name the platform publishes under is refused to anyone else."""
    _refuse_reserved_name(context, data_dict.get("name"))
    return up_func(context, data_dict)


@tk.chained_action
def package_update(up_func, context: Context, data_dict: DataDict) -> DataDict:
    """CKAN's package_update (and so package_patch and package_revise); a rename
    to a name the platform publishes under is refused to anyone else, and so is
    an update of the statistics dataset that would drop its table's resource."""
    from ckan import model
    _keeps_the_statistics_resource(context, data_dict)
    name = data_dict.get("name")
    if publishing.reserved_name(name):
        current = model.Package.get(data_dict.get("id") or name)
        if current is None or current.name != name:
            _refuse_reserved_name(context, name)
    return up_func(context, data_dict)


def _platform_only_on_statistics(context: Context, resource_id) -> None:
    from .auth import NOT_THE_FORM, _statistics_rows
    if _statistics_rows(resource_id) and not publishing.is_platform(context):
        raise tk.NotAuthorized(NOT_THE_FORM)


@tk.chained_action
def resource_delete(up_func, context: Context, data_dict: DataDict) -> DataDict:
    """CKAN's resource_delete; on the statistics table's resource (the DataStore
    would drop every department's rows with it) only the platform's own code."""
    _platform_only_on_statistics(context, data_dict.get("id"))
    return up_func(context, data_dict)


@tk.chained_action
def resource_update(up_func, context: Context, data_dict: DataDict) -> DataDict:
    """CKAN's resource_update (and so resource_patch); on the statistics table's
    resource only the platform's own code: a saved form drops the marker that
    finds the table, and the next load would start an empty one."""
    _platform_only_on_statistics(context, data_dict.get("id"))
    return up_func(context, data_dict)


def _statistics_resource_ids(package_id) -> set[str]:
    """The statistics table's resources in a dataset (none, or the one)."""
    from ckan import model
    from .. import statistics_store
    pkg = model.Package.get(package_id) if isinstance(package_id, str) else None
    if pkg is None:
        return set()
    return {r.id for r in pkg.resources
            if (r.extras or {}).get(statistics_store.RESOURCE_KEY) == "rows"}


def _keeps_the_statistics_resource(context: Context, data_dict: DataDict) -> None:
    from .. import statistics_store
    from .auth import NOT_THE_FORM
    if "resources" not in data_dict or publishing.is_platform(context):
        return
    kept = {r.get("id") for r in data_dict.get("resources") or []
            if isinstance(r, dict) and r.get(statistics_store.RESOURCE_KEY) == "rows"}
    if _statistics_resource_ids(data_dict.get("id") or data_dict.get("name")) - kept:
        raise tk.NotAuthorized(NOT_THE_FORM)


@tk.chained_action
def package_delete(up_func, context: Context, data_dict: DataDict) -> DataDict:
    """CKAN's package_delete; the statistics dataset only by the platform's own code,
    and a basic item only once no live service implements it (it is withdrawn
    instead: status withdrawn; ValidationError on ``basic_code`` with the count)."""
    from .auth import NOT_THE_FORM
    from .. import network
    if _statistics_resource_ids(data_dict.get("id")) and not publishing.is_platform(context):
        raise tk.NotAuthorized(NOT_THE_FORM)
    network.refuse_delete_of_implemented_item(data_dict.get("id"))
    return up_func(context, data_dict)


# ---------------------------------------------------------------- service standards

def _standard_records(data_dict: DataDict) -> list:
    records = data_dict.get("standards")
    if records is None:   # one standard given as the call's own fields
        records = [{k: data_dict[k] for k in ("kpi", "department", "service", "target",
                                              "period_from", "wording") if k in data_dict}]
    if isinstance(records, str):
        import json
        try:
            records = json.loads(records)
        except ValueError:
            raise tk.ValidationError({"standards": ["must be a JSON list of standards"]})
    if not isinstance(records, list) or not records:
        raise tk.ValidationError({"standards": ["must be a non-empty list of standards"]})
    return records


def govservice_standards_set(context: Context, data_dict: DataDict) -> DataDict:
    """Set service standards: a KPI's target for the platform, a department or a service.

    The data office (sysadmins) sets standards at any level; a department's
    editors and admins set their department's and its services' (as their
    statistics feed does). The most specific standard applies to a figure:
    the service's, else its department's, else the platform's. A standard
    already set for the same KPI and level is replaced. All or nothing: when
    any standard is wrong, none is stored and every error is listed.

    Every KPI shown afterwards (``govservice_kpis``, ``govservice_league_table``,
    the service page, the dashboards) carries ``standard``: its ``target``,
    ``met``, ``status`` (``green``: met; ``amber``: missed by at most 5
    percentage points for a rate, 0.25 for the 1-to-5 score; ``red``: missed
    by more; null without data) and, where monthly figures are at hand,
    ``missed_in_a_row`` and ``flagged`` (missed 3 months or more in a row).

    :param standards: the standards, each ``{"kpi", "department", "service",
        "target", "period_from", "wording"}``: ``kpi`` a KPI with a better
        direction (not ``volume``); ``department`` (a department's name) and
        ``service`` (its service code) left out for a wider standard;
        ``target`` within the KPI's range (a rate between 0 and 1, or written
        ``"95%"``; a score between 1 and 5); ``period_from`` the first month it
        applies to (``YYYY-MM``, default: every month); ``wording``
        ``{"zh_Hans_CN", "en"}`` (default: made from the KPI and the target).
        Or the fields of one standard as the call's own parameters.
    :type standards: list of dicts
    :param from_feed: the standards came in the department's own statistics
        feed (the harvester says so): recorded as the department's, not the
        data office's, though the harvester calls as a sysadmin
    :type from_feed: bool, optional

    :returns: ``{"standards": [{"kpi", "department", "service", "scope",
        "target", "period_from", "wording"}]}``, as stored
    :rtype: dict
    :raises ValidationError: ``{"standards": [{"record", "field", "reason"}]}``:
        an unknown KPI, department or service, a target outside its KPI's range
        or not a number, a malformed ``period_from``, the same standard twice
    :raises NotAuthorized: a platform standard set by anyone but a sysadmin, or
        a department's by someone who may not publish for it
    """
    from ckan import authz
    from .. import standards

    records = _standard_records(data_dict)
    departments = sorted({r["department"] for r in records if isinstance(r, dict)
                          and isinstance(r.get("department"), str) and r["department"]})
    tk.check_access("govservice_standards_set", context, {
        "departments": departments,
        "platform": any(isinstance(r, dict) and not r.get("department") for r in records)})
    clean = standards.check(records)
    by_data_office = authz.is_sysadmin(context.get("user")) or context.get("ignore_auth")
    source = "data_office" if by_data_office and not tk.asbool(data_dict.get("from_feed")) else "department"
    standards.put(clean, source, context.get("user"))
    return {"standards": clean}


def govservice_standard_delete(context: Context, data_dict: DataDict) -> DataDict:
    """Remove a service standard; the wider one (the department's, then the platform's) applies again.

    Who may set a standard may remove it.

    :param kpi: the KPI
    :type kpi: string
    :param department: the department's name (left out: the platform's standard)
    :type department: string, optional
    :param service: the service code (with ``department``)
    :type service: string, optional

    :returns: ``{"deleted": true}``
    :rtype: dict
    :raises ObjectNotFound: no standard for that KPI and level
    :raises NotAuthorized: as for ``govservice_standards_set``
    """
    from .. import standards, statistics_store as store
    from ..statistics_store import performance

    department = data_dict.get("department") or None
    tk.check_access("govservice_standards_set", context, {
        "departments": [department] if department else [], "platform": not department})
    kpi, service = data_dict.get("kpi"), data_dict.get("service") or None
    with store.engine().begin() as conn:
        if not performance.delete_standard(conn, str(kpi), department, service):
            raise tk.ObjectNotFound(f"no standard {'/'.join(str(p) for p in (department or 'platform', service, kpi) if p)}")
    standards.enqueue_publish()
    return {"deleted": True}


@tk.side_effect_free
def govservice_standards(context: Context, data_dict: DataDict) -> DataDict:
    """The service standards in force, and how figures are judged against them.

    Public and read-only.

    :param department: a department's name: only the platform's standards and
        that department's (its services' included)
    :type department: string, optional

    :returns: ``{"standards": [{"kpi", "department", "service", "scope",
        "target", "period_from", "wording": {"zh_Hans_CN", "en"}, "source"
        (``data_office`` or ``department``), "set_by", "updated_at"}],
        "thresholds": {"amber_margin": {unit: margin}, "missed_in_a_row": 3},
        "precedence": ["service", "department", "platform"]}``
    :rtype: dict
    """
    from .. import standards
    from ..core import standards as rules

    tk.check_access("govservice_standards", context, data_dict)
    _check_types({k: v for k, v in data_dict.items() if k == "department"})
    department = data_dict.get("department") or None
    return {"standards": standards.all_standards(department),
            "thresholds": {"amber_margin": dict(rules.AMBER_MARGIN),
                           "missed_in_a_row": rules.MISSED_IN_A_ROW},
            "precedence": list(rules.SCOPES)}


@tk.side_effect_free
def govservice_standard_results(context: Context, data_dict: DataDict) -> DataDict:
    """Each service's result against its standards, month by month.

    Public and read-only: the rows of the open dataset ``service-standards``
    (one per service × standard × month), filtered.

    :param department: a department's name
    :type department: string, optional
    :param service: a service code
    :type service: string, optional
    :param kpi: a KPI
    :type kpi: string, optional
    :param period_to: the last month, ``YYYY-MM`` (default: the latest with data)
    :type period_to: string, optional
    :param months: how many months up to ``period_to`` (default 12, at most 36)
    :type months: int, optional

    :returns: ``{"period_from", "period_to", "results": [{"department",
        "service_code", "service_title", "kpi", "standard_scope", "target",
        "standard_zh", "standard_en", "period", "value", "numerator",
        "denominator", "met", "status", "missed_in_a_row"}]}``
    :rtype: dict
    :raises ValidationError: a malformed period, an unknown KPI, months not 1 to 36
    """
    from .. import standards, statistics_store as store
    from ..core import kpis as stats

    tk.check_access("govservice_standard_results", context, data_dict)
    _check_types({k: v for k, v in data_dict.items() if k in ("department", "service", "period_to", "kpi")})
    period_to = _period_param(data_dict, "period_to")
    kpi = data_dict.get("kpi") or None
    if kpi is not None and kpi not in stats.kpi_names():
        raise tk.ValidationError({"kpi": [f"{str(kpi)[:50]!r} is not a KPI"]})
    months = _whole_number(data_dict, "months", 12, 1, standards.PUBLISHED_MONTHS)
    if not period_to:
        with store.engine().connect() as conn:
            period_to = store.latest_period(conn) or stats.current_period()
    department, service = data_dict.get("department") or None, data_dict.get("service") or None
    rows = [r for r in standards.result_rows(standards.all_standards(department), period_to, months)
            if (department is None or r["department"] == department)
            and (service is None or r["service_code"] == service) and (kpi is None or r["kpi"] == kpi)]
    return {"period_from": stats.shift_period(period_to, -(months - 1)), "period_to": period_to,
            "results": rows}


# ---------------------------------------------------------------- RDF

@tk.chained_action
@tk.side_effect_free
def dcat_catalog_show(up_func, context: Context, data_dict: DataDict) -> str:
    """ckanext-dcat's catalogue in RDF (what ``/catalog.<format>`` serves), with each
    service listed as the catalogue's ``dcat:resource`` and each other dataset as
    its ``dcat:dataset``: one document valid against DCAT-AP 3.0.0 and CPSV-AP 3.2.0
    (``rdf.catalog_show``). Parameters and answer as ckanext-dcat's."""
    from .. import rdf
    return rdf.catalog_show(up_func, context, data_dict)


# ---------------------------------------------------------------- feed health

@tk.side_effect_free
def govservice_feed_health(context: Context, data_dict: DataDict) -> DataDict:
    """Each department's feed health and statistics coverage, ranked: the data office's view.

    Sysadmins see every department; a department's editors and admins see
    their own (give ``department``). A source is ``stale`` when it has had no
    successful harvest for ``ckanext.govservice.feed_health.stale_days`` days
    (7), ``failing`` when its latest harvest failed (with ``last_error``).
    Coverage is the share of a department's active services that reported
    statistics for the last complete month; below
    ``ckanext.govservice.feed_health.coverage_threshold`` (0.8) it is flagged.
    Departments are ranked by coverage, then by how few sources are stale
    or failing.

    :param department: a department's name: only that one
    :type department: string, optional

    :returns: ``{"month", "idle_months", "stale_days", "coverage_threshold",
        "withdrawn_days", "harvest_database" (false when it cannot be read),
        "checked_at", "departments": [{"department", "title", "rank",
        "sources": [{"name", "kind", "enabled", "state" (ok, stale or
        failing), "last_success", "last_finished", "last_error", "rejected",
        "records_read"}], "stale", "failing", "rejected_share",
        "active_services", "services_reporting", "coverage",
        "coverage_below_threshold", "idle_services": [{"service_code",
        "name", "title"}] (no application in the last 12 complete months),
        "withdrawn_recently": [{"name", "title", "service_code",
        "withdrawn_at"}], "data_quality": {"services", "score" (share of
        the guide checks passed: documents, channels with addresses, fees
        with their basis, legal basis), "checks": {check: share},
        "failing": [{"name", "service_code", "checks"}]}, "broken_links":
        [{"service_code", "url", "field", "reason", "checked_at"}]}]}``
    :rtype: dict
    :raises NotAuthorized: not a sysadmin, nor a member of the department asked for
    :raises ValidationError: an unknown department
    """
    from .. import feed_health

    _check_types({k: v for k, v in data_dict.items() if k == "department"})
    department = data_dict.get("department") or None
    if department:
        try:
            department = _department(context, department)["name"]
        except tk.ObjectNotFound:
            raise tk.ValidationError({"department": [f"no department called {str(department)[:100]!r}"]})
    tk.check_access("govservice_feed_health", context, {"department": department})
    return feed_health.report(department)


# ---- service search synonyms (issue 15) --------------------------------------
# Entries added at runtime live in Solr's managed synonym map (search.py) and, with
# who owns them, in CKAN's system_info under SYNONYMS_KEY; the shipped dictionary
# (stack/solr/conf/govservice_synonyms.txt) is not editable here.

SYNONYMS_KEY = "govservice.search.synonyms"


def _runtime_synonyms() -> list[dict]:
    import json
    from ckan.model.system_info import get_system_info
    return json.loads(get_system_info(SYNONYMS_KEY) or "[]")


def _save_runtime_synonyms(entries: list[dict]) -> None:
    import json
    from ckan.model.system_info import set_system_info
    set_system_info(SYNONYMS_KEY, json.dumps(entries, ensure_ascii=False))


@tk.side_effect_free
def govservice_synonym_list(context: Context, data_dict: DataDict) -> DataDict:
    """The synonyms service search applies: the entries added at runtime, each
    with its owner, and how many terms the shipped dictionary holds.

    Anyone may read them.

    :param owner_org: only the entries of this department (name or id)
    :type owner_org: string, optional
    :returns: ``entries`` (each with term, synonyms, owner_org, created_by and
        created) and ``shipped_terms``, the number of terms the shipped
        dictionary holds
    :rtype: dictionary
    """
    from .. import search
    from ..core import synonyms as core_synonyms
    tk.check_access("govservice_synonym_list", context, data_dict)
    _text_only(data_dict, "owner_org")
    entries = _runtime_synonyms()
    if data_dict.get("owner_org"):
        org = _department(context, data_dict["owner_org"])["name"]
        entries = [e for e in entries if e.get("owner_org") == org]
    runtime_keys = {core_synonyms.token_form(e["term"]) for e in _runtime_synonyms()}
    shipped = [k for k in search.managed_synonyms(force=True) if k not in runtime_keys]
    return {"entries": entries, "shipped_terms": len(shipped)}


def govservice_synonym_create(context: Context, data_dict: DataDict) -> DataDict:
    """Add (or replace) a synonym entry: searching its term also finds each of
    its synonyms. Effective at once (Solr reloads its analysers; no restart).

    Sysadmins, and a department's admins for entries the department owns.
    Refused with the field and reason: an empty term or synonym list, a
    synonym equal to the term, an entry that would loop (a synonym that
    already leads back to the term), a term of the shipped dictionary, an
    entry owned by another department.

    :param term: what citizens type, e.g. ``车本``
    :type term: string
    :param synonyms: the official names it should also find, e.g. ``["机动车登记证书"]``
    :type synonyms: list of strings
    :param owner_org: the department that owns the entry (required for a
        department admin; sysadmins may leave it out: the platform owns it)
    :type owner_org: string, optional
    :returns: the entry: term, synonyms, owner_org, created_by, created
    :rtype: dictionary
    """
    import datetime as _dt
    from .. import search
    from ..core import synonyms as core_synonyms
    _text_only(data_dict, "term", "owner_org")
    synonyms = data_dict.get("synonyms")
    if isinstance(synonyms, str):
        synonyms = [s for s in synonyms.replace("，", ",").split(",")]
    owner = data_dict.get("owner_org") or None
    if owner:
        owner = _department(context, owner)["name"]
    tk.check_access("govservice_synonym_create", context, dict(data_dict, owner_org=owner))
    current = search.managed_synonyms(force=True)
    entries = _runtime_synonyms()
    term = data_dict.get("term")
    try:
        key, finds = core_synonyms.check_entry(term, synonyms, current)
    except core_synonyms.SynonymError as e:
        raise tk.ValidationError({e.field: [e.reason]})
    existing = next((e for e in entries if core_synonyms.token_form(e["term"]) == key), None)
    if existing is None and key in current:
        raise tk.ValidationError({"term": [
            f"{term!r} is in the shipped dictionary (stack/solr/conf/govservice_synonyms.txt): change it there"]})
    if existing is not None and existing.get("owner_org") != owner:
        tk.check_access("govservice_synonym_delete", context, {"term": term})
    written = {core_synonyms.token_form(x): x.strip() for x in reversed(synonyms)}   # first spelling wins
    entry = {"term": term.strip(), "synonyms": [written[f] for f in finds],
             "owner_org": owner, "created_by": context.get("user"),
             "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    search.put_synonym(key, finds)
    _save_runtime_synonyms([e for e in entries if e is not existing] + [entry])
    return entry


def govservice_synonym_delete(context: Context, data_dict: DataDict) -> DataDict:
    """Remove a synonym entry added at runtime. Effective at once.

    Sysadmins, and the admins of the department that owns the entry.

    :param term: the entry's term
    :type term: string
    :returns: ``deleted``: the entry's term
    :rtype: dictionary
    """
    from .. import search
    from ..core import synonyms as core_synonyms
    _text_only(data_dict, "term")
    term = data_dict.get("term") or ""
    key = core_synonyms.token_form(term)
    entries = _runtime_synonyms()
    existing = next((e for e in entries if core_synonyms.token_form(e["term"]) == key), None)
    if not key or existing is None:
        raise tk.ObjectNotFound(f"no synonym entry {term!r} was added at runtime")
    tk.check_access("govservice_synonym_delete", context, {"term": term, "owner_org": existing.get("owner_org")})
    search.delete_synonym(key)
    _save_runtime_synonyms([e for e in entries if e is not existing])
    return {"deleted": existing["term"]}


@tk.side_effect_free
def govservice_suggest(context: Context, data_dict: DataDict) -> DataDict:
    """Suggestions while typing in the service search box: service titles,
    output names and synonyms that hold what was typed, best first; and a
    respelling ("did you mean"): a Latin query from the words services are
    described with, a Chinese one from the titles that sound like it (身分证 ->
    身份证).

    Anyone may ask. The search page works without it (it is an enhancement
    of the form, which submits to ``/service/`` as before).

    :param q: what has been typed so far (up to 100 characters are read)
    :type q: string
    :param limit: how many suggestions, 1 to 20 (default 8)
    :type limit: integer, optional
    :returns: ``q``, ``suggestions`` (a list of strings) and ``did_you_mean``
        (a string, or null)
    :rtype: dictionary
    """
    from .. import search
    tk.check_access("govservice_suggest", context, data_dict)
    q = data_dict.get("q")
    if not isinstance(q, str):
        raise tk.ValidationError({"q": ["give the text typed so far, as a string"]})
    limit = _whole_number(data_dict, "limit", 8, 1, 20)
    return {"q": q, "suggestions": search.suggestions(q, limit), "did_you_mean": search.did_you_mean(q)}
