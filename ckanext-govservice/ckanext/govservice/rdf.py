"""The CKAN side of the platform's RDF: ckanext-dcat's profiles and the URI hook.

What a service is in CPSV-AP 3.2 — the mapping, the writer, the reader, the
platform's terms and vocabularies — is ``core.cpsv``, pure and without CKAN.
This module is the thin shell around it that needs CKAN:

* ``DCATAP3Profile`` (``govservice_dcat_ap_3``): ckanext-dcat's DCAT-AP 3 for
  every dataset but services, made valid CPSV-AP too (language-tagged titles,
  one publisher that is an Agent);
* ``CPSVAPProfile`` (``cpsv_ap``): services through ``core.cpsv.service_graph``,
  with the department fetched from CKAN and the site URL from ckanext-dcat;
* ``dataset_uri``, the IDCATURIGenerator hook: a service's URI is
  ``core.cpsv.service_uri``.

The addresses that serve this RDF (``/service/<name>.<format>``, the terms,
the vocabularies, the ``/id/service/…`` resolver) are ``views/rdf.py``.
"""
from __future__ import annotations

from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS as DCT, FOAF, RDF

from .core.cpsv import EN, ZH, _text, bind_namespaces, department_identifier, service_graph, service_uri


def dataset_uri(dataset_dict: dict[str, Any], default_uri: str) -> str | None:
    """The URI ckanext-dcat gives a dataset (IDCATURIGenerator): a service's
    ``service_uri``; a bulk catalogue dataset's ``<site>/dataset/<name>`` (what
    ``catalogue_dataset_uris`` links services from); None (the default) otherwise."""
    base = default_uri.rsplit("/dataset/", 1)[0]
    if dataset_dict.get("type") == "service" and dataset_dict.get("service_code"):
        return str(service_uri(base, dataset_dict))
    extras = {e.get("key"): e.get("value") for e in dataset_dict.get("extras") or []}
    if extras.get("govservice_catalogue") and dataset_dict.get("name"):
        return f"{base}/dataset/{dataset_dict['name']}"
    return None


# ---------------------------------------------------------------- ckanext-dcat profiles

try:
    import ckan.plugins.toolkit as tk
    from ckanext.dcat.profiles.base import RDFProfile
    from ckanext.dcat.profiles.euro_dcat_ap_3 import EuropeanDCATAP3Profile
except ImportError:  # pragma: no cover - the pure functions above work without CKAN
    RDFProfile = EuropeanDCATAP3Profile = None


if RDFProfile is not None:
    class _WithoutDatasetSchema:
        """ckanext-dcat builds every profile for dataset type "dataset" and, with
        scheming loaded, fails when that type has no schema — ours has only
        "service". Carry on without a schema then, as without scheming."""

        def __init__(self, graph, dataset_type="dataset", compatibility_mode=False):
            try:
                super().__init__(graph, dataset_type, compatibility_mode)
            except tk.ObjectNotFound:
                pass  # g, compatibility_mode and the languages are set before the raise

    class _Departments:
        def _department(self, dataset_dict):
            """The owner's organization_show dict (None when it has none or it is gone)."""
            org = dataset_dict.get("organization") or {}
            org_id = org.get("id") or dataset_dict.get("owner_org")
            if not org_id:
                return None
            # One lookup per department per serialisation: a catalogue page
            # holds many services of few departments.
            cache = self.g.__dict__.setdefault("_govservice_departments", {})
            if org_id not in cache:
                try:
                    cache[org_id] = tk.get_action("organization_show")(
                        {"ignore_auth": True}, {"id": org_id, "include_datasets": False,
                                                "include_users": False, "include_extras": True})
                except tk.ObjectNotFound:
                    cache[org_id] = None
            return cache[org_id]

    class DCATAP3Profile(_WithoutDatasetSchema, _Departments, EuropeanDCATAP3Profile):
        """ckanext-dcat's DCAT-AP 3 profile for every dataset but services.

        Services are public services, not datasets: the ``cpsv_ap`` profile
        describes them, and DCAT-AP triples on the same node would only
        contradict it. Registered as ``govservice_dcat_ap_3``.

        What it adds, so that a catalogue mixing datasets and services is valid
        CPSV-AP too (CPSV-AP's Dataset and Agent shapes apply to every
        dcat:Dataset and foaf:Agent in the graph): titles and descriptions
        tagged with their language; exactly one publisher, the department (a
        foaf:Agent with a dct:title in zh and en and one dct:identifier), or
        the platform for a dataset without one.
        """

        def graph_from_dataset(self, dataset_dict, dataset_ref):
            if dataset_dict.get("type") == "service":
                return
            super().graph_from_dataset(dataset_dict, dataset_ref)
            _tag_languages(self.g, dataset_ref, {DCT.title: dataset_dict.get("title_en"),
                                                 DCT.description: dataset_dict.get("notes_en")})
            self._publisher_as_agent(dataset_dict, dataset_ref)

        def _publisher_as_agent(self, dataset_dict, dataset_ref):
            from ckanext.dcat.utils import catalog_uri
            base = catalog_uri()
            department = self._department(dataset_dict)
            publishers = list(self.g.objects(dataset_ref, DCT.publisher))
            for extra in publishers[1:]:   # CPSV-AP allows one
                self.g.remove((dataset_ref, DCT.publisher, extra))
            if publishers and department is not None:
                agent = publishers[0]
                title, title_en = department.get("title") or department["name"], department.get("title_en")
                identifier = department_identifier(department)
            elif publishers:   # a publisher from the dataset's own publisher_* fields
                agent = publishers[0]
                title, title_en, identifier = str(self.g.value(agent, FOAF.name) or agent), None, str(agent)
            else:   # no department (any more): the platform publishes it
                agent = URIRef(f"{base.rstrip('/')}/#publisher")
                self.g.add((dataset_ref, DCT.publisher, agent))
                self.g.add((agent, RDF.type, FOAF.Agent))
                title = tk.config.get("ckan.site_title") or base
                title_en, identifier = None, base
                self.g.add((agent, FOAF.name, Literal(title)))
            self.g.add((agent, DCT.title, Literal(title, lang=ZH if _has_chinese(title) else EN)))
            _text(self.g, agent, DCT.title, None, title_en)
            if not any(self.g.objects(agent, DCT.identifier)):
                self.g.add((agent, DCT.identifier, Literal(identifier)))

    class CPSVAPProfile(_WithoutDatasetSchema, _Departments, RDFProfile):
        """CPSV-AP 3.2 for datasets of type ``service`` (see the module docstring).

        Registered as ``cpsv_ap``; list it after the DCAT-AP profile in
        ``ckanext.dcat.rdf.profiles``. It only writes, never parses: the
        harvester reads CPSV-AP with ``services_from_cpsv``.
        """

        def graph_from_dataset(self, dataset_dict, dataset_ref):
            if dataset_dict.get("type") != "service":
                return
            from ckanext.dcat.utils import catalog_uri
            service_graph(self.g, dataset_dict, dataset_ref, catalog_uri(),
                          self._department(dataset_dict) or dataset_dict.get("organization"))

        def graph_from_catalog(self, catalog_dict, catalog_ref):
            from ckanext.dcat.utils import catalog_uri
            bind_namespaces(self.g, catalog_uri())
            _tag_languages(self.g, catalog_ref, {})


def _has_chinese(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def _tag_languages(g: Graph, subject, english: dict) -> None:
    """Tag the plain dct:title and dct:description of ``subject``: zh when the text has
    Chinese characters (a bilingual "中文 / English" title counts as Chinese), en
    otherwise; ``english`` ({predicate: text}) adds an English version when there is one."""
    for predicate in (DCT.title, DCT.description):
        for value in list(g.objects(subject, predicate)):
            if isinstance(value, Literal) and not value.language and value.datatype is None:
                g.remove((subject, predicate, value))
                g.add((subject, predicate, Literal(str(value), lang=ZH if _has_chinese(str(value)) else EN)))
        if english.get(predicate):
            g.add((subject, predicate, Literal(english[predicate], lang=EN)))
