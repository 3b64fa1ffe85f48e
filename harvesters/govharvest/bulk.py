"""The bulk write path: a harvest worker that loads CKAN in its own process
(GOVHARVEST_CKAN_INI) and writes a department's records through CKAN's own
actions (ckanapi.LocalCKAN), in batches.

Where a create's time went over HTTP (bench/README.md, "Province scale"): the
Solr commit CKAN asks for after every dataset, then CKAN's HTTP layer, then the
database commit and the Solr request of each dataset. A batch here keeps every
step CKAN takes for a dataset and only shares the costly ends:

* each record goes through ``package_create`` (or ``package_update``) as it
  would over HTTP: the same validation (scheming, our validators and rules),
  the same save, the same plugin hooks and the same activity record, in the
  same order, with CKAN's ``defer_commit`` and ``return_id_only`` context
  options (CKAN's own bulk options: no commit, no index, no re-read yet);
* then, for the batch, CKAN's own index documents are built exactly as
  package_create builds them (``package_show_default_and_custom_schemas`` and
  ``index_insert_package_dicts``) and sent to Solr in one request, without a
  commit: Solr's soft commit (``stack/solr/conf/solrconfig.xml``, every 2 s)
  makes them searchable, so a harvest is visible in search at most 2 s after
  it returns;
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
context carries ``govservice_bulk_load``, which tells the extension's hooks to
leave the rebuild to the end of the load.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Any, Iterator

import ckanapi

from . import settings
from .load import CkanTarget, _already_there

log = logging.getLogger(__name__)

# the context key the extension's IPackageController hooks read (plugin.py)
BULK_LOAD = "govservice_bulk_load"
DEFERRED = {"defer_commit": True, "return_id_only": True, BULK_LOAD: True}

_local: dict[str, ckanapi.LocalCKAN] = {}


def local_ckan(ini: str) -> ckanapi.LocalCKAN:
    """CKAN loaded in this process from its config file (once per process), as
    its site user; its Solr adds not committed one by one (ckan.search.solr_commit
    off in this process only: Solr's soft commit makes them visible)."""
    if ini not in _local:
        from ckan.cli import load_config
        from ckan.config.middleware import make_app
        app = make_app(load_config(ini))
        app._wsgi_app.test_request_context().push()
        import ckan.plugins.toolkit as tk
        tk.config["ckan.search.solr_commit"] = False
        _local[ini] = ckanapi.LocalCKAN()
    return _local[ini]


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


@contextlib.contextmanager
def _collected_solr_adds() -> Iterator[list[dict]]:
    """CKAN's index documents, as its indexer makes them, gathered instead of sent
    one request each; the caller sends them together."""
    from ckan.lib.search import index
    gathered: list[dict] = []

    class Collector:
        def add(self, docs: list[dict], commit: bool = False, **_kw) -> None:
            gathered.extend(docs)

    real = index.make_connection
    index.make_connection = lambda *a, **kw: Collector()
    try:
        yield gathered
    finally:
        index.make_connection = real


class BatchTarget(CkanTarget):
    """CKAN in this process, written in batches (see the module's docstring)."""

    def __init__(self, ckan: ckanapi.LocalCKAN | InProcess):
        self._ckan = ckan
        self._deferred: ckanapi.LocalCKAN | None = None
        self.departments: set[str] = set()
        self.wrote = False

    @property
    def ckan(self) -> ckanapi.LocalCKAN:
        if isinstance(self._ckan, InProcess):
            self._ckan = self._ckan.loaded()
        return self._ckan

    @property
    def deferred(self) -> ckanapi.LocalCKAN:
        """The same CKAN and user, with the batch's context options."""
        if self._deferred is None:
            self._deferred = ckanapi.LocalCKAN(username=self.ckan.username, context=DEFERRED)
        return self._deferred

    def upsert_many(self, items: list[tuple[dict[str, Any], str | None]]) -> list[dict | ckanapi.ValidationError]:
        """Write (dataset, known name or None) pairs; returns, in the same order, each
        saved dataset (as package_show gives it) or the ValidationError refusing it."""
        self.deferred       # CKAN loaded before anything of it is imported
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
        from ckan import logic, model
        written: list[tuple[int, str]] = []
        for i, (dataset, known_name) in enumerate(items):
            if results[i] is not None:
                continue
            try:
                written.append((i, self._write(dataset, known_name)))
            except ckanapi.ValidationError as e:
                name = self.existing_name(dataset) if known_name is None and \
                    _already_there(e.error_dict, dataset) else None
                if name is None:
                    results[i] = e
                else:   # loaded by a run killed before it noted it: an update
                    items[i] = (dataset, name)
                return False
        shown: dict[int, dict] = {}
        with _collected_solr_adds() as docs:
            for i, package_id in written:
                both = logic.package_show_default_and_custom_schemas({"user": self.ckan.username}, package_id)
                logic.index_insert_package_dicts(both)
                shown[i] = both[1]
        if docs:
            from ckan.lib.search.common import make_connection
            make_connection().add(docs=docs, commit=False)
        model.repo.commit()
        self.wrote = True
        for i, saved in shown.items():
            results[i] = saved
            if saved.get("type", "service") == "service" and saved.get("owner_org"):
                self.departments.add(saved["owner_org"])
        return True

    def _write(self, dataset: dict[str, Any], known_name: str | None) -> str:
        action = self.deferred.action
        if known_name is None:
            return action.package_create(**dataset)
        return action.package_update(**{**dataset, "id": known_name})

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
