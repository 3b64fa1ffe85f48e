"""Publish the bulk catalogue files as resources, and rebuild them in the background.

Which services go in: public (not private), active (not deleted or draft)
services of type ``service``, whatever their status; a suspended or withdrawn
service stays in the files with its ``status`` column saying so, because a
developer needs to see that a service was withdrawn, not have it silently
vanish. Private services are never published.

Where the files go:

* one dataset per department, ``<org-name>-service-catalogue``, owned by it;
* one for the whole platform, ``service-catalogue``, owned by the
  ``govservice-platform`` organisation (created when missing).

Each holds three uploaded resources, CSV, JSON and XLSX, stored by
``publishing.store_files`` (a rebuild replaces the files rather than adding
resources). Catalogue datasets are of type ``dataset``, so updating them does
not schedule another rebuild.

Background rebuilds: saving or deleting a service schedules, after the
database commit, one job per department (deterministic rq job ids, see
``job_ids`` and ``publishing.enqueue_once``) that rebuilds that department's files and then the platform's.
A job already waiting in the queue for the same department absorbs the new
request; a job already running does not, since it may have read the services
before the change.
"""
from __future__ import annotations

import concurrent.futures
import logging
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator


import ckan.model as model
import ckan.plugins.toolkit as tk

from . import publishing
from .core import tabular as catalogue
# _platform_org: the name bench/statistics_bench.py calls it by
from .publishing import CATALOGUE_EXTRA, FILE_KEY, FORMATS, platform_org as _platform_org, site_context

log = logging.getLogger(__name__)

PLATFORM_DATASET = "service-catalogue"
PAGE_SIZE = 1000
ALL = "all"


# ---------------------------------------------------------------- reading services

def iter_public_services(context: dict[str, Any], owner_org: str | None = None,
                         also: str = "") -> Iterator[dict[str, Any]]:
    """Every public, non-deleted service (of one department, by id; matching the index
    filters ``also`` too when given), by name, a Solr page at a time: each page
    starts after the last name of the one before (not at an offset), so the
    100th page costs what the first does. The next page is asked for while
    this one is used (``_read_ahead``): Solr's time overlaps the caller's."""
    for page in _read_ahead(_pages(context, owner_org, also)):
        yield from page


# The package dict the index keeps of each dataset (what package_search returns),
# asked for through Solr's [json] transformer: it comes inside Solr's answer as
# JSON rather than as a string of JSON, so it is decoded once, not twice
# (package_search's json.loads of each was a quarter of the files' time).
SHOWN = "validated_data_dict"


def _pages(context: dict[str, Any], owner_org: str | None, also: str) -> Iterator[list[dict[str, Any]]]:
    fq = f"+dataset_type:service {also}".strip()
    if owner_org:
        fq += f' +owner_org:"{owner_org}"'
    after = None
    while True:
        page = tk.get_action("package_search")(
            dict(context), {"fq": fq + (f' +name:{{"{after}" TO *]' if after else ""),
                            "rows": PAGE_SIZE, "sort": "name asc",
                            "include_private": False, "include_drafts": False,
                            "fl": ["name", f"{SHOWN}:[json]"]})
        yield [doc[SHOWN] for doc in page["results"] if SHOWN in doc]
        if len(page["results"]) < PAGE_SIZE:
            return
        after = page["results"][-1]["name"]


def _read_ahead(pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
    """``pages``, each read in a reader thread while the caller uses the one
    before: at most one page waits, so memory stays two pages whatever the
    catalogue's size. A failed read fails the caller's next page."""
    def read_next() -> list[dict[str, Any]] | None:
        try:
            return next(pages, None)
        finally:
            model.Session.remove()     # the thread's own session, if the search opened one

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="govservice-catalogue-read") as reader:
        coming = reader.submit(read_next)
        while (page := coming.result()) is not None:
            coming = reader.submit(read_next)
            yield page


def public_services(context: dict[str, Any], owner_org: str | None = None,
                    also: str = "") -> list[dict[str, Any]]:
    """Every public, non-deleted service (of one department, by id; matching the index
    filters ``also`` too when given), sorted by name."""
    return list(iter_public_services(context, owner_org, also))


def department_ids_with_catalogues(context: dict[str, Any]) -> list[str]:
    """Departments that have public services or already publish a catalogue."""
    found = tk.get_action("package_search")(dict(context), {
        "fq": "dataset_type:service", "rows": 0, "facet": "true",
        "facet.field": ["owner_org"], "facet.limit": -1})
    ids = {item["name"] for item in found["search_facets"].get("owner_org", {}).get("items", [])}
    existing = tk.get_action("package_search")(dict(context), {
        "fq": f"extras_{CATALOGUE_EXTRA}:department", "rows": 1000, "fl": "owner_org"})
    ids.update(r["owner_org"] for r in existing["results"] if r.get("owner_org"))
    return sorted(ids)


# ---------------------------------------------------------------- the catalogue datasets

def department_dataset_name(org_name: str) -> str:
    return f"{org_name}-service-catalogue"


def _publish(context, services: Iterable[dict[str, Any]], dataset, scope, description) -> dict[str, Any]:
    """Write the three files a service at a time (``services`` may be a
    generator: memory does not grow with the catalogue), then store them."""
    with tempfile.TemporaryDirectory(prefix="govservice-catalogue-") as tmp:
        files = {kind: Path(tmp) / f"catalogue.{kind}" for kind in FORMATS}
        count = catalogue.write_files(services, files, scope=scope)
        resources = publishing.store_files(context, dataset, files, description)
    return {"dataset": dataset["name"], "count": count, "resources": resources}


def build_department(department: str, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """Rebuild one department's files (department: name or id).

    :returns: ``{"dataset": name, "count": services, "resources": {kind: id}}``
    """
    context = context or site_context()
    org = tk.get_action("organization_show")(dict(context), {"id": department, "include_datasets": False})
    services = public_services(context, org["id"])
    _sync_kpi_catalogue(org, services)
    title_en = org.get("title_en") or org["name"]
    dataset = publishing.ensure_dataset(
        context, department_dataset_name(org["name"]), org,
        title=f"{org['title']} 政务服务事项目录 / {title_en} service catalogue",
        notes=(f"{org['title']}的全部公开政务服务事项，每个事项一行。\n\n"
               f"Every public service of {title_en}, one row per service, as CSV, JSON and XLSX."),
        scope="department")
    return _publish(context, services, dataset, org["name"],
                    f"{org['title']} 政务服务事项目录 / {title_en} service catalogue")


def _sync_kpi_catalogue(org: dict[str, Any], services: list[dict[str, Any]]) -> None:
    """Keep the KPI engine's copy of the department's services in step (themes, visits…)."""
    from . import statistics_store
    try:
        with statistics_store.engine().begin() as conn:
            statistics_store.sync_services(conn, org["name"], services)
    except Exception:   # the DataStore down: the files still get rebuilt
        log.exception("could not sync %s's services into the KPI engine", org["name"])


def build_platform(context: dict[str, Any] | None = None) -> dict[str, Any]:
    """Rebuild the whole platform's files. Returns as ``build_department``."""
    context = context or site_context()
    org = _platform_org(context)
    dataset = publishing.ensure_dataset(
        context, PLATFORM_DATASET, org, title="政务服务事项目录 / Service catalogue",
        notes=("本平台全部部门的公开政务服务事项，每个事项一行。\n\n"
               "Every public service of every department on the platform, one row per service."),
        scope="platform")
    return _publish(context, iter_public_services(context), dataset, None, "政务服务事项目录 / Service catalogue")


def build(department: str | None = None) -> list[dict[str, Any]]:
    """Rebuild one department's files and the platform's; or, with no department, all of them."""
    context = site_context()
    departments = [department] if department else department_ids_with_catalogues(context)
    results = [build_department(d, context) for d in departments]
    results.append(build_platform(context))
    return results


# ---------------------------------------------------------------- background jobs

def _job_base(department: str | None) -> str:
    return f"govservice-catalogue-{tk.config.get('ckan.site_id')}-{department or ALL}"


def job_ids(department: str | None) -> list[str]:
    """The two deterministic rq job ids a department's rebuilds take turns with
    (see ``publishing.job_ids``)."""
    return publishing.job_ids(_job_base(department))


def rebuild_job(department: str | None) -> list[dict[str, Any]]:
    """The background job: one department's files then the platform's (or everything).

    The platform rebuild is skipped when another department's rebuild is
    still waiting in the queue: that job rebuilds the platform after it, so
    a harvest touching twenty departments rebuilds the platform files once
    or twice, not twenty times.
    """
    context = site_context()
    if department is None:
        return build(None)
    try:
        results = [build_department(department, context)]
    except tk.ObjectNotFound:
        log.info("catalogue rebuild: department %s no longer exists", department)
        results = []
    if not _another_rebuild_waiting(department):
        results.append(build_platform(context))
    return results


def _another_rebuild_waiting(department: str) -> bool:
    from ckan.lib import jobs
    prefix = f"govservice-catalogue-{tk.config.get('ckan.site_id')}-"
    mine = set(job_ids(department))
    for job_id in jobs.get_queue().get_job_ids():
        if job_id.startswith(prefix) and job_id not in mine:
            return True
    return False


def enqueue_rebuild(department: str | None) -> dict[str, Any]:
    """Queue a rebuild for a department (id or name) or, with None, of everything.

    :returns: ``{"job_id": id, "queued": True}`` for a new job, or the waiting
        job's id and ``"queued": False`` when one was already waiting.
    """
    return publishing.enqueue_once(rebuild_job, [department], _job_base(department),
                                   title=f"rebuild the service catalogue files ({department or ALL})")


def rebuild_after_commit(department: str) -> None:
    """Schedule a department's rebuild for when the current transaction commits
    (publishing.after_commit). Failing to reach Redis is logged, never turned
    into a failed save."""
    if not tk.config.get("ckanext.govservice.catalogue.auto_rebuild"):
        return
    publishing.after_commit("govservice_catalogue_pending", department, _enqueue_pending)


def _enqueue_pending(departments: list[str]) -> None:
    for department in departments:
        try:
            enqueue_rebuild(department)
        except Exception:  # Redis down: the service is saved; the files catch up next time
            log.exception("could not queue the catalogue rebuild for department %s", department)
