"""The bulk write path: a harvest worker that loads CKAN in its own process
(GOVHARVEST_CKAN_INI) and writes a department's records through CKAN's own
actions (ckanapi.LocalCKAN), in batches, as the harvest's own user: the owner
of its CKAN API token, whom CKAN names in the activity record over HTTP too
(CKAN's site user only when no token is configured).

Where a create's time went over HTTP (bench/README.md, "Province scale"): the
Solr commit CKAN asks for after every dataset, then CKAN's HTTP layer, then the
database commit and the Solr request of each dataset, then CKAN making the
saved dataset's dict three times. A batch here keeps every step CKAN takes for
a dataset and only shares the costly ends:

* each record goes through ``package_create`` (or ``package_update``) as it
  would over HTTP: the same validation (scheming, our validators and rules),
  the same save, the same plugin hooks and the same activity record, in the
  same order, with CKAN's ``defer_commit`` and ``return_id_only`` (CKAN's own
  bulk options: no commit, no index, no re-read yet; for an update that
  changed something the extension names it in ``changed_entities``, as
  package_update does without them, so its "changed package" activity is
  recorded: ``bulk_load.written``);
* the extension's ``bulk_load.batch`` shows each dataset the batch wrote once,
  with CKAN's own ``package_show_default_and_custom_schemas``: its activity
  record gets the custom-schema dict (what ``package_show`` answers, without
  the Solr look-up that always misses for a dataset just written), and its
  search document is made from the same pair by CKAN's own indexer
  (``index_insert_package_dicts``), as ``package_create`` makes it; the
  performance summaries of the batch's services are read once for the batch;
* the batch's documents go to Solr in one request, without a commit: Solr's
  soft commit (``stack/solr/conf/solrconfig.xml``, every 2 s) makes them
  searchable, so a harvest is visible in search at most 2 s after it returns;
* what CKAN would look up again for every record is looked up once a batch: the
  harvest's user, signed in for the batch as CKAN signs in an HTTP request's
  user (``_signed_in``: CKAN's authorisation finds it there), and the batch's
  departments, which the records then name by id (``_department_ids``: CKAN's
  ``Group.get`` finds a name in two queries, an id in one). 23 SQL statements
  a service instead of 29; nothing else of a record's handling changes;
* one database commit for the batch. Only then are the records noted in the
  harvest database (pipeline.py): a job killed mid-batch has noted nothing of
  that batch, and its next run creates or (name already taken) updates them,
  so nothing is lost or doubled.

A record CKAN refuses makes CKAN roll the whole session back, the batch's good
records with it: they are written again without it (one bad record costs its
batch a second pass; it never sinks it), and the refusal is reported with its
line, field and reason as before.

The catalogue files and the KPI engine's copy of the services are rebuilt once
per department and load (``after_load``), not once per service: the batch's
context carries ``BULK_LOAD``, which tells the extension's hooks to leave the
rebuild to the end of the load.

Departments in parallel: one harvest worker per core (``govharvest worker``
with GOVHARVEST_CKAN_INI), each a process with its own CKAN, takes one
department's job at a time (harvesters/README.md).
"""
from __future__ import annotations

import contextlib
import logging
from typing import Any, Iterator

import ckanapi

from . import settings
from .load import CkanTarget, _already_there

log = logging.getLogger(__name__)

_local: dict[str, ckanapi.LocalCKAN] = {}


def local_ckan(ini: str) -> ckanapi.LocalCKAN:
    """CKAN loaded in this process from its config file (once per process), as
    the harvest's user (``harvest_ckan``); its Solr adds not committed one by one
    (ckan.search.solr_commit off in this process only: Solr's soft commit makes
    them visible)."""
    if ini not in _local:
        from ckan.cli import load_config
        from ckan.config.middleware import make_app
        app = make_app(load_config(ini))
        app._wsgi_app.test_request_context().push()
        import ckan.plugins.toolkit as tk
        tk.config["ckan.search.solr_commit"] = False
        _local[ini] = harvest_ckan()
    return _local[ini]


def harvest_ckan() -> ckanapi.LocalCKAN:
    """The CKAN loaded in this process, as the user the harvest writes as over
    HTTP: the owner of its API token (GOVHARVEST_CKAN_TOKEN or _FILE), checked
    by CKAN's own authorisation as over HTTP; CKAN's site user when no token is
    set. Raises settings.NotConfigured for a token this CKAN does not know."""
    token = settings.ckan_token()
    if not token:
        return ckanapi.LocalCKAN()
    from ckan import model
    from ckan.lib.api_token import get_user_from_token
    user = get_user_from_token(token, update_access_time=False)
    name = user.name if user is not None and user.state == "active" else None
    model.Session.remove()
    if name is None:
        raise settings.NotConfigured("the harvest's CKAN API token (GOVHARVEST_CKAN_TOKEN or "
                                     "GOVHARVEST_CKAN_TOKEN_FILE) is not a token of an active user of the "
                                     "CKAN that GOVHARVEST_CKAN_INI configures: make one for the harvest's user")
    return ckanapi.LocalCKAN(username=name)


class InProcess:
    """CKAN in this process, loaded the first time it is used: a harvest that
    finds nothing new or changed (the common case) never pays CKAN's start-up."""

    def __init__(self, ini: str):
        self.ini = ini

    def loaded(self) -> ckanapi.LocalCKAN:
        return local_ckan(self.ini)

    @property
    def action(self):
        return self.loaded().action

    def call_action(self, *args, **kwargs):
        return self.loaded().call_action(*args, **kwargs)


def configured_ckan():
    """The CKAN the harvest writes into: in-process when GOVHARVEST_CKAN_INI names
    its config (loaded when first used), else over HTTP (GOVHARVEST_CKAN_URL and token)."""
    ini = settings.ckan_ini()
    return InProcess(ini) if ini else settings.ckan()


def target(ckan) -> CkanTarget:
    """The target a harvest writes into: batches in-process, one by one over HTTP."""
    if isinstance(ckan, (ckanapi.LocalCKAN, InProcess)):
        return BatchTarget(ckan)
    return CkanTarget(ckan)


def _department_ids(references: set[Any]) -> dict[str, str]:
    """{department name: its id} for the batch's departments named by name, in one
    query: the record then names its department by id, which CKAN's validators
    (ours and ``owner_org_validator``) find in one look-up instead of two (CKAN's
    ``Group.get`` tries a reference as an id first, then as a name). The same
    group either way, so the same dataset is saved: a reference that is some
    group's id stays as it is, one that names no group too (its error is CKAN's)."""
    from ckan import model
    names = [r for r in references if isinstance(r, str) and r]
    if not names:
        return {}
    rows = model.Session.query(model.Group.id, model.Group.name).filter(
        model.Group.name.in_(names) | model.Group.id.in_(names)).all()
    ids = {row.id for row in rows}
    return {row.name: row.id for row in rows if row.name not in ids}


def _by_department_id(dataset: dict[str, Any], departments: dict[str, str]) -> dict[str, Any]:
    department = dataset.get("owner_org")
    if isinstance(department, str) and department in departments:
        return {**dataset, "owner_org": departments[department]}
    return dataset


class BatchTarget(CkanTarget):
    """CKAN in this process, written in batches (see the module's docstring)."""

    def __init__(self, ckan: ckanapi.LocalCKAN | InProcess):
        self._ckan = ckan
        self.user = None            # the harvest's user, signed in for the batch (_signed_in)
        self.departments: set[str] = set()
        self.wrote = False

    @property
    def ckan(self) -> ckanapi.LocalCKAN:
        if isinstance(self._ckan, InProcess):
            self._ckan = self._ckan.loaded()
        return self._ckan

    def upsert_many(self, items: list[tuple[dict[str, Any], str | None]]) -> list[dict | ckanapi.ValidationError]:
        """Write (dataset, known name or None) pairs; returns, in the same order, each
        saved dataset (as package_show gives it) or the ValidationError refusing it."""
        self.ckan       # CKAN loaded before anything of it is imported
        from ckan import model
        items = list(items)
        results: list[Any] = [None] * len(items)
        try:
            while not self._write_batch(items, results):
                pass      # a record was refused: the others again, without it
        except BaseException:   # nothing of an unfinished batch stays in the session
            model.Session.rollback()
            raise
        return results

    def _write_batch(self, items: list[tuple[dict[str, Any], str | None]], results: list[Any]) -> bool:
        """One pass over the batch's records without a result yet: True when they are
        all written, indexed and committed; False when CKAN refused one (and so
        rolled the session back)."""
        from ckan import model
        from ckan.lib.search.common import make_connection
        from ckanext.govservice import bulk_load
        services = [(d["owner_org"], d["service_code"]) for (d, _name), result in zip(items, results)
                    if result is None and d.get("type", "service") == "service"
                    and d.get("owner_org") and d.get("service_code")]
        written: list[tuple[int, str]] = []
        departments = _department_ids({d.get("owner_org") for (d, _name), result in zip(items, results)
                                       if result is None})
        with self._signed_in(), bulk_load.batch(services) as batch:
            for i, (dataset, known_name) in enumerate(items):
                if results[i] is not None:
                    continue
                try:
                    written.append((i, self._write(_by_department_id(dataset, departments), known_name)))
                except ckanapi.ValidationError as e:
                    name = self.existing_name(dataset) if known_name is None and \
                        _already_there(e.error_dict, dataset) else None
                    if name is None:
                        results[i] = e
                    else:   # loaded by a run killed before it noted it: an update
                        items[i] = (dataset, name)
                    return False
            documents, shown = bulk_load.index_documents(batch)
            for _i, package_id in written:      # an update that changed nothing: not re-indexed
                if package_id not in shown:
                    shown[package_id] = batch.show(package_id)[1]
        if documents:
            make_connection().add(docs=documents, commit=False)
        model.repo.commit()
        self.wrote = True
        for i, package_id in written:
            results[i] = saved = shown[package_id]
            if saved.get("type", "service") == "service" and saved.get("owner_org"):
                self.departments.add(saved["owner_org"])
        return True

    @contextlib.contextmanager
    def _signed_in(self) -> Iterator[None]:
        """Within the block (a batch), the harvest's user, looked up once, is signed in
        to this process's request context, as CKAN looks up an HTTP request's user once
        and signs it in (``current_user``, and ``auth_user_obj`` in the action's
        context): CKAN's authorisation finds it there instead of looking it up again for
        every check of every record (four look-ups a service). Whoever was signed in
        before is again afterwards, as at the end of a request."""
        from ckan import model
        from ckan.common import current_user, login_user, logout_user
        from flask import has_request_context
        user = model.User.get(self.ckan.username)
        # an inactive user is neither signed in nor given: CKAN looks it up as before
        self.user = user if user is not None and user.is_active else None
        if self.user is None or not has_request_context():   # CKAN loaded by a test: the context only
            yield
            return
        previous = current_user._get_current_object() if current_user.is_authenticated else None
        login_user(self.user)
        try:
            yield
        finally:
            logout_user()
            if previous is not None:
                login_user(previous)

    def _write(self, dataset: dict[str, Any], known_name: str | None) -> str:
        """The dataset created (or updated), not committed, not indexed; its id."""
        from ckanext.govservice.bulk_load import BULK_LOAD
        context = {"user": self.ckan.username, "auth_user_obj": self.user,
                   "defer_commit": True, "return_id_only": True, BULK_LOAD: True}
        if known_name is None:
            return self.ckan.call_action("package_create", dataset, context=context)
        return self.ckan.call_action("package_update", {**dataset, "id": known_name}, context=context)

    def after_load(self) -> None:
        """The end of a load: what it wrote searchable now (one soft commit, rather
        than within Solr's 2 s), and each department's catalogue files and KPI
        copy rebuilt once, queued now. Nothing when nothing was written."""
        if not self.wrote:
            return
        self.wrote = False
        from ckan.lib.search.common import make_connection
        try:
            make_connection().commit(softCommit=True)
        except Exception:   # Solr's own soft commit follows within 2 s
            log.exception("could not ask Solr to make the load searchable")
        for department in sorted(self.departments):
            try:
                self.ckan.action.govservice_catalogue_build(department=department)
            except Exception:   # Redis down: the services are saved; the files catch up next time
                log.exception("could not queue the catalogue rebuild of department %s", department)
        self.departments.clear()
