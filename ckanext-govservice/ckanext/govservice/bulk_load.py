"""A harvest's bulk load, batch by batch (``govharvest/bulk.py`` drives it, in
the harvest worker's own process): each dataset the batch writes is shown once
for both its activity record and its search document, and the batch's search
documents go to Solr in one request.

Why: CKAN makes a saved dataset's dict three times. ``ckanext.activity`` calls
``package_show`` after each ``package_create``/``package_update`` (first asking
Solr for a cached copy that a dataset just written never has, then dictizing
and validating it against the custom schema), and the search index shows it
again (``package_show_default_and_custom_schemas``: dictized once more,
validated against the default and the custom schema). Within a batch, a
dataset the batch wrote (``written``, told by the plugin's
``after_dataset_create``/``after_dataset_update`` when the context says
``BULK_LOAD``) is shown by CKAN's own ``package_show_default_and_custom_schemas``
the first time anything asks for it: the activity record gets the custom dict
(what ``package_show`` answers), and the search document is made from the same
pair, as ``package_create`` makes it. So the activity, ``package_show`` and the
Solr document say what CKAN's own create says, byte for byte
(``harvesters/tests/integration/test_bulk_load.py`` compares all three).

The search documents: CKAN's indexer (``PackageSearchIndex.index_package``)
makes a document and sends it in one function, with no piece that makes it
without sending; it asks ``ckan.lib.search.index.make_connection`` for its
Solr connection. That name is given, once per process, a function that answers
the real connection unless this thread is gathering a batch's documents
(``gathered``), when it answers the batch's collector: nothing is swapped back
and forth, and another thread's indexing (or this one's outside a batch) is
untouched.

Everything here is per thread and per batch (context variables); outside a
batch nothing changes: ``package_show`` is CKAN's.
"""
from __future__ import annotations

import contextlib
import contextvars
import copy
from typing import Any, Callable, Iterable, Iterator

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan import logic
from ckan.lib.search import index as search_index

from . import statistics_publish

BULK_LOAD = "govservice_bulk_load"     # the context key of a harvest's bulk load


class Batch:
    """The datasets one bulk batch wrote, each shown at most once."""

    def __init__(self) -> None:
        self.written: list[str] = []                     # package ids, in the order written
        self.shown: dict[str, tuple[Any, dict, dict]] = {}   # id -> (metadata_modified, default, custom)
        self.showing: set[str] = set()     # being shown now: a show within it is CKAN's own

    def show(self, package_id: str) -> tuple[dict, dict]:
        """(default-schema dict, custom-schema dict) of a dataset the batch wrote, as
        CKAN's ``package_show_default_and_custom_schemas`` makes them: made once
        per save (a later save, with its new ``metadata_modified``, is shown again)."""
        pkg = model.Package.get(package_id)
        kept = self.shown.get(package_id)
        if kept is not None and pkg is not None and kept[0] == pkg.metadata_modified:
            return kept[1], kept[2]
        self.showing.add(package_id)
        try:
            default, custom = logic.package_show_default_and_custom_schemas({"ignore_auth": True}, package_id)
        finally:
            self.showing.discard(package_id)
        if pkg is not None:
            self.shown[package_id] = (pkg.metadata_modified, default, custom)
        return default, custom


_BATCH: contextvars.ContextVar[Batch | None] = contextvars.ContextVar("govservice_bulk_batch", default=None)
_GATHERING: contextvars.ContextVar[list | None] = contextvars.ContextVar("govservice_bulk_gathering",
                                                                       default=None)


@contextlib.contextmanager
def batch(services: Iterable[tuple[str, str]] = ()) -> Iterator[Batch]:
    """Within the block, the datasets written with ``BULK_LOAD`` in their context
    are shown once each (see the module's docstring), and the performance
    summaries of ``services`` ((department name, service code) pairs) are read
    once for the batch."""
    token = _BATCH.set(Batch())
    try:
        with statistics_publish.performance_prefetched(list(services)):
            yield _BATCH.get()
    finally:
        _BATCH.reset(token)


def written(context: dict[str, Any], package_id: str | None, updated: bool = False) -> None:
    """The plugin's ``after_dataset_create``/``after_dataset_update``: a dataset saved
    by a bulk batch (its context says ``BULK_LOAD``) is one of the batch's.

    An update: CKAN's ``package_update`` with ``defer_commit`` and
    ``return_id_only`` (the bulk path's options: without ``return_id_only`` it
    rolls its own savepoint back when ``defer_commit`` is set) returns before it
    names the dataset in ``changed_entities``, which ``ckanext.activity`` reads
    to record a "changed package"; this hook, called only when the update
    changed something, names it there as package_update would have."""
    current = _BATCH.get()
    if current is not None and context.get(BULK_LOAD) and package_id:
        pkg = model.Package.get(package_id)     # an update's data may name it by name
        if pkg is not None:
            current.written.append(pkg.id)
            if updated:
                context.setdefault("changed_entities", {}).setdefault("packages", set()).add(pkg.id)


def _shows_as_package_show(context: dict[str, Any], data_dict: dict[str, Any]) -> bool:
    """A call whose answer is the custom-schema dict unchanged: validated, no schema
    of its own, not for a page (``before_dataset_view``), no plugin data, and with
    authorisation already waived (as the activity record's own call has it)."""
    return (context.get("ignore_auth") and context.get("validate", True) and "schema" not in context
            and not context.get("for_view") and not context.get("for_update")
            and not str(data_dict.get("use_default_schema", "")).lower() in ("true", "1", "yes")
            and not str(data_dict.get("include_plugin_data", "")).lower() in ("true", "1", "yes"))


def package_show(up_func: Callable, context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """CKAN's package_show, except within a bulk batch for a dataset the batch has
    just written: then the batch's one show of it (``Batch.show``)."""
    current = _BATCH.get()
    if current is None or not current.written or not _shows_as_package_show(context, data_dict):
        return up_func(context, data_dict)
    pkg = model.Package.get(data_dict.get("id") or data_dict.get("name_or_id"))
    if pkg is None or pkg.id not in current.written or pkg.id in current.showing:
        return up_func(context, data_dict)
    context["session"] = model.Session
    context["package"] = pkg
    tk.check_access("package_show", context, data_dict)     # as package_show does (here waived)
    return copy.deepcopy(current.show(pkg.id)[1])


def _connection(*args: Any, **kwargs: Any) -> Any:
    """What CKAN's indexer gets as its Solr connection: this thread's collector
    while it gathers a batch's documents, else the real one."""
    collector = _GATHERING.get()
    if collector is not None:
        return _Collector(collector)
    return _solr_connection(*args, **kwargs)


_solr_connection = search_index.make_connection


class _Collector:
    def __init__(self, into: list) -> None:
        self.into = into

    def add(self, docs: list[dict[str, Any]], commit: bool = False, **_: Any) -> None:
        self.into.extend(docs)


@contextlib.contextmanager
def gathered() -> Iterator[list[dict[str, Any]]]:
    """Within the block, CKAN's indexer in this thread adds its documents to the
    returned list instead of sending them; the caller sends them together."""
    global _solr_connection
    if search_index.make_connection is not _connection:    # once per process
        _solr_connection = search_index.make_connection
        search_index.make_connection = _connection
    documents: list[dict[str, Any]] = []
    token = _GATHERING.set(documents)
    try:
        yield documents
    finally:
        _GATHERING.reset(token)


def index_documents(current: Batch) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The batch's search documents, as CKAN's indexer makes them from each
    dataset's one show, none sent; and each dataset as ``package_show`` gives it.

    :returns: (Solr documents, {package id: custom-schema dict})
    """
    shown: dict[str, dict[str, Any]] = {}
    with gathered() as documents:
        for package_id in dict.fromkeys(current.written):
            both = current.show(package_id)
            logic.index_insert_package_dicts(both)
            shown[package_id] = both[1]
    return documents, shown
