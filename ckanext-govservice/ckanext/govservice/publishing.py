"""Generated files published as resources of open datasets, and the jobs that rebuild them.

Shared by the bulk catalogue files (``catalogue_publish``) and the statistics
downloads (``statistics_publish``):

* ``site_context``: the site user's context, which both publish as;
* ``platform_org``: the ``govservice-platform`` organisation that owns the
  platform-wide datasets (created when missing);
* ``ensure_dataset``: a dataset of type ``dataset`` (so updating it schedules
  no catalogue rebuild) found by name or created, marked with the extra
  ``govservice_catalogue`` saying what it holds; one found by name is written
  into only if the platform made it in that organisation (``check_ours``):
  the names are reserved (``reserved_name``), but a dataset may predate that;
* ``store_files``: each generated file uploaded over the resource of its kind
  (found again by the resource field ``govservice_catalogue_file``), so a
  rebuild replaces files rather than adding resources;
* ``enqueue_once``: a background job under one of two deterministic rq job
  ids, unless one is already waiting in the queue.
"""
from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

from werkzeug.datastructures import FileStorage

import ckan.plugins.toolkit as tk

# ---------------------------------------------------------------- after the save commits

# key -> (on commit, on rollback): one pair of plain listeners per kind of work,
# registered on a session once and kept for its life (a `once` listener that has
# fired stays registered as a no-op and cannot be registered again).
_LISTENERS: dict[str, tuple[Callable[..., None], Callable[..., None]]] = {}


def after_commit(key: str, item: Any, run: Callable[[list[Any]], None]) -> None:
    """Do ``run(items)`` once the current transaction commits, with every item
    remembered under ``key`` in it (sorted, each once); a rollback forgets them.

    CKAN's IPackageController hooks run before CKAN commits: background work
    queued at once could read the data without the change, and work for a save
    that is rolled back must not happen at all."""
    from sqlalchemy import event
    from ckan import model
    session = model.Session()
    session.info.setdefault(key, set()).add(item)
    if key not in _LISTENERS:
        def committed(s, key=key, run=run) -> None:
            pending = s.info.pop(key, set())
            if pending:
                run(sorted(pending))

        def rolled_back(s, key=key) -> None:
            s.info.pop(key, None)
        _LISTENERS[key] = (committed, rolled_back)
    committed, rolled_back = _LISTENERS[key]
    if not event.contains(session, "after_commit", committed):
        event.listen(session, "after_commit", committed)
        event.listen(session, "after_rollback", rolled_back)


PLATFORM_ORG = "govservice-platform"
FILE_KEY = "govservice_catalogue_file"
CATALOGUE_EXTRA = "govservice_catalogue"

FORMATS: dict[str, dict[str, str]] = {
    "csv": {"format": "CSV", "mimetype": "text/csv"},
    "json": {"format": "JSON", "mimetype": "application/json"},
    "xlsx": {"format": "XLSX",
             "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
}
WAITING = ("queued", "deferred", "scheduled")


def site_user() -> dict[str, Any]:
    """The site user (get_site_user's dict), the only one the platform publishes as."""
    return tk.get_action("get_site_user")({"ignore_auth": True}, {})


def site_context() -> dict[str, Any]:
    return {"user": site_user()["name"], "ignore_auth": True}


def is_platform(context: dict[str, Any]) -> bool:
    """Whether a call is the platform's own code, acting as the site user.
    ``ignore_auth`` alone is not: any action may set it for any user."""
    user = context.get("user")
    return bool(user) and user == site_user()["name"]


# ---------------------------------------------------------------- the platform's names

PLATFORM_NAMES = ("service-catalogue", "service-statistics", "service-standards")   # the platform-wide datasets
DEPARTMENT_SUFFIXES = ("-service-catalogue", "-service-statistics")   # <department>-…


def reserved_name(name: Any) -> bool:
    """Whether ``name`` is one the platform publishes under: found by that name, so
    a dataset someone else took first would be written into. Any department's
    name is reserved, a department not created yet included."""
    return isinstance(name, str) and (name in PLATFORM_NAMES or name.endswith(DEPARTMENT_SUFFIXES))


RESERVED_NAME = ("{name} is reserved for the files the platform publishes (the service "
                 "catalogue and statistics, the platform's and each department's); "
                 "choose another name")


class NotThePlatformsDataset(Exception):
    """A dataset under one of the platform's names that the platform did not make
    in the right organisation: nothing is written into it."""


def is_ours(dataset: dict[str, Any], org_name: str) -> bool:
    """Whether ``dataset`` (package_show's dict) is the platform's own: in the
    organisation ``org_name`` and created by the site user."""
    return ((dataset.get("organization") or {}).get("name") == org_name
            and dataset.get("creator_user_id") == site_user()["id"])


def squatted_datasets() -> list[dict[str, Any]]:
    """Every dataset under one of the platform's names (``reserved_name``) that is
    not the platform's own: a name taken before the names were reserved, which
    the publishing code now refuses to write into until a sysadmin renames or
    deletes it. Deleted and private datasets included (they still hold the
    name). Each as ``name``, ``id``, ``state``, ``organization`` and ``why``, by name."""
    from ckan import model
    names = model.Package.name
    found = (model.Session.query(model.Package)
             .filter(names.in_(PLATFORM_NAMES) | names.like("%-service-catalogue")
                     | names.like("%-service-statistics"))
             .order_by(names).all())
    platform_user = site_user()["id"]
    out = []
    for pkg in found:
        if not reserved_name(pkg.name):
            continue
        org = model.Group.get(pkg.owner_org) if pkg.owner_org else None
        org_name = org.name if org else None
        expected = PLATFORM_ORG if pkg.name in PLATFORM_NAMES else pkg.name.rsplit("-service-", 1)[0]
        why = [] if org_name == expected else [f"in {org_name or 'no organisation'}, not {expected}"]
        if pkg.creator_user_id != platform_user:
            why.append("not created by the platform")
        if why:
            out.append({"name": pkg.name, "id": pkg.id, "state": pkg.state, "organization": org_name,
                        "why": ", and ".join(why)})
    return out


def check_ours(dataset: dict[str, Any], org: dict[str, Any]) -> dict[str, Any]:
    """``dataset`` unless it is not the platform's own (``is_ours``) in ``org``.
    Raises ``NotThePlatformsDataset`` naming it otherwise."""
    if not is_ours(dataset, org["name"]):
        raise NotThePlatformsDataset(
            f"the dataset {dataset['name']} ({dataset['id']}) was not created by the platform in "
            f"{org['name']}: nothing is published into it. Rename or delete it (a sysadmin can), "
            f"then publish again")
    return dataset


# ---------------------------------------------------------------- the datasets

def platform_org(context: dict[str, Any]) -> dict[str, Any]:
    """The platform's own organisation (organization_show's dict), created when missing."""
    try:
        return tk.get_action("organization_show")(
            dict(context), {"id": PLATFORM_ORG, "include_datasets": False})
    except tk.ObjectNotFound:
        return tk.get_action("organization_create")(dict(context), {
            "name": PLATFORM_ORG, "title": "政务服务平台", "title_en": "GovService platform"})


def ensure_dataset(context: dict[str, Any], name: str, org: dict[str, Any],
                   title: str, notes: str, scope: str) -> dict[str, Any]:
    """The public dataset ``name`` (package_show's dict); created in ``org`` when missing,
    with ``title``, ``notes`` and ``scope`` (what it holds) as its ``govservice_catalogue`` extra.
    Raises ``NotThePlatformsDataset`` when one by that name is not the platform's in ``org``."""
    try:
        return check_ours(tk.get_action("package_show")(dict(context), {"id": name}), org)
    except tk.ObjectNotFound:
        return tk.get_action("package_create")(dict(context), {
            "type": "dataset", "name": name, "title": title, "notes": notes,
            "owner_org": org["id"], "private": False, "license_id": "cc-by",
            "extras": [{"key": CATALOGUE_EXTRA, "value": scope}]})


def store_files(context: dict[str, Any], dataset: dict[str, Any], files: dict[str, Path],
                description: str) -> dict[str, str]:
    """Upload each file ({kind: path}, kind a key of ``FORMATS``) over the resource
    of its kind, or create it; {kind: resource id}."""
    by_kind = {r.get(FILE_KEY): r for r in dataset.get("resources", []) if r.get(FILE_KEY)}
    out = {}
    with _upload_limit_at_least(max((Path(p).stat().st_size for p in files.values()), default=0) // 2**20 + 1):
        for kind, path in files.items():
            spec = FORMATS[kind]
            filename = f"{dataset['name']}.{kind}"
            with open(path, "rb") as stream:
                upload = FileStorage(stream=stream, filename=filename, content_type=spec["mimetype"])
                data = {"name": filename, "format": spec["format"], "mimetype": spec["mimetype"],
                        "description": f"{description} ({spec['format']})", FILE_KEY: kind,
                        "url": "", "upload": upload}
                existing = by_kind.get(kind)
                if existing:
                    res = tk.get_action("resource_patch")(dict(context), {"id": existing["id"], **data})
                else:
                    res = tk.get_action("resource_create")(dict(context), {"package_id": dataset["id"], **data})
            out[kind] = res["id"]
    return out


@contextlib.contextmanager
def _upload_limit_at_least(megabytes: int) -> Iterator[None]:
    """The platform's own files are not uploads: CKAN's limit on an uploaded
    file (``ckan.max_resource_size``, 100 MB on our stack) would refuse the
    platform's bulk CSV and JSON at province scale (251 and 322 MB at 100,380
    services), so it is raised to the largest file while they are stored, then
    put back. (Meanwhile another upload in the same process would get the
    raised limit too; the rebuilds run in a job worker, one job at a time.)"""
    old = tk.config.get("ckan.max_resource_size")
    if old is None or megabytes <= old:
        yield
        return
    tk.config["ckan.max_resource_size"] = megabytes
    try:
        yield
    finally:
        tk.config["ckan.max_resource_size"] = old


# ---------------------------------------------------------------- background jobs

def job_ids(base: str) -> list[str]:
    """The two deterministic rq job ids the jobs named ``base`` take turns with.

    Two, so a request arriving while one job runs can queue the next one
    under the other id without overwriting the running job's record.
    """
    return [base, base + "-next"]


def job_status(job_id: str) -> str | None:
    from ckan.lib import jobs
    try:
        return str(jobs.job_from_id(job_id).get_status(refresh=True).value)
    except KeyError:
        return None


def enqueue_once(function: Callable[..., Any], args: list[Any], base: str, title: str) -> dict[str, Any]:
    """Queue ``function(*args)`` under one of ``job_ids(base)``.

    A job already waiting in the queue under those ids absorbs the request (it
    has not read anything yet); a job already running does not, since it may
    have read what changed before the change.

    :returns: ``{"job_id": id, "queued": True}`` for a new job, or the waiting
        job's id and ``"queued": False``.
    """
    ids = job_ids(base)
    statuses = {job_id: job_status(job_id) for job_id in ids}
    for job_id, status in statuses.items():
        if status in WAITING:
            return {"job_id": job_id, "queued": False}
    free = next((j for j in ids if statuses[j] != "started"), f"{ids[0]}-{uuid.uuid4().hex[:8]}")
    job = tk.enqueue_job(function, args, title=title, rq_kwargs={"job_id": free})
    return {"job_id": job.id, "queued": True}
