from __future__ import annotations

import datetime as dt

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from .. import health, schema


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
    fq = [f'dataset_type:service', f'service_code_ss:"{_solr_escape(code)}"']
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
