"""Services as CPSV-AP 3.2 RDF (cpsv:PublicService), and back: the writer
(``service_graph``, ``services_to_graph``), the reader (``services_from_cpsv``,
and ``parse_feed`` for a department's Turtle or JSON-LD feed), the platform's
terms and vocabularies. Pure: plain dicts in and out, rdflib only — the
ckanext-dcat profiles are in ``ckanext.govservice.rdf``, the views that serve
all this in ``ckanext.govservice.views.rdf``, the harvester's reader in
``govharvest.cpsv``.

The ``cpsv:`` key of each field in schemas/service.yaml names its property.
Most fields are one property of the service — a literal, or a concept of the
field's vocabulary — and are written and read by one helper from a
declarative mapping (``scalar_mappings``, derived from the schema and
``cpsv_terms.yaml``), so a field added to the schema is in the RDF without
code. The rest, listed under ``structured`` in ``cpsv_terms.yaml``, are nodes
of their own, written and read by the functions below.

The mapping, field by field:

=====================  ==========================================================
service field          CPSV-AP 3.2
=====================  ==========================================================
service_code           dct:identifier (exactly one)
basic_code             cv:isClassifiedBy → the basic item, a skos:Concept and
                       gs:BasicItem at <site>/id/item/<basic code> in the basic
                       catalogue's scheme <site>/id/item (why not a "template"
                       service: cpsv_terms.yaml)
implementation_code    adms:identifier → adms:Identifier (skos:notation)
title / title_en       dct:title "…"@zh / "…"@en
notes / notes_en       dct:description @zh / @en (the title stands in when a
                       service has no description: CPSV-AP requires one)
service_type           dct:type → skos:Concept
themes                 cv:thematicArea → skos:Concept
life_events            cv:isGroupedBy → cv:LifeEvent (also cv:Event)
audience               dct:audience → skos:Concept
owner_org              cv:hasCompetentAuthority → cv:PublicOrganisation
                       (skos:prefLabel @zh/@en, dct:spatial → dct:Location);
                       the service's dct:spatial is the department's area
co_departments         cv:hasParticipation → cv:Participation (cv:role co-handling,
                       dct:description its part, cv:hasParticipant → foaf:Agent)
legal_basis            cv:hasLegalResource → eli:LegalResource (its URI is the
                       link to the text when there is one), and cpsv:follows →
                       cpsv:Rule (title = the law, description = the article,
                       cpsv:implements → the legal resource)
eligibility(_en)       cv:holdsRequirement → cv:Requirement (dct:description)
documents              cpsv:hasInput → cv:Evidence (dct:title @zh/@en, dct:type =
                       form; dct:identifier its catalogue code when it has one);
                       a mandatory document is the requirement's
                       cv:hasSupportingEvidence (and cv:supportsRequirement it);
                       a catalogue document is dct:conformsTo's cv:EvidenceType
                       <site>/id/document/<code> (gs:governmentHolds), and one
                       the government holds says gs:noNeedToBring true (免提交)
intermediary_services  cv:holdsRequirement → cv:Requirement (dct:type
                       intermediary service, gs:provider, gs:basis)
special_procedures     gs:specialProcedure → gs:SpecialProcedure (dct:title,
                       dct:description, gs:timeLimit + gs:timeLimitUnit)
committed limit        cv:processingTime "P7D"^^xsd:duration (processing_time)
fees                   cv:hasCost → cv:Cost (cv:hasValue xsd:double, cv:currency
                       → EU currency authority table, dct:title = name,
                       dct:description = basis)
channels               cv:hasChannel → cv:Channel (dct:type, dct:title = name,
                       cv:openingHours → time:TemporalEntity, cv:contactPoint →
                       cv:ContactPoint with cv:telephone, cv:contactPage = url,
                       locn:address → locn:Address)
service_centres        cv:hasChannel → cv:Channel at <site>/centre/<code> (derived
(derived, issue 17)    from the centres' counters: dct:identifier, dct:type
                       in_person, dct:title @zh/@en, cv:openingHours, a
                       cv:ContactPoint with its telephone, page and address);
                       never read back as the service's own channels
output_type / _name    cpsv:produces → cv:Output (dct:type, dct:title,
output_validity(_unit) gs:outputValidity + gs:outputValidityUnit,
output_sample_url      foaf:page → foaf:Document)
reminders              gs:reminder → gs:Reminder (gs:trigger, gs:offset,
                       gs:offsetUnit, gs:direction → skos:Concept; gs:renews →
                       the basic item whose output it renews; gs:prepare @zh/@en)
handling_scope         gs:handlingScope → skos:Concept
contact_phone          cv:contactPoint → cv:ContactPoint (cv:telephone)
contact_points         cv:contactPoint → cv:ContactPoint (gs:contactPurpose,
                       cv:telephone, cv:email, cv:contactPage, locn:address,
                       cv:openingHours → time:TemporalEntity)
status                 adms:status → skos:Concept
valid_from / valid_to  dct:temporal → dct:PeriodOfTime (dcat:startDate/endDate)
version                owl:versionInfo
=====================  ==========================================================

What CPSV-AP has no property for is said in the platform's own terms
(``gs:``, namespace ``<site>/ns/govservice#``, described in RDFS — labels in
zh and en, domain and range — and served at ``/ns/govservice``; declared in
``cpsv_terms.yaml``, plus any ``gs:`` property a schema field names):
statutory and committed limits with their units, online stages, in-person
visits, process steps and their limits, special procedures, where a
service can be handled, the output's validity, the complaints phone, a rule's
article, a document's issuer and number of copies, and whether the government
already holds it. A reader finds them by their local
names under any site's ``/ns/govservice#``, so one platform can harvest another.

Identifiers and URIs. A service is ``<site>/id/service/<department>/<service
code>`` — the department's URL name (Open311's ``jurisdiction_id``) and the
code (``dct:identifier``, Open311's ``service_code``), neither of which changes
when a harvest updates the service; the platform answers that address with a
303 to the service page (or to its RDF with an RDF ``Accept``). The schema.org
JSON-LD on the page uses the same URI as its ``@id``.

Vocabulary values. Where an EU authority table has the value, it is used
itself: the currency (``…/authority/currency/CNY``) and the service's languages
(``…/authority/language/ZHO``, ``ENG``, as dct:LinguisticSystem). Every other
controlled value is a skos:Concept of the platform's vocabularies at
``<site>/vocabulary/<vocabulary>/<code>`` (served there, and the whole scheme at
``<site>/vocabulary/<vocabulary>``), with its code as skos:notation and its
labels from the schema, so readers need not parse URIs; where an EU or ADMS
concept is close, the concept says so with skos:exactMatch / closeMatch /
broadMatch (EU_MATCHES, from ``cpsv_terms.yaml``).

The catalogue. CPSV-AP hangs public services off a dcat:Dataset with
dct:hasPart: a service says it is part of its department's bulk catalogue
dataset (``<site>/dataset/<department>-service-catalogue``) and of the
platform's (``<site>/dataset/service-catalogue``), and those datasets (DCAT-AP 3,
with language-tagged titles and a publisher that is a CPSV-AP Agent) carry the
hasPart, so every page of ``/catalog.ttl`` validates on its own. The
dcat:Catalog lists each service as its ``dcat:resource`` (DCAT-AP keeps
``dcat:dataset`` for dcat:Datasets; ``rdf.catalog_show``), so the same page is
valid DCAT-AP 3.0.0 too (``core.dcat_ap``); a reader looking for services
follows dct:hasPart or dcat:resource.

Repeating things (documents, fees, channels, legal basis, steps) get URIs
``<service>#<kind>-<n>`` and identifiers ``<service_code>/<kind>/<n>`` — RDF
has no order, the number keeps it.

A department's feed (``parse_feed``) is Turtle or JSON-LD, told apart by its
first bytes. One that is neither, does not parse, fetches a remote JSON-LD
``@context`` (never fetched: inline it or send expanded JSON-LD), or holds no
``cpsv:PublicService`` at all raises ``FeedError``.
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, Iterable, NamedTuple
from urllib.parse import quote

import yaml
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, FOAF, OWL, RDF, RDFS, SKOS, TIME, XSD

from . import schema
from .rules import iso_duration
from .untrusted import Refused, excerpt, load_json, remote_context_references

TERMS_FILE = Path(__file__).with_name("cpsv_terms.yaml")


@functools.cache
def cpsv_terms() -> dict[str, Any]:
    """``cpsv_terms.yaml``: the structured fields, the ranges of standard properties,
    the platform's terms and the EU concepts ours match."""
    with open(TERMS_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)


CPSV = Namespace("http://purl.org/vocab/cpsv#")
CV = Namespace("http://data.europa.eu/m8g/")
ADMS = Namespace("http://www.w3.org/ns/adms#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
ORG = Namespace("http://www.w3.org/ns/org#")
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
EU_CURRENCY = EU_AUTHORITY + "currency/"
# The languages every service is described in (EU Language authority table).
LANGUAGES = {"zh": EU_AUTHORITY + "language/ZHO", "en": EU_AUTHORITY + "language/ENG"}
# Our concepts that an EU or ADMS concept matches: (vocabulary, code) → (SKOS
# mapping property, URI).
EU_MATCHES: dict[tuple[str, str], tuple[str, str]] = {
    (vocabulary, code): (match[0], match[1])
    for vocabulary, codes in cpsv_terms()["eu_matches"].items() for code, match in codes.items()}

NAMESPACES = {"cpsv": CPSV, "cv": CV, "dct": DCT, "adms": ADMS, "eli": ELI, "locn": LOCN,
              "org": ORG, "skos": SKOS, "time": TIME, "foaf": FOAF, "dcat": DCAT, "owl": OWL}

# ---------------------------------------------------------------- the platform's terms

TERMS_PATH = "/ns/govservice"


def terms_namespace(base: str) -> Namespace:
    """The platform's own terms, ``<site>/ns/govservice#`` (served there as RDFS)."""
    return Namespace(f"{base.rstrip('/')}{TERMS_PATH}#")


# name: (rdf:Property or rdfs:Class, domain, range, label zh, label en, comment),
# as cpsv_terms.yaml declares them.
TERMS: dict[str, tuple[str, str | None, str | None, str, str, str]] = {
    name: (t["kind"], t.get("domain"), t.get("range"), t["label"]["zh"], t["label"]["en"], t["comment"])
    for name, t in cpsv_terms()["terms"].items()}

ZH, EN = "zh", "en"
SCHEMA_LANG = {ZH: "zh_Hans_CN", EN: "en"}


def bind_namespaces(g: Graph, base: str | None = None) -> None:
    for prefix, ns in NAMESPACES.items():
        g.bind(prefix, ns, override=True, replace=True)
    if base:
        g.bind("gs", terms_namespace(base), override=True, replace=True)


def terms_graph(base: str) -> Graph:
    """The platform's terms as RDFS, for ``/ns/govservice``."""
    gs = terms_namespace(base)
    g = Graph()
    bind_namespaces(g, base)
    g.bind("rdfs", RDFS)
    g.bind("owl", OWL)
    ontology = URIRef(str(gs).rstrip("#"))
    g.add((ontology, RDF.type, OWL.Ontology))
    _text(g, ontology, DCT.title, "政务服务平台术语", "GovService platform terms")
    _text(g, ontology, DCT.description, None,
          "What a GovService public service says that CPSV-AP 3.2 has no property for.")

    def curie(text: str) -> URIRef:
        return _curie(text, gs)

    for name, (kind, domain, range_, zh, en, comment) in terms().items():
        term = gs[name]
        g.add((term, RDF.type, RDFS.Class if kind == "Class" else RDF.Property))
        g.add((term, RDFS.isDefinedBy, ontology))
        _text(g, term, RDFS.label, zh, en)
        _text(g, term, RDFS.comment, None, comment)
        if domain:
            g.add((term, RDFS.domain, curie(domain)))
        if range_:
            g.add((term, RDFS.range, curie(range_)))
    return g


def vocabulary_graph(base: str, vocabulary: str) -> Graph | None:
    """One platform vocabulary as a skos:ConceptScheme, for ``/vocabulary/<name>``:
    a schema vocabulary (the service's, the department's, or one only the basic item
    and document schemas declare), or one of cpsv_terms.yaml's ``concepts``."""
    f = _vocabulary_fields().get(vocabulary) or _other_vocabulary_fields().get(vocabulary)
    own = cpsv_terms().get("concepts", {}).get(vocabulary)
    if f is None and own is None:
        return None
    g = Graph()
    bind_namespaces(g, base)
    scheme = URIRef(f"{base.rstrip('/')}/vocabulary/{vocabulary}")
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    if f is not None:
        _text(g, scheme, DCT.title, schema.label(f, "zh_Hans_CN"), schema.label(f, "en"))
        codes = [c["value"] for c in schema.choices(f)]
    else:
        _text(g, scheme, DCT.title, None, vocabulary.replace("_", " "))
        codes = list(own)
    for code in codes:
        g.add((scheme, SKOS.hasTopConcept, _concept(g, base, vocabulary, code)))
    return g


# ---------------------------------------------------------------- vocabularies

_vocabulary_fields = schema.vocabulary_fields


def concept_uri(base: str, vocabulary: str, code: str) -> URIRef:
    return URIRef(f"{base.rstrip('/')}/vocabulary/{vocabulary}/{code}")


def _concept(g: Graph, base: str, vocabulary: str, code: str) -> URIRef:
    ref = concept_uri(base, vocabulary, code)
    g.add((ref, RDF.type, SKOS.Concept))
    g.add((ref, SKOS.notation, Literal(code)))
    g.add((ref, SKOS.inScheme, URIRef(f"{base.rstrip('/')}/vocabulary/{vocabulary}")))
    f = _vocabulary_fields().get(vocabulary) or _other_vocabulary_fields().get(vocabulary)
    own = cpsv_terms().get("concepts", {}).get(vocabulary, {}).get(code)
    if f is not None:
        for lang, schema_lang in SCHEMA_LANG.items():
            g.add((ref, SKOS.prefLabel, Literal(schema.choice_label(f, code, schema_lang), lang=lang)))
    elif own:
        _text(g, ref, SKOS.prefLabel, own["zh"], own["en"])
    match = EU_MATCHES.get((vocabulary, code))
    if match:
        g.add((ref, SKOS[match[0]], URIRef(match[1])))
    return ref


_vocabulary = schema.vocabulary


@schema.derived
def _other_vocabulary_fields() -> dict[str, dict[str, Any]]:
    """The vocabularies only the basic item and document schemas declare (government_holds,
    item_level), for their concepts' labels."""
    out: dict[str, dict[str, Any]] = {}
    for name in ("basic_item", "document"):
        for f in schema.load(name)["dataset_fields"]:
            if f.get("govservice_vocabulary") and f.get("choices"):
                out.setdefault(f["govservice_vocabulary"], f)
    return out


# ---------------------------------------------------------------- the declarative mapping

class Scalar(NamedTuple):
    """A field that is one property of the service (see ``scalar_mappings``)."""
    field: str
    predicate: str          # a CURIE: dct:title, gs:inPersonVisits
    lang: str | None        # "zh" / "en" for a language-tagged literal
    kind: str               # schema.field_kind
    vocabulary: str | None  # a coded field's vocabulary: its values are skos:Concepts
    datatype: str | None    # the literal's datatype where the property's range says so


@schema.derived
def scalar_mappings() -> list[Scalar]:
    """Every field whose ``cpsv:`` key in service.yaml is one property of the service,
    in schema order: all but the ``structured`` ones of cpsv_terms.yaml."""
    structured = cpsv_terms()["structured"]
    ranges = cpsv_terms()["ranges"]
    out = []
    for f in schema.service_fields():
        mapping = f.get("cpsv")
        if not mapping or f["field_name"] in structured:
            continue
        predicate, _, lang = mapping.partition("@")
        out.append(Scalar(f["field_name"], predicate, lang or None, schema.field_kind(f),
                          f.get("govservice_vocabulary"), ranges.get(predicate)))
    return out


def _curie(text: str, gs: Namespace) -> URIRef:
    prefix, _, local = text.partition(":")
    spaces = {**NAMESPACES, "gs": gs, "xsd": XSD, "rdf": RDF}
    return URIRef(str(spaces[prefix]) + local)


# What a platform term's values are, by the kind of the field it maps.
KIND_RANGES = {"integer": "xsd:integer", "number": "xsd:double", "boolean": "xsd:boolean",
               "date": "xsd:date", "url": "xsd:anyURI"}


def terms() -> dict[str, tuple[str, str | None, str | None, str, str, str]]:
    """The platform's terms: cpsv_terms.yaml's, and every ``gs:`` property a schema
    field maps to that it does not declare, described from the field."""
    out = dict(TERMS)
    for m in scalar_mappings():
        prefix, _, name = m.predicate.partition(":")
        if prefix != "gs" or name in out:
            continue
        f = schema.field(m.field)
        range_ = ("skos:Concept" if m.vocabulary else "rdf:langString" if m.lang
                  else m.datatype or KIND_RANGES.get(m.kind, "xsd:string"))
        out[name] = ("Property", "cpsv:PublicService", range_, schema.label(f, "zh_Hans_CN"),
                     schema.label(f, "en"), schema.text(f, "help_text", "en") or schema.label(f, "en"))
    return out


def _literal(m: Scalar, value: Any) -> Literal:
    if m.lang:
        return Literal(str(value), lang=m.lang)
    if m.datatype:
        return Literal(str(value), datatype=_curie(m.datatype, Namespace("")))
    if m.kind == "integer":
        return Literal(int(value))
    if m.kind == "number":
        return Literal(float(value))
    if m.kind == "boolean":
        return Literal(schema.parse_boolean(value))
    if m.kind == "date":
        return Literal(str(value), datatype=XSD.date)
    return Literal(str(value))


def _scalars(g: Graph, base: str, ref: URIRef, service: dict[str, Any]) -> None:
    """Write every scalar field of ``service`` (see ``scalar_mappings``)."""
    gs = terms_namespace(base)
    for m in scalar_mappings():
        value = service.get(m.field)
        if value in (None, "", []):
            continue
        predicate = _curie(m.predicate, gs)
        for one in value if isinstance(value, list) else [value]:
            g.add((ref, predicate, _concept(g, base, m.vocabulary, one) if m.vocabulary
                   else _literal(m, one)))


def _read_scalars(g: Graph, ref, gs: Namespace) -> dict[str, Any]:
    """Read every scalar field back (the inverse of ``_scalars``); None when absent."""
    out: dict[str, Any] = {}
    for m in scalar_mappings():
        predicate = _curie(m.predicate, gs)
        if m.vocabulary and m.kind == "list":
            out[m.field] = _codes(g, ref, predicate)
        elif m.vocabulary:
            out[m.field] = _code(g, g.value(ref, predicate))
        elif m.lang:
            out[m.field] = _lang(g, ref, predicate, m.lang)
        elif m.kind in ("integer", "number", "boolean"):
            out[m.field] = _value(g, ref, predicate)
        else:
            value = g.value(ref, predicate)
            out[m.field] = None if value is None else str(value)
    return out


# ---------------------------------------------------------------- writing

def _text(g: Graph, subject, predicate, zh: Any = None, en: Any = None) -> None:
    if zh not in (None, ""):
        g.add((subject, predicate, Literal(str(zh), lang=ZH)))
    if en not in (None, ""):
        g.add((subject, predicate, Literal(str(en), lang=EN)))


def _part(ref: URIRef, kind: str, n: int) -> URIRef:
    return URIRef(f"{str(ref).split('#')[0]}#{kind}-{n}")


def department_uri(base: str, department: dict[str, Any]) -> URIRef:
    """The department's URI: the one ckanext-dcat gives a dataset's publisher, so the
    competent authority and the publisher of its catalogue dataset are one node."""
    return URIRef(f"{base.rstrip('/')}/organization/{department.get('id') or department['name']}")


def department_identifier(department: dict[str, Any]) -> str:
    """The department's one dct:identifier: its unified social credit code, else its URL name."""
    return department.get("department_code") or department.get("name") or department.get("id") or ""


SERVICE_ID_PATH = "/id/service"


def service_uri(base: str, service: dict[str, Any], department: dict[str, Any] | None = None) -> URIRef:
    """``<site>/id/service/<department name>/<service code>``: stable across harvests
    and edits (neither part changes when a service is updated), and the same pair
    Open311 uses (``jurisdiction_id``, ``service_code``)."""
    department = department or service.get("organization") or {}
    owner = department.get("name") or service.get("owner_org") or ""
    return URIRef(f"{base.rstrip('/')}{SERVICE_ID_PATH}/{quote(owner, safe='')}/"
                  f"{quote(service['service_code'], safe='')}")


def catalogue_dataset_uris(base: str, department: dict[str, Any] | None) -> list[URIRef]:
    """The bulk catalogue datasets a service is part of: its department's and the platform's
    (names as catalogue_publish makes them; URIs as the govservice plugin gives them)."""
    names = ["service-catalogue"]
    if department and department.get("name"):
        names.insert(0, f"{department['name']}-service-catalogue")
    return [URIRef(f"{base.rstrip('/')}/dataset/{name}") for name in names]


def _department(g: Graph, base: str, department: dict[str, Any]) -> tuple[URIRef, Any]:
    ref = department_uri(base, department)
    g.add((ref, RDF.type, CV.PublicOrganisation))
    g.add((ref, RDF.type, ORG.Organization))  # what cv:ownedBy on a channel asks for
    _text(g, ref, SKOS.prefLabel, department.get("title") or department.get("name"),
          department.get("title_en"))
    if department.get("department_code"):
        g.add((ref, DCT.identifier, Literal(department_identifier(department))))
    if department.get("level"):
        g.add((ref, ORG.classification, _concept(g, base, "level", department["level"])))
    # CPSV-AP requires a spatial coverage for every public organisation.
    area_code = department.get("area_code")
    place = URIRef(f"{base.rstrip('/')}/area/{area_code}") if area_code else BNode()
    g.add((place, RDF.type, DCT.Location))
    if area_code:
        g.add((place, DCT.identifier, Literal(area_code)))
    _text(g, place, SKOS.prefLabel, department.get("area"))
    g.add((ref, DCT.spatial, place))
    return ref, place


def service_graph(g: Graph, service: dict[str, Any], ref: URIRef, base: str,
                  department: dict[str, Any] | None = None) -> URIRef:
    """Add one service (a ``package_show`` dict) to ``g`` as a cpsv:PublicService at ``ref``.

    ``base`` is the site URL (concept and department URIs hang off it);
    ``ref`` is normally ``service_uri(base, service, department)``;
    ``department`` is the ``organization_show`` dict of its owner (defaults to
    the summary in ``service["organization"]``, which lacks the English
    name and the area).
    """
    bind_namespaces(g, base)
    gs = terms_namespace(base)
    code = service["service_code"]
    g.add((ref, RDF.type, CPSV.PublicService))
    g.add((ref, DCT.identifier, Literal(code)))
    for language in LANGUAGES.values():
        g.add((ref, DCT.language, URIRef(language)))
        g.add((URIRef(language), RDF.type, DCT.LinguisticSystem))
    network = service.get("network") or {}
    if service.get("implementation_code"):
        identifier = BNode()
        g.add((ref, ADMS.identifier, identifier))
        g.add((identifier, RDF.type, ADMS.Identifier))
        g.add((identifier, SKOS.notation, Literal(service["implementation_code"])))
    if service.get("basic_code"):
        g.add((ref, CV.isClassifiedBy,
               basic_item_concept(g, base, {"basic_code": service["basic_code"],
                                            **(network.get("basic_item") or {})})))
    _scalars(g, base, ref, service)
    # dct:description is mandatory in CPSV-AP: the title stands in for a missing one.
    _text(g, ref, DCT.description, service.get("notes") or service.get("title"))
    if service.get("name"):
        page = URIRef(f"{base.rstrip('/')}/service/{service['name']}")
        g.add((ref, FOAF.page, page))
        g.add((page, RDF.type, FOAF.Document))

    # life events
    life_f = schema.field("life_events")
    for event in service.get("life_events") or []:
        node = concept_uri(base, _vocabulary("life_events"), event)
        _concept(g, base, _vocabulary("life_events"), event)
        g.add((node, RDF.type, CV.LifeEvent))
        g.add((node, RDF.type, CV.Event))  # cv:isGroupedBy's range, checked without inference
        g.add((node, DCT.identifier, Literal(event)))
        _text(g, node, DCT.title, schema.choice_label(life_f, event, "zh_Hans_CN"),
              schema.choice_label(life_f, event, "en"))
        g.add((ref, CV.isGroupedBy, node))

    # competent authority
    department = department or service.get("organization") or {}
    authority = None
    if department:
        authority, place = _department(g, base, department)
        g.add((ref, CV.hasCompetentAuthority, authority))
        g.add((ref, DCT.spatial, place))
    # the catalogue: CPSV-AP's Dataset has the service as a part (see the module docstring)
    for catalogue in catalogue_dataset_uris(base, department):
        g.add((catalogue, DCT.hasPart, ref))

    _participations(g, base, ref, code, service.get("co_departments") or [])
    _legal_basis(g, gs, ref, code, service.get("legal_basis") or [])
    _requirements_and_documents(g, base, ref, code, service)
    _intermediary_services(g, base, ref, code, service.get("intermediary_services") or [])
    _costs(g, ref, code, service.get("fees") or [])
    _channels(g, base, ref, code, service.get("channels") or [], authority)
    _service_centres(g, base, ref, service.get("service_centres") or [])

    # time limits (cv:processingTime, their ISO 8601 duration, is a scalar)
    for kind in ("statutory", "committed"):
        value = service.get(f"{kind}_limit")
        if value not in (None, ""):
            g.add((ref, gs[f"{kind}Limit"], Literal(int(value))))
            unit = service.get(f"{kind}_limit_unit") or "working_days"
            g.add((ref, gs[f"{kind}LimitUnit"], _concept(g, base, _vocabulary(f"{kind}_limit_unit"), unit)))

    # process steps, and special procedures (their time does not count toward the limit):
    # numbered nodes with a name, a description and a time limit each
    for field, part, prop, kind in (("process_steps", "step", gs.processStep, gs.ProcessStep),
                                    ("special_procedures", "special-procedure", gs.specialProcedure,
                                     gs.SpecialProcedure)):
        for n, row in enumerate(service.get(field) or [], 1):
            node = _part(ref, part, n)
            g.add((ref, prop, node))
            g.add((node, RDF.type, kind))
            g.add((node, gs.position, Literal(n)))
            _text(g, node, DCT.title, row.get("name"))
            _text(g, node, DCT.description, row.get("description"))
            _time_limit(g, base, node, row)

    # reminders: when the service becomes due (core.due)
    for n, row in enumerate(service.get("reminders") or [], 1):
        node = _part(ref, "reminder", n)
        g.add((ref, gs.reminder, node))
        g.add((node, RDF.type, gs.Reminder))
        g.add((node, gs.position, Literal(n)))
        for prop, sub, default in ((gs.trigger, "trigger", None), (gs.offsetUnit, "offset_unit", "days"),
                                   (gs.direction, "direction", "before")):
            if row.get(sub) or default:
                g.add((node, prop, _concept(g, base, _vocabulary("reminders", sub), row.get(sub) or default)))
        g.add((node, gs.offset, Literal(int(row.get("offset") or 0))))
        if row.get("renews_basic_code"):
            g.add((node, gs.renews, basic_item_uri(base, row["renews_basic_code"])))
        _text(g, node, gs.prepare, row.get("prepare"), row.get("prepare_en"))

    # output
    if any(service.get(k) not in (None, "") for k in (
            "output_type", "output_name", "output_validity", "output_sample_url")):
        node = _part(ref, "output", 1)
        g.add((ref, CPSV.produces, node))
        g.add((node, RDF.type, CV.Output))
        g.add((node, DCT.identifier, Literal(f"{code}/output/1")))
        if service.get("output_type"):
            g.add((node, DCT.type, _concept(g, base, _vocabulary("output_type"), service["output_type"])))
        # An output must have a name; the output type's label stands in.
        name = service.get("output_name") or (schema.choice_label(
            schema.field("output_type"), service["output_type"], "zh_Hans_CN") if service.get("output_type")
            else schema.label(schema.field("output_type"), "zh_Hans_CN"))
        _text(g, node, DCT.title, name)
        if service.get("output_validity") not in (None, ""):
            g.add((node, gs.outputValidity, Literal(int(service["output_validity"]))))
            g.add((node, gs.outputValidityUnit, _concept(
                g, base, _vocabulary("output_validity_unit"), service.get("output_validity_unit") or "years")))
        if service.get("output_sample_url"):
            sample = URIRef(service["output_sample_url"])
            g.add((node, FOAF.page, sample))
            g.add((sample, RDF.type, FOAF.Document))

    # contact
    for predicate, phone, kind in ((CV.contactPoint, service.get("contact_phone"), "contact"),
                                   (gs.complaintsContactPoint, service.get("complaint_phone"), "complaints")):
        if phone:
            node = _part(ref, kind, 1)
            g.add((ref, predicate, node))
            g.add((node, RDF.type, CV.ContactPoint))
            g.add((node, CV.telephone, Literal(phone)))
    _contact_points(g, base, ref, service.get("contact_points") or [])

    # validity
    if service.get("valid_from") or service.get("valid_to"):
        period = _part(ref, "validity", 1)
        g.add((ref, DCT.temporal, period))
        g.add((period, RDF.type, DCT.PeriodOfTime))
        if service.get("valid_from"):
            g.add((period, DCAT.startDate, Literal(service["valid_from"], datatype=XSD.date)))
        if service.get("valid_to"):
            g.add((period, DCAT.endDate, Literal(service["valid_to"], datatype=XSD.date)))
    return ref


def _legal_basis(g: Graph, gs: Namespace, ref: URIRef, code: str, rows: list[dict[str, Any]]) -> None:
    for n, row in enumerate(rows, 1):
        law = URIRef(row["url"]) if row.get("url") else _part(ref, "legal", n)
        g.add((law, RDF.type, ELI.LegalResource))
        _text(g, law, DCT.title, row.get("title"))
        g.add((ref, CV.hasLegalResource, law))
        rule = _part(ref, "rule", n)
        g.add((ref, CPSV.follows, rule))
        g.add((rule, RDF.type, CPSV.Rule))
        g.add((rule, DCT.identifier, Literal(f"{code}/rule/{n}")))
        _text(g, rule, DCT.title, row.get("title"))
        # A rule must have a description: the article, or the law itself.
        _text(g, rule, DCT.description, row.get("article") or row.get("title"))
        if row.get("article"):
            g.add((rule, gs.article, Literal(row["article"], lang=ZH)))
        g.add((rule, CPSV.implements, law))


def _time_limit(g: Graph, base: str, node, row: dict[str, Any]) -> None:
    """A process step's or special procedure's limit (gs:timeLimit) and its unit."""
    gs = terms_namespace(base)
    if row.get("time_limit") not in (None, ""):
        g.add((node, gs.timeLimit, Literal(int(row["time_limit"]))))
    if row.get("time_limit_unit"):
        g.add((node, gs.timeLimitUnit, _concept(g, base, _vocabulary("process_steps", "time_limit_unit"),
                                                row["time_limit_unit"])))


def _participations(g: Graph, base: str, ref: URIRef, code: str, rows: list[dict[str, Any]]) -> None:
    """Co-handling departments: a cv:Participation each, whose participant is the
    department as a foaf:Agent (named only: the platform may not know it)."""
    role = _concept(g, base, "participation_role", "co_handling")
    for n, row in enumerate(rows, 1):
        node = _part(ref, "participation", n)
        g.add((ref, CV.hasParticipation, node))
        g.add((node, RDF.type, CV.Participation))
        g.add((node, DCT.identifier, Literal(f"{code}/participation/{n}")))
        g.add((node, CV.role, role))
        # a participation must be described: the department's part, or its name
        _text(g, node, DCT.description, row.get("role") or row.get("name"))
        agent = _part(ref, f"participation-{n}-agent", 1)
        g.add((node, CV.hasParticipant, agent))
        g.add((agent, CV.participates, node))
        g.add((agent, RDF.type, FOAF.Agent))
        g.add((agent, FOAF.name, Literal(row.get("name") or "")))
        _text(g, agent, DCT.title, row.get("name"))
        g.add((agent, DCT.identifier, Literal(f"{code}/participation/{n}/agent")))


def _intermediary_services(g: Graph, base: str, ref: URIRef, code: str, rows: list[dict[str, Any]]) -> None:
    gs = terms_namespace(base)
    kind = _concept(g, base, "requirement_type", "intermediary_service")
    for n, row in enumerate(rows, 1):
        node = _part(ref, "intermediary", n)
        g.add((ref, CV.holdsRequirement, node))
        g.add((node, RDF.type, CV.Requirement))
        g.add((node, DCT.identifier, Literal(f"{code}/intermediary/{n}")))
        g.add((node, DCT.type, kind))
        _text(g, node, DCT.title, row.get("name"))
        _text(g, node, gs.provider, row.get("provider"))
        _text(g, node, gs.basis, row.get("legal_basis"))


def _contact_points(g: Graph, base: str, ref: URIRef, rows: list[dict[str, Any]]) -> None:
    """Enquiry and complaint contact points beyond a phone (cv:ContactPoint, with
    gs:contactPurpose: what tells them from contact_phone's)."""
    gs = terms_namespace(base)
    for n, row in enumerate(rows, 1):
        node = _part(ref, "contact-point", n)
        g.add((ref, CV.contactPoint, node))
        g.add((node, RDF.type, CV.ContactPoint))
        g.add((node, gs.contactPurpose, _concept(g, base, _vocabulary("contact_points", "purpose"),
                                                 row.get("purpose") or "enquiry")))
        _reach(g, ref, node, row, f"contact-point-{n}")
        _opening_hours(g, ref, node, row.get("opening_hours"), f"contact-point-{n}")


def _reach(g: Graph, ref: URIRef, contact: URIRef, row: dict[str, Any], part: str) -> None:
    """How a cv:ContactPoint is reached: telephone, email, web page, address (a
    channel's and an enquiry or complaint contact point's alike)."""
    if row.get("phone"):
        g.add((contact, CV.telephone, Literal(row["phone"])))
    if row.get("email"):
        g.add((contact, CV.email, Literal(row["email"])))
    if row.get("url"):
        page = URIRef(row["url"])
        g.add((contact, CV.contactPage, page))
        g.add((page, RDF.type, FOAF.Document))
    if row.get("address"):
        address = _part(ref, f"{part}-address", 1)
        g.add((contact, LOCN.address, address))
        g.add((address, RDF.type, LOCN.Address))
        _text(g, address, LOCN.fullAddress, row["address"])


def _opening_hours(g: Graph, ref: URIRef, node: URIRef, text: str | None, part: str) -> None:
    if text:
        hours = _part(ref, f"{part}-hours", 1)
        g.add((node, CV.openingHours, hours))
        g.add((hours, RDF.type, TIME.TemporalEntity))
        _text(g, hours, DCT.description, text)


# ---------------------------------------------------------------- the network's catalogues

ITEM_ID_PATH = "/id/item"
DOCUMENT_ID_PATH = "/id/document"
NOT_HELD = "no"


def basic_item_uri(base: str, basic_code: str) -> URIRef:
    return URIRef(f"{base.rstrip('/')}{ITEM_ID_PATH}/{quote(basic_code, safe='')}")


def document_type_uri(base: str, document_code: str) -> URIRef:
    return URIRef(f"{base.rstrip('/')}{DOCUMENT_ID_PATH}/{quote(document_code, safe='')}")


def basic_item_concept(g: Graph, base: str, item: dict[str, Any]) -> URIRef:
    """A basic item (a basic_item dataset, or the ``network.basic_item`` summary of a
    service, or only ``{"basic_code": …}``) as a skos:Concept of the basic catalogue's
    scheme, ``<site>/id/item``. Its labels are its titles, the code when none is known."""
    bind_namespaces(g, base)
    gs = terms_namespace(base)
    code = item["basic_code"]
    ref = basic_item_uri(base, code)
    scheme = URIRef(f"{base.rstrip('/')}{ITEM_ID_PATH}")
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    _text(g, scheme, DCT.title, "基本目录", "Basic catalogue")
    g.add((ref, RDF.type, SKOS.Concept))
    g.add((ref, RDF.type, gs.BasicItem))
    g.add((ref, SKOS.inScheme, scheme))
    g.add((ref, SKOS.notation, Literal(code)))
    if item.get("type") == "basic_item":   # the catalogue's own entry: basic_item.yaml's cpsv keys
        g.add((ref, DCT.identifier, Literal(code)))
        _text(g, ref, DCT.title, item.get("title"), item.get("title_en"))
        _text(g, ref, DCT.description, item.get("notes"))
    # its titles; the code (untagged) until they are known, DCAT-AP wanting a label
    # on every concept, and never beside them (one prefLabel a language)
    if item.get("title"):
        g.remove((ref, SKOS.prefLabel, Literal(code)))
        _text(g, ref, SKOS.prefLabel, item["title"], item.get("title_en"))
    elif (ref, SKOS.prefLabel, None) not in g:
        g.add((ref, SKOS.prefLabel, Literal(code)))
    _text(g, ref, SKOS.definition, item.get("notes"))
    if item.get("service_type"):
        g.add((ref, DCT.type, _concept(g, base, "service_type", item["service_type"])))
    if item.get("status"):
        g.add((ref, ADMS.status, _concept(g, base, "status", item["status"])))
    if item.get("name") and item.get("type") == "basic_item":
        page = URIRef(f"{base.rstrip('/')}/item/{quote(code, safe='')}")
        g.add((ref, FOAF.page, page))
        g.add((page, RDF.type, FOAF.Document))
    return ref


def document_type(g: Graph, base: str, document: dict[str, Any]) -> URIRef:
    """A document of the catalogue (a document dataset, or a service's matched document
    from ``network.documents``) as a cv:EvidenceType at ``<site>/id/document/<code>``:
    its one dct:identifier the code, its names, and what the government holds."""
    bind_namespaces(g, base)
    gs = terms_namespace(base)
    code = document.get("document_code") or document["code"]
    ref = document_type_uri(base, code)
    g.add((ref, RDF.type, CV.EvidenceType))
    if (ref, DCT.identifier, None) not in g:
        g.add((ref, DCT.identifier, Literal(code)))
    if (ref, DCT.title, None) not in g:
        _text(g, ref, DCT.title, document.get("title"), document.get("title_en"))
    for alias in document.get("aliases") or []:
        g.add((ref, SKOS.altLabel, Literal(alias, lang=ZH)))
    _text(g, ref, DCT.description, document.get("notes"))
    if document.get("issuing_authority"):
        # dct:publisher (document.yaml's cpsv key) is an Agent: the issuer, named
        _text(g, ref, gs.issuingAuthority, document["issuing_authority"])
        issuer = URIRef(f"{ref}#issuer")
        g.add((ref, DCT.publisher, issuer))
        g.add((issuer, RDF.type, FOAF.Agent))
        g.add((issuer, FOAF.name, Literal(document["issuing_authority"])))
        _text(g, issuer, DCT.title, document["issuing_authority"])
        if (issuer, DCT.identifier, None) not in g:
            g.add((issuer, DCT.identifier, Literal(document["issuing_authority"])))
    held = document.get("government_holds")
    if held and (ref, gs.governmentHolds, None) not in g:
        g.add((ref, gs.governmentHolds, _concept(g, base, "government_holds", held)))
    if document.get("type") == "document":
        page = URIRef(f"{base.rstrip('/')}/document/{quote(code, safe='')}")
        g.add((ref, FOAF.page, page))
        g.add((page, RDF.type, FOAF.Document))
    return ref


def catalogue_entry_graph(g: Graph, entry: dict[str, Any], base: str) -> URIRef | None:
    """A basic_item or document dataset (package_show) for ``/catalog.ttl``: the basic
    item as its concept, the document as its evidence type; None for other types."""
    if entry.get("type") == "basic_item" and entry.get("basic_code"):
        return basic_item_concept(g, base, entry)
    if entry.get("type") == "document" and entry.get("document_code"):
        return document_type(g, base, entry)
    return None


def _requirements_and_documents(g: Graph, base: str, ref: URIRef, code: str,
                                service: dict[str, Any]) -> None:
    gs = terms_namespace(base)
    documents = service.get("documents") or []
    matched = {d.get("index"): d for d in (service.get("network") or {}).get("documents") or []
               if isinstance(d, dict)}
    requirement = None
    if service.get("eligibility") or service.get("eligibility_en") or any(
            d.get("mandatory") for d in documents):
        requirement = _part(ref, "requirement", 1)
        g.add((ref, CV.holdsRequirement, requirement))
        g.add((requirement, RDF.type, CV.Requirement))
        g.add((requirement, DCT.identifier, Literal(f"{code}/requirement/1")))
        f = schema.field("eligibility")
        _text(g, requirement, DCT.title, schema.label(f, "zh_Hans_CN"), "Who may apply")
        _text(g, requirement, DCT.description, service.get("eligibility"), service.get("eligibility_en"))
    for n, doc in enumerate(documents, 1):
        node = _part(ref, "document", n)
        g.add((ref, CPSV.hasInput, node))
        g.add((node, RDF.type, CV.Evidence))
        g.add((node, DCT.identifier, Literal(doc.get("code") or f"{code}/document/{n}")))
        _text(g, node, DCT.title, doc.get("name"), doc.get("name_en"))
        found = matched.get(n - 1) or {}
        catalogue_code = found.get("code") or doc.get("code")
        if catalogue_code:
            g.add((node, DCT.conformsTo, document_type(g, base, {
                "code": catalogue_code, "title": found.get("title") or doc.get("name"),
                "government_holds": found.get("government_holds")})))
        if found.get("government_holds") not in (None, "", NOT_HELD):
            g.add((node, gs.noNeedToBring, Literal(True)))
        if doc.get("form"):
            g.add((node, DCT.type, _concept(g, base, _vocabulary("documents", "form"), doc["form"])))
        if doc.get("issued_by"):
            g.add((node, gs.issuedBy, _concept(g, base, _vocabulary("documents", "issued_by"), doc["issued_by"])))
        if doc.get("copies") not in (None, ""):
            g.add((node, gs.copies, Literal(int(doc["copies"]))))
        if doc.get("mandatory") and requirement is not None:
            g.add((requirement, CV.hasSupportingEvidence, node))
            g.add((node, CV.supportsRequirement, requirement))


def _costs(g: Graph, ref: URIRef, code: str, fees: list[dict[str, Any]]) -> None:
    for n, fee in enumerate(fees, 1):
        node = _part(ref, "fee", n)
        g.add((ref, CV.hasCost, node))
        g.add((node, RDF.type, CV.Cost))
        g.add((node, DCT.identifier, Literal(f"{code}/fee/{n}")))
        _text(g, node, DCT.title, fee.get("name"))
        if fee.get("amount") not in (None, ""):
            g.add((node, CV.hasValue, Literal(float(fee["amount"]), datatype=XSD.double)))
        currency = URIRef(EU_CURRENCY + (fee.get("currency") or "CNY"))
        g.add((currency, RDF.type, SKOS.Concept))
        g.add((currency, SKOS.notation, Literal(fee.get("currency") or "CNY")))
        # DCAT-AP's shapes want a label on every skos:Concept in the graph
        currency_field = schema.subfield("fees", "currency")
        _text(g, currency, SKOS.prefLabel,
              *(schema.choice_label(currency_field, fee.get("currency") or "CNY", SCHEMA_LANG[lang])
                for lang in (ZH, EN)))
        g.add((node, CV.currency, currency))
        _text(g, node, DCT.description, fee.get("basis"))


def _channels(g: Graph, base: str, ref: URIRef, code: str, channels: list[dict[str, Any]],
              authority: URIRef | None) -> None:
    for n, ch in enumerate(channels, 1):
        node = _part(ref, "channel", n)
        g.add((ref, CV.hasChannel, node))
        g.add((node, RDF.type, CV.Channel))
        g.add((node, DCT.identifier, Literal(f"{code}/channel/{n}")))
        if ch.get("channel_type"):
            g.add((node, DCT.type, _concept(g, base, _vocabulary("channels", "channel_type"), ch["channel_type"])))
        _text(g, node, DCT.title, ch.get("name"))
        if authority is not None:
            g.add((node, CV.ownedBy, authority))
        _opening_hours(g, ref, node, ch.get("opening_hours"), f"channel-{n}")
        if ch.get("url") or ch.get("phone") or ch.get("address"):
            contact = _part(ref, f"channel-{n}-contact", 1)
            g.add((node, CV.contactPoint, contact))
            g.add((contact, RDF.type, CV.ContactPoint))
            _reach(g, ref, contact, {k: ch.get(k) for k in ("phone", "url", "address")}, f"channel-{n}")


CENTRE_PATH = "/centre"


def centre_uri(base: str, centre_code: str) -> URIRef:
    """A service centre's URI: its page, /centre/<code>."""
    return URIRef(f"{base.rstrip('/')}{CENTRE_PATH}/{quote(centre_code, safe='')}")


def _is_centre(node) -> bool:
    return isinstance(node, URIRef) and re.search(rf"{CENTRE_PATH}/[^/#]+$", str(node)) is not None


def _service_centres(g: Graph, base: str, ref: URIRef, centres: list[dict[str, Any]]) -> None:
    """The service centres handling the service (derived from their counters): each a
    physical channel of its own, one node however many services it handles."""
    for centre in centres:
        if not isinstance(centre, dict) or not centre.get("centre_code"):
            continue
        node = centre_uri(base, centre["centre_code"])
        g.add((ref, CV.hasChannel, node))
        g.add((node, RDF.type, CV.Channel))
        g.add((node, DCT.identifier, Literal(centre["centre_code"])))
        g.add((node, DCT.type, _concept(g, base, _vocabulary("channels", "channel_type"), "in_person")))
        _text(g, node, DCT.title, centre.get("title"), centre.get("title_en"))
        _opening_hours(g, node, node, centre.get("opening_hours"), "centre")
        contact = _part(node, "centre-contact", 1)
        g.add((node, CV.contactPoint, contact))
        g.add((contact, RDF.type, CV.ContactPoint))
        _reach(g, node, contact, {"phone": centre.get("phone"), "address": centre.get("address"),
                                  "url": str(node)}, "centre")


# ---------------------------------------------------------------- reading

def _lang(g: Graph, subject, predicate, lang: str) -> str | None:
    fallback = None
    for o in g.objects(subject, predicate):
        if isinstance(o, Literal):
            if o.language and o.language.lower().split("-")[0] == lang:
                return str(o)
            if lang == ZH and not o.language and fallback is None:
                fallback = str(o)
    return fallback


def _code(g: Graph, concept) -> str | None:
    if concept is None:
        return None
    notation = g.value(concept, SKOS.notation)
    if notation is not None:
        return str(notation)
    return re.split(r"[/#]", str(concept).rstrip("/"))[-1]


def _codes(g: Graph, subject, predicate) -> list[str]:
    return sorted(c for c in (_code(g, o) for o in g.objects(subject, predicate)) if c)


def _numbered(g: Graph, subject, predicate, gs: Namespace | None = None) -> list:
    """The objects in the order their identifiers (…/<kind>/<n>) or URIs (…-<n>) number them."""
    def number(node):
        # ours: <service>#<kind>-<n>; anyone's: a numbered identifier or position
        m = re.search(r"#[a-z-]+-(\d+)$", str(node)) if isinstance(node, URIRef) else None
        if m is None:
            ident = g.value(node, DCT.identifier) or (gs is not None and g.value(node, gs.position)) or node
            m = re.search(r"(\d+)$", str(ident))
        return (int(m.group(1)) if m else 0, str(node))
    return sorted(g.objects(subject, predicate), key=number)


def _value(g: Graph, subject, predicate) -> Any:
    v = g.value(subject, predicate)
    return v.toPython() if isinstance(v, Literal) else v


TERMS_IN_ANY_SITE = re.compile(r"^(.*" + re.escape(TERMS_PATH) + "#)")


def terms_in(g: Graph) -> Namespace:
    """The platform-terms namespace a graph uses (whichever site wrote it)."""
    for predicate in g.predicates(unique=True):
        m = TERMS_IN_ANY_SITE.match(str(predicate))
        if m:
            return Namespace(m.group(1))
    return terms_namespace("http://invalid")  # no platform terms: none will match


def services_from_cpsv(graph: Graph) -> list[dict[str, Any]]:
    """Read every cpsv:PublicService in ``graph`` back into service field values.

    The inverse of ``service_graph`` for our own output, and a best effort on
    anyone else's CPSV-AP: values we cannot place are left out, never guessed.
    Each dict has the service fields (``service_code``, ``title``,
    ``channels``…), ``uri`` (the service's subject) and ``department`` with ``title``, ``title_en``, ``area``,
    ``area_code``, ``department_code``, ``level`` of the competent authority.
    Services come sorted by service code.
    """
    g = graph
    gs = terms_in(g)
    out = []
    for ref in g.subjects(RDF.type, CPSV.PublicService):
        s: dict[str, Any] = {"service_code": str(g.value(ref, DCT.identifier) or ""), "uri": str(ref)}
        identifier = g.value(ref, ADMS.identifier)
        if identifier is not None:
            s["implementation_code"] = str(g.value(identifier, SKOS.notation) or identifier)
        for concept in g.objects(ref, CV.isClassifiedBy):
            scheme = g.value(concept, SKOS.inScheme)
            if (concept, RDF.type, gs.BasicItem) in g or str(scheme or "").endswith(ITEM_ID_PATH):
                s["basic_code"] = _code(g, concept)
        s["co_departments"] = []
        for participation in _numbered(g, ref, CV.hasParticipation):
            agent = g.value(participation, CV.hasParticipant)
            name = agent is not None and (_lang(g, agent, DCT.title, ZH) or _value(g, agent, FOAF.name))
            part = _lang(g, participation, DCT.description, ZH)
            row = {"name": name or part}
            if part and part != row["name"]:   # the name stands in for a part not given
                row["role"] = part
            s["co_departments"].append(row)
        s.update(_read_scalars(g, ref, gs))
        s["notes"] = _lang(g, ref, DCT.description, ZH)
        page = g.value(ref, FOAF.page)
        if page is not None and "/service/" in str(page):
            s["name"] = str(page).rsplit("/service/", 1)[1]
        s["life_events"] = sorted(str(g.value(e, DCT.identifier) or _code(g, e))
                                  for e in g.objects(ref, CV.isGroupedBy))

        authority = g.value(ref, CV.hasCompetentAuthority)
        if authority is not None:
            place = g.value(authority, DCT.spatial)
            s["department"] = {
                "title": _lang(g, authority, SKOS.prefLabel, ZH),
                "title_en": _lang(g, authority, SKOS.prefLabel, EN),
                "department_code": _value(g, authority, DCT.identifier),
                "level": _code(g, g.value(authority, ORG.classification)),
                "area": _lang(g, place, SKOS.prefLabel, ZH) if place is not None else None,
                "area_code": _value(g, place, DCT.identifier) if place is not None else None,
            }

        s["legal_basis"] = []
        for rule in _numbered(g, ref, CPSV.follows):
            law = g.value(rule, CPSV.implements)
            row = {"title": _lang(g, rule, DCT.title, ZH) or (law and _lang(g, law, DCT.title, ZH))}
            article = g.value(rule, gs.article)
            if article is not None:
                row["article"] = str(article)
            if isinstance(law, URIRef) and "#legal-" not in str(law):
                row["url"] = str(law)
            s["legal_basis"].append(row)
        if not s["legal_basis"]:  # someone else's CPSV-AP: legal resources without rules
            for law in _numbered(g, ref, CV.hasLegalResource):
                row = {"title": _lang(g, law, DCT.title, ZH)}
                if isinstance(law, URIRef):
                    row["url"] = str(law)
                s["legal_basis"].append(row)

        intermediary = set(_intermediaries(g, ref))
        requirements = [r for r in _numbered(g, ref, CV.holdsRequirement) if r not in intermediary]
        for req in requirements[:1]:
            s["eligibility"] = _lang(g, req, DCT.description, ZH)
            s["eligibility_en"] = _lang(g, req, DCT.description, EN)
        s["intermediary_services"] = [
            {k: v for k, v in {"name": _lang(g, req, DCT.title, ZH), "provider": _lang(g, req, gs.provider, ZH),
                               "legal_basis": _lang(g, req, gs.basis, ZH)}.items() if v is not None}
            for req in _numbered(g, ref, CV.holdsRequirement) if req in intermediary]
        s["documents"] = []
        for doc in _numbered(g, ref, CPSV.hasInput):
            row = {"code": _document_code(g, doc),
                   "name": _lang(g, doc, DCT.title, ZH), "name_en": _lang(g, doc, DCT.title, EN),
                   "mandatory": any(True for _ in g.objects(doc, CV.supportsRequirement))
                   or any((r, CV.hasSupportingEvidence, doc) in g for r in requirements),
                   "form": _code(g, g.value(doc, DCT.type)),
                   "issued_by": _code(g, g.value(doc, gs.issuedBy))}
            if g.value(doc, gs.copies) is not None:
                row["copies"] = _value(g, doc, gs.copies)
            s["documents"].append({k: v for k, v in row.items() if v is not None})

        s["fees"] = []
        for cost in _numbered(g, ref, CV.hasCost):
            s["fees"].append({"name": _lang(g, cost, DCT.title, ZH) or _lang(g, cost, DCT.description, ZH),
                              "amount": _value(g, cost, CV.hasValue),
                              "currency": _code(g, g.value(cost, CV.currency)),
                              "basis": _lang(g, cost, DCT.description, ZH)})
            s["fees"][-1] = {k: v for k, v in s["fees"][-1].items() if v is not None}

        s["channels"] = []
        for ch in _numbered(g, ref, CV.hasChannel):
            if _is_centre(ch):    # a service centre: derived from the centre's counters, not the service's
                continue
            row = {"channel_type": _code(g, g.value(ch, DCT.type)), "name": _lang(g, ch, DCT.title, ZH)}
            hours = g.value(ch, CV.openingHours)
            if hours is not None:
                row["opening_hours"] = _lang(g, hours, DCT.description, ZH)
            contact = g.value(ch, CV.contactPoint)
            if contact is not None:
                if g.value(contact, CV.contactPage) is not None:
                    row["url"] = str(g.value(contact, CV.contactPage))
                if g.value(contact, CV.telephone) is not None:
                    row["phone"] = str(g.value(contact, CV.telephone))
                address = g.value(contact, LOCN.address)
                if address is not None:
                    row["address"] = _lang(g, address, LOCN.fullAddress, ZH)
            s["channels"].append({k: v for k, v in row.items() if v is not None})

        for kind in ("statutory", "committed"):
            if g.value(ref, gs[f"{kind}Limit"]) is not None:
                s[f"{kind}_limit"] = _value(g, ref, gs[f"{kind}Limit"])
                s[f"{kind}_limit_unit"] = _code(g, g.value(ref, gs[f"{kind}LimitUnit"]))
        s["process_steps"] = [_step(g, gs, st) for st in _numbered(g, ref, gs.processStep, gs)]
        s["special_procedures"] = [_step(g, gs, p) for p in _numbered(g, ref, gs.specialProcedure, gs)]
        s["reminders"] = [_reminder(g, gs, r) for r in _numbered(g, ref, gs.reminder, gs)]

        output = g.value(ref, CPSV.produces)
        if output is not None:
            s["output_type"] = _code(g, g.value(output, DCT.type))
            s["output_name"] = _lang(g, output, DCT.title, ZH)
            if g.value(output, gs.outputValidity) is not None:
                s["output_validity"] = _value(g, output, gs.outputValidity)
                s["output_validity_unit"] = _code(g, g.value(output, gs.outputValidityUnit))
            if g.value(output, FOAF.page) is not None:
                s["output_sample_url"] = str(g.value(output, FOAF.page))
        points = _numbered(g, ref, CV.contactPoint)
        for key, candidates in (("contact_phone", [c for c in points if g.value(c, gs.contactPurpose) is None]),
                                ("complaint_phone", list(g.objects(ref, gs.complaintsContactPoint)))):
            for contact in candidates:
                if g.value(contact, CV.telephone) is not None:
                    s[key] = str(g.value(contact, CV.telephone))
                    break
        s["contact_points"] = [_contact_point(g, gs, c) for c in points
                               if g.value(c, gs.contactPurpose) is not None]
        period = g.value(ref, DCT.temporal)
        if period is not None:
            for key, predicate in (("valid_from", DCAT.startDate), ("valid_to", DCAT.endDate)):
                if g.value(period, predicate) is not None:
                    s[key] = str(g.value(period, predicate))
        out.append({k: v for k, v in s.items() if v is not None})
    return sorted(out, key=lambda s: s["service_code"])


def _intermediaries(g: Graph, ref) -> list:
    """The service's requirements that are intermediary services (by their dct:type)."""
    return [r for r in g.objects(ref, CV.holdsRequirement)
            if _code(g, g.value(r, DCT.type)) == "intermediary_service"]


def _document_code(g: Graph, doc) -> str | None:
    """A document's catalogue code: its identifier when it is that of an evidence type
    it conforms to (an identifier alone may be anything: not guessed)."""
    identifier = g.value(doc, DCT.identifier)
    if identifier is None:
        return None
    for kind in g.objects(doc, DCT.conformsTo):
        if g.value(kind, DCT.identifier) == identifier:
            return str(identifier)
    return None


def _step(g: Graph, gs: Namespace, node) -> dict[str, Any]:
    """A process step or special procedure: name, description, time limit and unit."""
    row = {"name": _lang(g, node, DCT.title, ZH), "description": _lang(g, node, DCT.description, ZH),
           "time_limit": _value(g, node, gs.timeLimit), "time_limit_unit": _code(g, g.value(node, gs.timeLimitUnit))}
    return {k: v for k, v in row.items() if v is not None}


def _reminder(g: Graph, gs: Namespace, node) -> dict[str, Any]:
    """A reminder: trigger, offset with its unit and direction, what it renews, what to prepare."""
    renews = g.value(node, gs.renews)
    row = {"trigger": _code(g, g.value(node, gs.trigger)), "offset": _value(g, node, gs.offset),
           "offset_unit": _code(g, g.value(node, gs.offsetUnit)),
           "direction": _code(g, g.value(node, gs.direction)),
           "renews_basic_code": _code(g, renews) if renews is not None else None,
           "prepare": _lang(g, node, gs.prepare, ZH), "prepare_en": _lang(g, node, gs.prepare, EN)}
    return {k: v for k, v in row.items() if v is not None}


def _contact_point(g: Graph, gs: Namespace, node) -> dict[str, Any]:
    row = {"purpose": _code(g, g.value(node, gs.contactPurpose)), "phone": _value(g, node, CV.telephone),
           "email": _value(g, node, CV.email)}
    if g.value(node, CV.contactPage) is not None:
        row["url"] = str(g.value(node, CV.contactPage))
    address = g.value(node, LOCN.address)
    if address is not None:
        row["address"] = _lang(g, address, LOCN.fullAddress, ZH)
    hours = g.value(node, CV.openingHours)
    if hours is not None:
        row["opening_hours"] = _lang(g, hours, DCT.description, ZH)
    return {k: (str(v) if k in ("phone", "email") else v) for k, v in row.items() if v is not None}


def services_to_graph(services: Iterable[tuple[dict[str, Any], dict[str, Any] | None]],
                      base: str) -> Graph:
    """A graph of several services, each given as (package_show dict, department dict)."""
    g = Graph()
    bind_namespaces(g, base)
    for service, department in services:
        service_graph(g, service, service_uri(base, service, department), base, department)
    return g


# ---------------------------------------------------------------- the feed example

EXAMPLE_BASE = "https://govservice.example.gov.cn"
EXAMPLE_DEPARTMENT = {"id": "market-regulation", "name": "market-regulation", "title": "滨江市市场监督管理局",
                      "title_en": "Binjiang Market Regulation Bureau", "level": "city", "area": "滨江市",
                      "area_code": "330100", "department_code": "11330100MB0000000X"}
EXAMPLE_SERVICE: dict[str, Any] = {
    "service_code": "SC-0001", "basic_code": "BI-0101", "implementation_code": "330100-SC-0001",
    "version": "2.1",
    "title": "企业营业执照核发", "title_en": "Business licence issuance",
    "notes": "为新设立的企业办理设立登记并核发营业执照。",
    "notes_en": "Registers a new company and issues its business licence.",
    "service_type": "administrative_licence", "themes": ["business"],
    "life_events": ["starting_a_business", "opening_a_restaurant"], "audience": "business",
    "legal_basis": [{"title": "中华人民共和国市场主体登记管理条例", "article": "第三条",
                     "url": "https://www.gov.cn/zhengce/content/2021-08/24/content_5632964.htm"}],
    "co_departments": [{"name": "滨江市税务局", "role": "同步办理税务登记"}],
    "eligibility": "依法设立的企业", "eligibility_en": "A lawfully established company",
    "documents": [
        {"name": "公司登记（备案）申请书", "name_en": "Registration application form", "mandatory": True,
         "form": "electronic", "issued_by": "applicant", "copies": 1},
        {"code": "DOC-ID-CARD", "name": "居民身份证", "name_en": "Resident ID card", "mandatory": True,
         "form": "original", "issued_by": "government", "copies": 1},
        {"name": "住所使用证明", "name_en": "Proof of premises", "mandatory": False, "form": "copy",
         "issued_by": "applicant", "copies": 1}],
    "intermediary_services": [{"name": "名称预先核准咨询", "provider": "依法设立的代理机构",
                               "legal_basis": "企业名称登记管理规定"}],
    "process_steps": [{"name": "申请", "description": "网上或窗口提交材料", "time_limit": 0,
                       "time_limit_unit": "working_days"},
                      {"name": "受理审查", "description": "当场核对材料", "time_limit": 1,
                       "time_limit_unit": "working_days"},
                      {"name": "发证", "description": "核发营业执照", "time_limit": 2, "time_limit_unit": "hours"}],
    "special_procedures": [{"name": "现场核查", "time_limit": 5, "time_limit_unit": "working_days",
                            "description": "对经营场所进行现场核查"}],
    "statutory_limit": 15, "statutory_limit_unit": "working_days",
    "committed_limit": 1, "committed_limit_unit": "working_days",
    "fees": [{"name": "营业执照副本补领工本费", "amount": 10.0, "currency": "CNY", "basis": "滨价费〔2020〕1号"}],
    "channels": [
        {"channel_type": "online", "name": "浙里办", "url": "https://zwfw.example.gov.cn/yyzz"},
        {"channel_type": "in_person", "name": "市民服务中心", "address": "滨江市江南大道1号",
         "opening_hours": "周一至周五 9:00-17:00", "phone": "0571-12345"}],
    "online_depth": ["registration", "authentication", "application", "decision", "issuance"],
    "handling_scope": "citywide",
    "in_person_visits": 0, "output_type": "licence", "output_name": "营业执照",
    "output_validity": 5, "output_validity_unit": "years",
    "reminders": [{"trigger": "output_expiry", "offset": 90, "offset_unit": "days", "direction": "before",
                   "prepare": "营业执照正本和副本", "prepare_en": "The business licence, original and copy"},
                  {"trigger": "annual_report_date", "offset": 0, "offset_unit": "days", "direction": "before",
                   "prepare": "上一年度财务报表", "prepare_en": "Last year's accounts"}],
    "output_sample_url": "https://zwfw.example.gov.cn/samples/yyzz.pdf",
    "contact_phone": "0571-12345", "complaint_phone": "12345",
    "contact_points": [
        {"purpose": "enquiry", "phone": "0571-12345", "email": "zixun@scjg.example.gov.cn",
         "url": "https://zwfw.example.gov.cn/zixun", "address": "滨江市江南大道1号",
         "opening_hours": "周一至周五 9:00-17:00"},
        {"purpose": "complaint", "phone": "12345", "email": "tousu@example.gov.cn"}],
    "status": "active",
    "valid_from": "2024-01-01", "valid_to": "2030-12-31",
}


def example_feed(fmt: str = "turtle") -> str:
    """datasets/formats/cpsv-ap-example.ttl: one service with every field, as the platform
    writes it (a test keeps the file equal to this and valid against the shapes)."""
    service = {**EXAMPLE_SERVICE, "processing_time": iso_duration(
        EXAMPLE_SERVICE["committed_limit"], EXAMPLE_SERVICE["committed_limit_unit"])}
    return services_to_graph([(service, EXAMPLE_DEPARTMENT)], EXAMPLE_BASE).serialize(format=fmt)


# ---------------------------------------------------------------- a department's feed

class FeedError(ValueError):
    """The body is not a CPSV-AP feed; the message says why."""


def detect(head: bytes) -> str:
    """``json-ld`` or ``turtle`` from the first bytes of the body."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        return "json-ld"
    if text[:1] == b"<" and not text.startswith((b"<http", b"<urn:")):
        raise FeedError("this looks like XML (RDF/XML or HTML): a CPSV-AP feed is Turtle or JSON-LD")
    return "turtle"


def parse_feed(data: bytes) -> Graph:
    """The feed's graph. Raises FeedError when it is not Turtle or JSON-LD RDF.

    Nothing is fetched: rdflib's JSON-LD parser would fetch every context a
    document names (its own, a node's, a term's scoped context, an ``@import``),
    so a JSON-LD feed naming any is refused before rdflib sees it, as is one
    nested deeper than a feed needs. Errors quote the body only as a short
    escaped excerpt."""
    fmt = detect(data[:1024])
    where = "JSON-LD" if fmt == "json-ld" else "Turtle"
    g = Graph()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FeedError(f"the feed is not UTF-8 (byte {e.start}: {e.reason}); "
                        "Turtle and JSON-LD are UTF-8") from None
    try:
        if fmt == "json-ld":
            remote = remote_context_references(load_json(text, "the JSON-LD"))
            if remote:
                raise FeedError(f"the feed names a JSON-LD context to fetch ({excerpt(remote[0], 200)}), "
                                "which the harvester does not fetch: inline the context, or send Turtle")
        g.parse(data=text, format=fmt)
    except FeedError:
        raise
    except Refused as e:
        raise FeedError(str(e)) from None
    except Exception as e:   # rdflib's parsers raise many kinds, some quoting the body
        raise FeedError(f"the feed is not valid {where}: {type(e).__name__}: {excerpt(e, 300)}") from None
    if (None, RDF.type, CPSV.PublicService) not in g:
        raise FeedError("the feed has no cpsv:PublicService: is the address that of a CPSV-AP feed?")
    return g
