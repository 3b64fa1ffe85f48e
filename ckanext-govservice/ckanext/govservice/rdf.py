"""The CKAN side of the platform's RDF: ckanext-dcat's profiles and the URI hook.

What a service is in CPSV-AP 3.2 — the mapping, the writer, the reader, the
platform's terms and vocabularies — is ``core.cpsv``, pure and without CKAN.
This module is the thin shell around it that needs CKAN:

* ``DCATAP3Profile`` (``govservice_dcat_ap_3``): ckanext-dcat's DCAT-AP 3 for
  the catalogue and every dataset but services, made valid against the
  official DCAT-AP 3.0.0 shapes (vocabulary IRIs through ``core.dcat_ap``:
  formats, media types, licences, languages, theme; publishers, contact
  points, access and download URLs, the standards the files conform to) and
  CPSV-AP too (language-tagged titles, one publisher that is an Agent);
* ``CPSVAPProfile`` (``cpsv_ap``): services through ``core.cpsv.service_graph``,
  with the department fetched from CKAN and the site URL from ckanext-dcat;
  the network's catalogues through ``core.cpsv.catalogue_entry_graph``: a basic
  item as the skos:Concept its implementations are cv:isClassifiedBy, a
  document of the document catalogue as the cv:EvidenceType their evidence
  dct:conformsTo. Neither is a dcat:Dataset: they are entries of two
  catalogues, not data distributed in files, and DCAT-AP 3 would ask of them
  what only a dataset has (distributions, a publisher as the data's owner);
* ``dataset_uri``, the IDCATURIGenerator hook: a service's URI is
  ``core.cpsv.service_uri``;
* ``catalog_show``, behind the ``dcat_catalog_show`` action (``/catalog.ttl``):
  ckanext-dcat's, except that the catalogue lists a service, a basic item and a
  catalogue document with ``dcat:resource`` (DCAT 3's "any resource listed"),
  not ``dcat:dataset``, which DCAT-AP keeps for ``dcat:Dataset``s: so one
  document is valid DCAT-AP 3.0.0 and CPSV-AP 3.2.0 at once.

The addresses that serve this RDF (``/service/<name>.<format>``, the terms,
the vocabularies, the ``/id/service/…`` resolver) are ``views/rdf.py``.
"""
from __future__ import annotations

import logging
from typing import Any

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, FOAF, RDF, RDFS

from .core import dcat_ap
from .core.cpsv import (EN, ZH, _text, basic_item_uri, bind_namespaces, catalogue_entry_graph,
                        department_identifier, department_uri, document_type_uri, service_graph,
                        service_uri)

log = logging.getLogger(__name__)
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")

CPSV_AP = ("https://semiceu.github.io/CPSV-AP/releases/3.2.0/",
           {"en": "Core Public Service Vocabulary Application Profile (CPSV-AP) 3.2.0"})
SERVICE_DICTIONARY = ("/api/3/action/govservice_schema",
                      {"zh": "政务服务事项数据字典（字段、中英文名称、代码表）",
                       "en": "Service catalogue data dictionary (fields, zh/en labels, code lists)"})
STATISTICS_DICTIONARY = ("/api/3/action/datastore_info?id={table}",
                         {"zh": "政务服务绩效统计数据字典（列、类型、中英文说明）",
                          "en": "Service performance statistics data dictionary (columns, types, zh/en notes)"})
# Dataset types that are not dcat:Datasets: described by the cpsv_ap profile and
# listed as the catalogue's dcat:resource.
NOT_DATASETS = ("service", "basic_item", "document")

CATALOGUE_DESCRIPTION = ("各部门政务服务事项目录与绩效统计，均为开放数据。",
                         "Every department's public service catalogue and performance statistics, as open data.")


def dataset_uri(dataset_dict: dict[str, Any], default_uri: str) -> str | None:
    """The URI ckanext-dcat gives a dataset (IDCATURIGenerator): a service's
    ``service_uri``; a bulk catalogue dataset's ``<site>/dataset/<name>`` (what
    ``catalogue_dataset_uris`` links services from); None (the default) otherwise."""
    base = default_uri.rsplit("/dataset/", 1)[0]
    if dataset_dict.get("type") == "service" and dataset_dict.get("service_code"):
        return str(service_uri(base, dataset_dict))
    if dataset_dict.get("type") == "basic_item" and dataset_dict.get("basic_code"):
        return str(basic_item_uri(base, dataset_dict["basic_code"]))
    if dataset_dict.get("type") == "document" and dataset_dict.get("document_code"):
        return str(document_type_uri(base, dataset_dict["document_code"]))
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
        """ckanext-dcat's DCAT-AP 3 profile for the catalogue and every dataset but
        services, valid against the official DCAT-AP 3.0.0 shapes.

        Services are public services, not datasets: the ``cpsv_ap`` profile
        describes them, and DCAT-AP triples on the same node would only
        contradict it. Registered as ``govservice_dcat_ap_3``.

        What it changes in ckanext-dcat's output, for DCAT-AP 3.0.0 (the
        vocabularies through ``core.dcat_ap``): each distribution's format and
        media type as IRIs (a format outside the table stays, as a label, and
        is logged), its access URL (and download URL for a file or a DataStore
        table's dump), its licence as an EU licence IRI; the dataset's
        languages, theme, contact point (the department) and the standards it
        conforms to (the bulk catalogue: CPSV-AP and the service data
        dictionary; the statistics: the table's data dictionary); the
        catalogue's publisher (the platform's organisation), languages,
        description and theme taxonomy. The reader (``parse_dataset``) turns
        those IRIs back into CKAN's values.

        And so that a catalogue mixing datasets and services is valid
        CPSV-AP too (CPSV-AP's Dataset and Agent shapes apply to every
        dcat:Dataset and foaf:Agent in the graph): titles and descriptions
        tagged with their language; exactly one publisher, the department (a
        foaf:Agent with a foaf:name, a dct:title in zh and en and one
        dct:identifier), or the platform for a dataset without one.
        """

        def graph_from_dataset(self, dataset_dict, dataset_ref):
            if dataset_dict.get("type") in NOT_DATASETS:
                return
            super().graph_from_dataset(dataset_dict, dataset_ref)
            _tag_languages(self.g, dataset_ref, {DCT.title: dataset_dict.get("title_en"),
                                                 DCT.description: dataset_dict.get("notes_en")})
            department = self._department(dataset_dict)
            self._publisher_as_agent(dataset_dict, dataset_ref, department)
            dcat_ap.add_languages(self.g, dataset_ref, _site_locales())
            self._contact_point(dataset_ref, department)
            kind = _platform_kind(dataset_dict)
            if kind:
                dcat_ap.add_government_theme(self.g, dataset_ref)
            standards = self._standards(dataset_dict, kind)
            for uri, titles in standards:
                dcat_ap.add_standard(self.g, dataset_ref, uri, titles)
            if kind == "catalogue":
                dcat_ap.add_standard(self.g, dataset_ref, *CPSV_AP)
            for resource in dataset_dict.get("resources", []):
                self._distribution(dataset_dict, resource, standards)

        def graph_from_catalog(self, catalog_dict, catalog_ref):
            super().graph_from_catalog(catalog_dict, catalog_ref)
            g = self.g
            dcat_ap.add_languages(g, catalog_ref, _site_locales())
            if not any(g.objects(catalog_ref, DCT.description)):
                _text(g, catalog_ref, DCT.description, *CATALOGUE_DESCRIPTION)
            for homepage in g.objects(catalog_ref, FOAF.homepage):
                g.add((homepage, RDF.type, FOAF.Document))
            dcat_ap.add_theme_taxonomy(g, catalog_ref)
            for old in list(g.objects(catalog_ref, DCT.publisher)):
                g.remove((catalog_ref, DCT.publisher, old))
            g.add((catalog_ref, DCT.publisher, self._agent(self._platform())))

        # -------------------------------------------------------- the parts

        def _platform(self):
            """The platform's organisation (organization_show's dict), None before it exists."""
            from .publishing import PLATFORM_ORG
            return self._department({"owner_org": PLATFORM_ORG})

        def _agent(self, department) -> URIRef:
            """The department as a foaf:Agent with a name, a dct:title in zh (and en)
            and one dct:identifier; the platform itself (the site) without one."""
            from ckanext.dcat.utils import catalog_uri
            base = catalog_uri()
            if department is not None:
                agent = department_uri(base, department)
                title, title_en = department.get("title") or department["name"], department.get("title_en")
                identifier = department_identifier(department)
            else:   # no department (any more): the platform publishes it
                agent = URIRef(f"{base.rstrip('/')}/#publisher")
                title = tk.config.get("ckan.site_title") or base
                title_en, identifier = None, base
            self._name_agent(agent, title, title_en, identifier)
            return agent

        def _name_agent(self, agent, title, title_en, identifier):
            g = self.g
            g.add((agent, RDF.type, FOAF.Agent))
            if not any(g.objects(agent, FOAF.name)):
                g.add((agent, FOAF.name, Literal(title)))
            g.add((agent, DCT.title, Literal(title, lang=ZH if _has_chinese(title) else EN)))
            _text(g, agent, DCT.title, None, title_en)
            if not any(g.objects(agent, DCT.identifier)):
                g.add((agent, DCT.identifier, Literal(identifier)))

        def _publisher_as_agent(self, dataset_dict, dataset_ref, department):
            publishers = list(self.g.objects(dataset_ref, DCT.publisher))
            for extra in publishers[1:]:   # CPSV-AP and DCAT-AP allow one
                self.g.remove((dataset_ref, DCT.publisher, extra))
            own = any(self._get_dataset_value(dataset_dict, key) for key in ("publisher_uri", "publisher_name"))
            if publishers and (own or department is None):   # the dataset's own publisher_* fields
                agent = publishers[0]
                name = str(self.g.value(agent, FOAF.name) or agent)
                self._name_agent(agent, name, None, str(agent))
                return
            if publishers:
                self.g.remove((dataset_ref, DCT.publisher, publishers[0]))
            self.g.add((dataset_ref, DCT.publisher, self._agent(department)))

        def _contact_point(self, dataset_ref, department):
            """The contact point: the one the dataset names (maintainer…), else its
            department (name and page), a vcard:Kind either way."""
            g = self.g
            points = list(g.objects(dataset_ref, DCAT.contactPoint))
            if not points and department is not None:
                from ckanext.dcat.utils import catalog_uri
                point = URIRef(f"{department_uri(catalog_uri(), department)}#contact")
                g.add((dataset_ref, DCAT.contactPoint, point))
                g.add((point, RDF.type, VCARD.Organization))
                g.add((point, VCARD.fn, Literal(department.get("title") or department["name"])))
                page = URIRef(f"{catalog_uri().rstrip('/')}/organization/{department['name']}")
                g.add((point, VCARD.hasURL, page))
                points = [point]
            for point in points:
                g.add((point, RDF.type, VCARD.Kind))

        def _standards(self, dataset_dict, kind) -> list[tuple[str, dict]]:
            """(IRI, titles) of the data dictionaries the dataset and its files conform to:
            the service schema's for a bulk catalogue, the table's for the statistics."""
            from ckanext.dcat.utils import catalog_uri
            base = catalog_uri().rstrip("/")
            if kind == "catalogue":
                return [(base + SERVICE_DICTIONARY[0], SERVICE_DICTIONARY[1])]
            if kind == "statistics":
                table = self._statistics_table(dataset_dict)
                if table:
                    return [(base + STATISTICS_DICTIONARY[0].format(table=table), STATISTICS_DICTIONARY[1])]
            return []

        def _statistics_table(self, dataset_dict) -> str | None:
            """The id of the statistics DataStore table (the one data dictionary of every
            statistics file), from the dataset itself or the platform's statistics dataset."""
            from .statistics_store import DATASET, RESOURCE_KEY
            cache = self.g.__dict__.setdefault("_govservice_statistics_table", {})
            for resource in dataset_dict.get("resources", []):
                if resource.get(RESOURCE_KEY) == "rows":
                    return resource["id"]
            if "id" not in cache:
                try:
                    found = tk.get_action("package_show")({"ignore_auth": True}, {"id": DATASET})
                    cache["id"] = next((r["id"] for r in found.get("resources", [])
                                        if r.get(RESOURCE_KEY) == "rows"), None)
                except (tk.ObjectNotFound, tk.NotAuthorized):
                    cache["id"] = None
            return cache["id"]

        def _distribution(self, dataset_dict, resource, standards):
            from ckanext.dcat.profiles.base import CleanedURIRef
            from ckanext.dcat.utils import catalog_uri, resource_uri
            g = self.g
            distribution = CleanedURIRef(resource_uri(resource))
            fmt, mimetype = resource.get("format"), resource.get("mimetype")
            if _is_datastore_table(resource):
                # the table: read through the DataStore API, downloaded as its CSV dump
                base = catalog_uri().rstrip("/")
                g.remove((distribution, DCAT.accessURL, None))
                access = URIRef(f"{base}/api/3/action/datastore_search?resource_id={resource['id']}")
                g.add((distribution, DCAT.accessURL, access))
                g.add((distribution, DCAT.downloadURL, URIRef(f"{base}/datastore/dump/{resource['id']}")))
                fmt, mimetype = "CSV", "text/csv"
            elif resource.get("url_type") == "upload" and resource.get("url"):
                g.add((distribution, DCAT.downloadURL, URIRef(resource["url"])))
            if not any(g.objects(distribution, DCAT.accessURL)):
                for url in list(g.objects(distribution, DCAT.downloadURL))[:1]:
                    g.add((distribution, DCAT.accessURL, url))
            for predicate in (DCAT.accessURL, DCAT.downloadURL):
                for url in g.objects(distribution, predicate):
                    g.add((url, RDF.type, RDFS.Resource))
            unknown = dcat_ap.add_format(g, distribution, fmt, mimetype)
            if unknown:
                log.warning("dataset %s, resource %s: format %r is not in the EU file-type table; "
                            "published as a label only", dataset_dict.get("name"), resource.get("id"), unknown)
            own = resource.get("license")   # a resource's own licence (a URL), else the dataset's
            dcat_ap.add_licence(g, distribution, own or dataset_dict.get("license_id"),
                                own or dataset_dict.get("license_url"),
                                None if own else dataset_dict.get("license_title"))
            for uri, titles in standards:
                dcat_ap.add_standard(g, distribution, uri, titles)
            # spdx:checksum wants its algorithm; CKAN's hash does not say which it is
            if not resource.get("hash_algorithm"):
                for checksum in list(g.objects(distribution, SPDX.checksum)):
                    g.remove((distribution, SPDX.checksum, checksum))
                    g.remove((checksum, None, None))

        # -------------------------------------------------------- reading back

        def parse_dataset(self, dataset_dict, dataset_ref):
            """ckanext-dcat's reader, with the formats, media types and licences this
            profile writes as IRIs read back as CKAN's values (``CSV``, ``text/csv``,
            ``cc-by``)."""
            dataset_dict = super().parse_dataset(dataset_dict, dataset_ref)
            by_uri = {str(d): d for d in self.g.objects(dataset_ref, DCAT.distribution)}
            licence = None
            for resource in dataset_dict.get("resources", []):
                distribution = by_uri.get(resource.get("uri") or "")
                if distribution is None:
                    continue
                fmt, media_type = dcat_ap.read_format(self.g, distribution)
                if fmt:
                    resource["format"] = fmt
                if media_type:
                    resource["mimetype"] = media_type
                licence = licence or dcat_ap.licence_id(self.g.value(distribution, DCT.license))
            if licence:
                dataset_dict["license_id"] = licence
            return dataset_dict

    class CPSVAPProfile(_WithoutDatasetSchema, _Departments, RDFProfile):
        """CPSV-AP 3.2 for datasets of type ``service``, and the basic items and
        documents of the network's catalogues (see the module docstring).

        Registered as ``cpsv_ap``; list it after the DCAT-AP profile in
        ``ckanext.dcat.rdf.profiles``. It only writes, never parses: the
        harvester reads CPSV-AP with ``services_from_cpsv``.
        """

        def graph_from_dataset(self, dataset_dict, dataset_ref):
            from ckanext.dcat.utils import catalog_uri
            if dataset_dict.get("type") in ("basic_item", "document"):
                catalogue_entry_graph(self.g, dataset_dict, catalog_uri())
                return
            if dataset_dict.get("type") != "service":
                return
            if not isinstance(dataset_dict.get("network"), dict):
                # a search result (the catalogue's pages) lacks what package_show adds
                from . import network
                dataset_dict = {**dataset_dict, "network": network.of(dataset_dict)}
            service_graph(self.g, dataset_dict, dataset_ref, catalog_uri(),
                          self._department(dataset_dict) or dataset_dict.get("organization"))

        def graph_from_catalog(self, catalog_dict, catalog_ref):
            from ckanext.dcat.utils import catalog_uri
            bind_namespaces(self.g, catalog_uri())
            _tag_languages(self.g, catalog_ref, {})


    def catalog_show(up_func, context, data_dict):
        """ckanext-dcat's ``dcat_catalog_show`` (what ``/catalog.<format>`` serves), with
        each service listed as the catalogue's ``dcat:resource``, each other dataset
        as its ``dcat:dataset``; the same search, paging and profiles. (ckanext-dcat's
        sub-catalogues, ``ckanext.dcat.expose_subcatalogs``, are not used here.)"""
        from ckanext.dcat import logic as dcat_logic
        from ckanext.dcat.processors import RDFSerializer
        from ckanext.dcat.utils import url_to_rdflib_format
        tk.check_access("dcat_catalog_show", context, data_dict)
        query = dcat_logic._search_ckan_datasets(context, data_dict)
        serializer = RDFSerializer(profiles=data_dict.get("profiles"))
        catalog_ref = serializer.graph_from_catalog({})
        for dataset in query["results"]:
            ref = serializer.graph_from_dataset(dataset)
            listed = DCAT.resource if dataset.get("type") in NOT_DATASETS else DCAT.dataset
            serializer.g.add((catalog_ref, listed, ref))
        serializer._add_pagination_triples(dcat_logic._pagination_info(query, data_dict))
        return serializer.g.serialize(format=url_to_rdflib_format(data_dict.get("format") or "xml"))


def _site_locales() -> list[str]:
    """The languages the platform's datasets are described in: the site's default
    locale and those it offers (zh_Hans_CN, en)."""
    default = tk.config.get("ckan.locale_default") or "en"
    offered = tk.config.get("ckan.locales_offered") or []
    if isinstance(offered, str):
        offered = offered.split()
    return list(dict.fromkeys([default, *offered]))


def _platform_kind(dataset_dict: dict[str, Any]) -> str | None:
    """"catalogue" for a bulk service catalogue, "statistics" for the statistics
    (the table or a department's file), "other" for another dataset the platform
    publishes, None for anyone else's."""
    from .publishing import CATALOGUE_EXTRA
    from .statistics_store import RESOURCE_KEY
    extras = {e.get("key"): e.get("value") for e in dataset_dict.get("extras") or []}
    scope = extras.get(CATALOGUE_EXTRA) or dataset_dict.get(CATALOGUE_EXTRA)
    if scope in ("department", "platform"):
        return "catalogue"
    if scope == "statistics" or extras.get(RESOURCE_KEY) or dataset_dict.get(RESOURCE_KEY):
        return "statistics"
    return "other" if scope else None


def _is_datastore_table(resource: dict[str, Any]) -> bool:
    """A resource that is only a DataStore table (no file of its own)."""
    url = resource.get("url") or ""
    return bool(resource.get("datastore_active")) and (
        resource.get("url_type") == "datastore" or not url or "_datastore_only_resource" in url)


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
