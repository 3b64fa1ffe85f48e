"""The search index rebuilt in batches (issue 13: 100,000 services in 15 minutes).

CKAN's ``ckan search-index rebuild`` sends every dataset to Solr in a request
of its own. ``ckan govservice search-index-rebuild`` makes the same documents
with CKAN's own indexer (``index_update_package``: package_show with both
schemas, the plugins' ``before_dataset_index``, the permission labels), but
the indexer's Solr connection is, while a batch is made, a collector: the
batch goes to Solr in one request, and Solr commits once at the end. Several
worker processes may share the datasets (``--workers``; each takes every
n-th id), each with its own database and Solr connections. A batch's
performance summaries are read once for the batch
(``statistics_publish.performance_prefetched``), not once per dataset.
"""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan import logic
from ckan.lib.search import common as search_common

from . import bulk_load, statistics_publish

log = logging.getLogger(__name__)

BATCH = 250


def services_of(package_ids: Sequence[str]) -> list[tuple[str, str]]:
    """(department name, service code) of the services among these datasets, as
    their ``package_show`` will name them (a dataset whose show differs is
    simply read on its own by ``statistics_publish.performance``)."""
    rows = model.Session.execute(sa.text("""
        SELECT g.name, p.extras->>'service_code' FROM package p JOIN "group" g ON g.id = p.owner_org
        WHERE p.id = ANY(:ids) AND p.type = 'service' AND p.extras ? 'service_code'"""),
        {"ids": list(package_ids)}).all()
    return [(department, code) for department, code in rows]


def documents(package_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The Solr documents CKAN's indexer makes of these datasets, none sent;
    the services' performance summaries are read once for them all."""
    with bulk_load.gathered() as gathered, \
            statistics_publish.performance_prefetched(services_of(package_ids)):
        for package_id in package_ids:
            logic.index_update_package({"ignore_auth": True}, package_id, True)
    return gathered


def dataset_ids(dataset_type: str | None = None) -> list[str]:
    """The datasets CKAN's rebuild indexes (all but the deleted, unless
    ``ckan.search.remove_deleted_packages`` is off), of one type when given, by id."""
    query = model.Session.query(model.Package.id)
    if tk.config.get("ckan.search.remove_deleted_packages"):
        query = query.filter(model.Package.state != "deleted")
    if dataset_type:
        query = query.filter(model.Package.type == dataset_type)
    return [row[0] for row in query.order_by(model.Package.id)]


def rebuild(package_ids: Sequence[str], batch: int = BATCH, commit: bool = True,
            echo: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Index the datasets a batch at a time (one Solr request a batch), then
    commit once. A dataset CKAN cannot index is logged and left out; the rest go on.

    :returns: ``{"indexed", "failed": [ids], "seconds"}``
    """
    started = time.perf_counter()
    conn = search_common.make_connection()
    indexed, failed = 0, []
    for i in range(0, len(package_ids), batch):
        chunk = package_ids[i:i + batch]
        try:
            docs = documents(chunk)
        except Exception:          # find the one that fails; index the others
            model.Session.rollback()
            docs = []
            for package_id in chunk:
                try:
                    docs += documents([package_id])
                except Exception:
                    model.Session.rollback()
                    log.exception("could not index dataset %s", package_id)
                    failed.append(package_id)
        if docs:
            conn.add(docs=docs, commit=False)
        indexed += len(docs)
        model.Session.remove()     # a batch's objects do not pile up in the session
        echo(f"indexed {indexed}/{len(package_ids)}")
    if commit:
        conn.commit(waitSearcher=False)
    return {"indexed": indexed, "failed": failed, "seconds": round(time.perf_counter() - started, 1)}


def rebuild_in_workers(config_file: str, workers: int, dataset_type: str | None, batch: int,
                       echo: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Run ``workers`` processes of the command, each indexing every n-th dataset,
    then commit once. :returns: as ``rebuild``, ``failed`` summed as a count."""
    started = time.perf_counter()
    command = [str(Path(sys.executable).with_name("ckan")), "-c", config_file, "govservice", "search-index-rebuild",
               "--batch", str(batch), "--no-commit"]
    if dataset_type:
        command += ["--type", dataset_type]
    children = [subprocess.Popen(command + ["--part", f"{k}/{workers}"], stdout=subprocess.PIPE, text=True)
                for k in range(workers)]
    indexed = failed = 0
    for child in children:
        out, _ = child.communicate()
        last = (out.strip().splitlines() or ["{}"])[-1]
        echo(f"worker {child.args[-1]}: {last}")
        if child.returncode:
            raise RuntimeError(f"worker {child.args[-1]} failed (exit {child.returncode})")
        report = json.loads(last)
        indexed += report["indexed"]
        failed += len(report["failed"])
    search_common.make_connection().commit(waitSearcher=False)
    return {"indexed": indexed, "failed": failed, "seconds": round(time.perf_counter() - started, 1)}
