"""Services as CPSV-AP 3.2 RDF (cpsv:PublicService), and back.

The mapping, field by field (the ``cpsv:`` key of each field in
schemas/service.yaml names the property; this module is where it is made):

=====================  ==========================================================
service field          CPSV-AP 3.2
=====================  ==========================================================
service_code           dct:identifier (exactly one)
local_code             adms:identifier → adms:Identifier (skos:notation)
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
legal_basis            cv:hasLegalResource → eli:LegalResource (its URI is the
                       link to the text when there is one), and cpsv:follows →
                       cpsv:Rule (title = the law, description = the article,
                       cpsv:implements → the legal resource)
eligibility(_en)       cv:holdsRequirement → cv:Requirement (dct:description)
documents              cpsv:hasInput → cv:Evidence (dct:title @zh/@en, dct:type =
                       form); a mandatory document is the requirement's
                       cv:hasSupportingEvidence (and cv:supportsRequirement it)
committed limit        cv:processingTime "P7D"^^xsd:duration (processing_time)
fees                   cv:hasCost → cv:Cost (cv:hasValue xsd:double, cv:currency
                       → EU currency authority table, dct:title = name,
                       dct:description = basis)
channels               cv:hasChannel → cv:Channel (dct:type, dct:title = name,
                       cv:openingHours → time:TemporalEntity, cv:contactPoint →
                       cv:ContactPoint with cv:telephone, cv:contactPage = url,
                       locn:address → locn:Address)
output_type / _name    cpsv:produces → cv:Output (dct:type, dct:title)
contact_phone          cv:contactPoint → cv:ContactPoint (cv:telephone)
status                 adms:status → skos:Concept
valid_from / valid_to  dct:temporal → dct:PeriodOfTime (dcat:startDate/endDate)
version                owl:versionInfo
=====================  ==========================================================

What CPSV-AP has no property for is said in our own namespace (``gs:``,
GOVSERVICE below) so a reader loses nothing: statutory and committed limits
with their units, online stages, in-person visits, process steps, the
complaints phone, and a document's issuer and number of copies.

Every controlled value is a skos:Concept at ``<site>/vocabulary/<vocabulary>/<code>``
with its code as skos:notation and its labels from the schema, so readers
need not parse URIs.

Repeating things (documents, fees, channels, legal basis, steps) get URIs
``<service>#<kind>-<n>`` and identifiers ``<service_code>/<kind>/<n>`` — RDF
has no order, the number keeps it.

``service_graph`` and ``services_from_cpsv`` are pure (plain dicts in and
out, rdflib only); the ckanext-dcat profile at the bottom is the thin shell
that fetches the department and the site URL.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, FOAF, OWL, RDF, SKOS, TIME, XSD

from . import schema

CPSV = Namespace("http://purl.org/vocab/cpsv#")
CV = Namespace("http://data.europa.eu/m8g/")
ADMS = Namespace("http://www.w3.org/ns/adms#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
ORG = Namespace("http://www.w3.org/ns/org#")
# Our own terms for what CPSV-AP cannot say. An experimental URN rather than
# an http namespace nobody serves.
GOVSERVICE = Namespace("urn:x-govservice:ns#")
GS = GOVSERVICE
EU_CURRENCY = "http://publications.europa.eu/resource/authority/currency/"

NAMESPACES = {"cpsv": CPSV, "cv": CV, "dct": DCT, "adms": ADMS, "eli": ELI, "locn": LOCN,
              "org": ORG, "skos": SKOS, "time": TIME, "foaf": FOAF, "dcat": DCAT, "gs": GS}

ZH, EN = "zh", "en"
SCHEMA_LANG = {ZH: "zh_Hans_CN", EN: "en"}


def bind_namespaces(g: Graph) -> None:
    for prefix, ns in NAMESPACES.items():
        g.bind(prefix, ns, override=True, replace=True)


# ---------------------------------------------------------------- vocabularies

def _vocabulary_fields() -> dict[str, dict[str, Any]]:
    """{vocabulary name: the schema field (or subfield) that declares its choices}."""
    out: dict[str, dict[str, Any]] = {}
    for f in schema.service_fields():
        for item in [f, *f.get("repeating_subfields", [])]:
            name = item.get("govservice_vocabulary")
            if name and name not in out and schema.choices(item):
                out[name] = item
    return out


def concept_uri(base: str, vocabulary: str, code: str) -> URIRef:
    return URIRef(f"{base.rstrip('/')}/vocabulary/{vocabulary}/{code}")


def _concept(g: Graph, base: str, vocabulary: str, code: str) -> URIRef:
    ref = concept_uri(base, vocabulary, code)
    g.add((ref, RDF.type, SKOS.Concept))
    g.add((ref, SKOS.notation, Literal(code)))
    g.add((ref, SKOS.inScheme, URIRef(f"{base.rstrip('/')}/vocabulary/{vocabulary}")))
    f = _vocabulary_fields().get(vocabulary)
    if f is not None:
        for lang, schema_lang in SCHEMA_LANG.items():
            g.add((ref, SKOS.prefLabel, Literal(schema.choice_label(f, code, schema_lang), lang=lang)))
    return ref


def _vocabulary(field_name: str, subfield: str | None = None) -> str:
    f = schema.field(field_name)
    if subfield:
        f = next(s for s in f["repeating_subfields"] if s["field_name"] == subfield)
    return f["govservice_vocabulary"]


# ---------------------------------------------------------------- writing

def _text(g: Graph, subject, predicate, zh: Any = None, en: Any = None) -> None:
    if zh not in (None, ""):
        g.add((subject, predicate, Literal(str(zh), lang=ZH)))
    if en not in (None, ""):
        g.add((subject, predicate, Literal(str(en), lang=EN)))


def _part(ref: URIRef, kind: str, n: int) -> URIRef:
    return URIRef(f"{str(ref).split('#')[0]}#{kind}-{n}")


def department_uri(base: str, department: dict[str, Any]) -> URIRef:
    return URIRef(f"{base.rstrip('/')}/organization/{department.get('id') or department['name']}")


def _department(g: Graph, base: str, department: dict[str, Any]) -> tuple[URIRef, Any]:
    ref = department_uri(base, department)
    g.add((ref, RDF.type, CV.PublicOrganisation))
    g.add((ref, RDF.type, ORG.Organization))  # what cv:ownedBy on a channel asks for
    _text(g, ref, SKOS.prefLabel, department.get("title") or department.get("name"),
          department.get("title_en"))
    if department.get("department_code"):
        g.add((ref, DCT.identifier, Literal(department["department_code"])))
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
    ``department`` is the ``organization_show`` dict of its owner (defaults to
    the summary in ``service["organization"]``, which lacks the English
    name and the area).
    """
    bind_namespaces(g)
    code = service["service_code"]
    g.add((ref, RDF.type, CPSV.PublicService))
    g.add((ref, DCT.identifier, Literal(code)))
    if service.get("local_code"):
        local = BNode()
        g.add((ref, ADMS.identifier, local))
        g.add((local, RDF.type, ADMS.Identifier))
        g.add((local, SKOS.notation, Literal(service["local_code"])))
    _text(g, ref, DCT.title, service.get("title"), service.get("title_en"))
    # dct:description is mandatory in CPSV-AP: the title stands in for a missing one.
    _text(g, ref, DCT.description, service.get("notes") or service.get("title"), service.get("notes_en"))
    if service.get("name"):
        page = URIRef(f"{base.rstrip('/')}/service/{service['name']}")
        g.add((ref, FOAF.page, page))
        g.add((page, RDF.type, FOAF.Document))
    if service.get("version"):
        g.add((ref, OWL.versionInfo, Literal(service["version"])))

    # classification
    if service.get("service_type"):
        g.add((ref, DCT.type, _concept(g, base, _vocabulary("service_type"), service["service_type"])))
    for theme in service.get("themes") or []:
        g.add((ref, CV.thematicArea, _concept(g, base, _vocabulary("themes"), theme)))
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
    if service.get("audience"):
        g.add((ref, DCT.audience, _concept(g, base, _vocabulary("audience"), service["audience"])))

    # competent authority
    department = department or service.get("organization") or {}
    authority = None
    if department:
        authority, place = _department(g, base, department)
        g.add((ref, CV.hasCompetentAuthority, authority))
        g.add((ref, DCT.spatial, place))

    _legal_basis(g, ref, code, service.get("legal_basis") or [])
    _requirements_and_documents(g, base, ref, code, service)
    _costs(g, ref, code, service.get("fees") or [])
    _channels(g, base, ref, code, service.get("channels") or [], authority)

    # time limits
    if service.get("processing_time"):
        g.add((ref, CV.processingTime, Literal(service["processing_time"], datatype=XSD.duration)))
    for kind in ("statutory", "committed"):
        value = service.get(f"{kind}_limit")
        if value not in (None, ""):
            g.add((ref, GS[f"{kind}Limit"], Literal(int(value))))
            unit = service.get(f"{kind}_limit_unit") or "working_days"
            g.add((ref, GS[f"{kind}LimitUnit"], _concept(g, base, _vocabulary(f"{kind}_limit_unit"), unit)))

    # online and in person
    for stage in service.get("online_depth") or []:
        g.add((ref, GS.onlineStage, _concept(g, base, _vocabulary("online_depth"), stage)))
    if service.get("in_person_visits") not in (None, ""):
        g.add((ref, GS.inPersonVisits, Literal(int(service["in_person_visits"]))))
    for n, step in enumerate(service.get("process_steps") or [], 1):
        node = _part(ref, "step", n)
        g.add((ref, GS.processStep, node))
        g.add((node, RDF.type, GS.ProcessStep))
        g.add((node, GS.position, Literal(n)))
        _text(g, node, DCT.title, step.get("name"))
        _text(g, node, DCT.description, step.get("description"))

    # output
    if service.get("output_type") or service.get("output_name"):
        node = _part(ref, "output", 1)
        g.add((ref, CPSV.produces, node))
        g.add((node, RDF.type, CV.Output))
        g.add((node, DCT.identifier, Literal(f"{code}/output/1")))
        if service.get("output_type"):
            g.add((node, DCT.type, _concept(g, base, _vocabulary("output_type"), service["output_type"])))
        # An output must have a name; the output type's label stands in.
        name = service.get("output_name") or schema.choice_label(
            schema.field("output_type"), service["output_type"], "zh_Hans_CN")
        _text(g, node, DCT.title, name)

    # contact
    for predicate, phone, kind in ((CV.contactPoint, service.get("contact_phone"), "contact"),
                                   (GS.complaintsContactPoint, service.get("complaint_phone"), "complaints")):
        if phone:
            node = _part(ref, kind, 1)
            g.add((ref, predicate, node))
            g.add((node, RDF.type, CV.ContactPoint))
            g.add((node, CV.telephone, Literal(phone)))

    # status and validity
    if service.get("status"):
        g.add((ref, ADMS.status, _concept(g, base, _vocabulary("status"), service["status"])))
    if service.get("valid_from") or service.get("valid_to"):
        period = _part(ref, "validity", 1)
        g.add((ref, DCT.temporal, period))
        g.add((period, RDF.type, DCT.PeriodOfTime))
        if service.get("valid_from"):
            g.add((period, DCAT.startDate, Literal(service["valid_from"], datatype=XSD.date)))
        if service.get("valid_to"):
            g.add((period, DCAT.endDate, Literal(service["valid_to"], datatype=XSD.date)))
    return ref


def _legal_basis(g: Graph, ref: URIRef, code: str, rows: list[dict[str, Any]]) -> None:
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
            g.add((rule, GS.article, Literal(row["article"], lang=ZH)))
        g.add((rule, CPSV.implements, law))


def _requirements_and_documents(g: Graph, base: str, ref: URIRef, code: str,
                                service: dict[str, Any]) -> None:
    documents = service.get("documents") or []
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
        g.add((node, DCT.identifier, Literal(f"{code}/document/{n}")))
        _text(g, node, DCT.title, doc.get("name"), doc.get("name_en"))
        if doc.get("form"):
            g.add((node, DCT.type, _concept(g, base, _vocabulary("documents", "form"), doc["form"])))
        if doc.get("issued_by"):
            g.add((node, GS.issuedBy, _concept(g, base, _vocabulary("documents", "issued_by"), doc["issued_by"])))
        if doc.get("copies") not in (None, ""):
            g.add((node, GS.copies, Literal(int(doc["copies"]))))
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
        if ch.get("opening_hours"):
            hours = _part(ref, f"channel-{n}-hours", 1)
            g.add((node, CV.openingHours, hours))
            g.add((hours, RDF.type, TIME.TemporalEntity))
            _text(g, hours, DCT.description, ch["opening_hours"])
        if ch.get("url") or ch.get("phone") or ch.get("address"):
            contact = _part(ref, f"channel-{n}-contact", 1)
            g.add((node, CV.contactPoint, contact))
            g.add((contact, RDF.type, CV.ContactPoint))
            if ch.get("phone"):
                g.add((contact, CV.telephone, Literal(ch["phone"])))
            if ch.get("url"):
                page = URIRef(ch["url"])
                g.add((contact, CV.contactPage, page))
                g.add((page, RDF.type, FOAF.Document))
            if ch.get("address"):
                address = _part(ref, f"channel-{n}-address", 1)
                g.add((contact, LOCN.address, address))
                g.add((address, RDF.type, LOCN.Address))
                _text(g, address, LOCN.fullAddress, ch["address"])


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


def _numbered(g: Graph, subject, predicate) -> list:
    """The objects in the order their identifiers (…/<kind>/<n>) or URIs (…-<n>) number them."""
    def number(node):
        ident = g.value(node, DCT.identifier) or g.value(node, GS.position) or node
        m = re.search(r"(\d+)$", str(ident))
        return (int(m.group(1)) if m else 0, str(node))
    return sorted(g.objects(subject, predicate), key=number)


def _value(g: Graph, subject, predicate) -> Any:
    v = g.value(subject, predicate)
    return v.toPython() if isinstance(v, Literal) else v


def services_from_cpsv(graph: Graph) -> list[dict[str, Any]]:
    """Read every cpsv:PublicService in ``graph`` back into service field values.

    The inverse of ``service_graph`` for our own output, and a best effort on
    anyone else's CPSV-AP: values we cannot place are left out, never guessed.
    Each dict has the service fields (``service_code``, ``title``,
    ``channels``…) plus ``department`` with ``title``, ``title_en``, ``area``,
    ``area_code``, ``department_code``, ``level`` of the competent authority.
    Services come sorted by service code.
    """
    g = graph
    out = []
    for ref in g.subjects(RDF.type, CPSV.PublicService):
        s: dict[str, Any] = {"service_code": str(g.value(ref, DCT.identifier) or "")}
        local = g.value(ref, ADMS.identifier)
        if local is not None:
            s["local_code"] = str(g.value(local, SKOS.notation) or local)
        s["title"] = _lang(g, ref, DCT.title, ZH)
        s["title_en"] = _lang(g, ref, DCT.title, EN)
        s["notes"] = _lang(g, ref, DCT.description, ZH)
        s["notes_en"] = _lang(g, ref, DCT.description, EN)
        page = g.value(ref, FOAF.page)
        if page is not None and "/service/" in str(page):
            s["name"] = str(page).rsplit("/service/", 1)[1]
        if g.value(ref, OWL.versionInfo) is not None:
            s["version"] = str(g.value(ref, OWL.versionInfo))
        s["service_type"] = _code(g, g.value(ref, DCT.type))
        s["themes"] = _codes(g, ref, CV.thematicArea)
        s["life_events"] = sorted(str(g.value(e, DCT.identifier) or _code(g, e))
                                  for e in g.objects(ref, CV.isGroupedBy))
        s["audience"] = _code(g, g.value(ref, DCT.audience))

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
            article = g.value(rule, GS.article)
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

        requirements = list(g.objects(ref, CV.holdsRequirement))
        for req in requirements[:1]:
            s["eligibility"] = _lang(g, req, DCT.description, ZH)
            s["eligibility_en"] = _lang(g, req, DCT.description, EN)
        s["documents"] = []
        for doc in _numbered(g, ref, CPSV.hasInput):
            row = {"name": _lang(g, doc, DCT.title, ZH), "name_en": _lang(g, doc, DCT.title, EN),
                   "mandatory": any(True for _ in g.objects(doc, CV.supportsRequirement))
                   or any((r, CV.hasSupportingEvidence, doc) in g for r in requirements),
                   "form": _code(g, g.value(doc, DCT.type)),
                   "issued_by": _code(g, g.value(doc, GS.issuedBy))}
            if g.value(doc, GS.copies) is not None:
                row["copies"] = _value(g, doc, GS.copies)
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

        if g.value(ref, CV.processingTime) is not None:
            s["processing_time"] = str(g.value(ref, CV.processingTime))
        for kind in ("statutory", "committed"):
            if g.value(ref, GS[f"{kind}Limit"]) is not None:
                s[f"{kind}_limit"] = _value(g, ref, GS[f"{kind}Limit"])
                s[f"{kind}_limit_unit"] = _code(g, g.value(ref, GS[f"{kind}LimitUnit"]))
        s["online_depth"] = _codes(g, ref, GS.onlineStage)
        if g.value(ref, GS.inPersonVisits) is not None:
            s["in_person_visits"] = _value(g, ref, GS.inPersonVisits)
        s["process_steps"] = [{k: v for k, v in {"name": _lang(g, st, DCT.title, ZH),
                                                 "description": _lang(g, st, DCT.description, ZH)}.items()
                               if v is not None}
                              for st in _numbered(g, ref, GS.processStep)]

        output = g.value(ref, CPSV.produces)
        if output is not None:
            s["output_type"] = _code(g, g.value(output, DCT.type))
            s["output_name"] = _lang(g, output, DCT.title, ZH)
        for key, predicate in (("contact_phone", CV.contactPoint), ("complaint_phone", GS.complaintsContactPoint)):
            contact = g.value(ref, predicate)
            if contact is not None and g.value(contact, CV.telephone) is not None:
                s[key] = str(g.value(contact, CV.telephone))
        s["status"] = _code(g, g.value(ref, ADMS.status))
        period = g.value(ref, DCT.temporal)
        if period is not None:
            for key, predicate in (("valid_from", DCAT.startDate), ("valid_to", DCAT.endDate)):
                if g.value(period, predicate) is not None:
                    s[key] = str(g.value(period, predicate))
        out.append({k: v for k, v in s.items() if v is not None})
    return sorted(out, key=lambda s: s["service_code"])


def services_to_graph(services: Iterable[tuple[dict[str, Any], dict[str, Any] | None]],
                      base: str) -> Graph:
    """A graph of several services, each given as (package_show dict, department dict)."""
    g = Graph()
    bind_namespaces(g)
    for service, department in services:
        service_graph(g, service, URIRef(f"{base.rstrip('/')}/dataset/{service['id']}"), base, department)
    return g


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

    class DCATAP3Profile(_WithoutDatasetSchema, EuropeanDCATAP3Profile):
        """ckanext-dcat's DCAT-AP 3 profile for every dataset but services.

        Services are public services, not datasets: the ``cpsv_ap`` profile
        describes them, and DCAT-AP triples on the same node would only
        contradict it. Registered as ``govservice_dcat_ap_3``.
        """

        def graph_from_dataset(self, dataset_dict, dataset_ref):
            if dataset_dict.get("type") == "service":
                return
            super().graph_from_dataset(dataset_dict, dataset_ref)

    class CPSVAPProfile(_WithoutDatasetSchema, RDFProfile):
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
                          self._department(dataset_dict))

        def graph_from_catalog(self, catalog_dict, catalog_ref):
            bind_namespaces(self.g)

        def _department(self, dataset_dict):
            org = dataset_dict.get("organization") or {}
            org_id = org.get("id") or dataset_dict.get("owner_org")
            if not org_id:
                return org or None
            # One lookup per department per serialisation: a catalogue page
            # holds many services of few departments.
            cache = self.g.__dict__.setdefault("_govservice_departments", {})
            if org_id not in cache:
                try:
                    cache[org_id] = tk.get_action("organization_show")(
                        {"ignore_auth": True}, {"id": org_id, "include_datasets": False,
                                                "include_users": False, "include_extras": True})
                except tk.ObjectNotFound:
                    cache[org_id] = org
            return cache[org_id]


# ---------------------------------------------------------------- /service/<name>.<format>

if RDFProfile is not None:
    from flask import Blueprint

    service_rdf = Blueprint("govservice_service_rdf", __name__)

    def read_service(_id: str, _format: str):
        """A service in RDF at its own address, as ckanext-dcat serves /dataset/<id>.<format>."""
        from ckanext.dcat.utils import read_dataset_page
        return read_dataset_page(_id, _format)

    # ckanext-dcat serves /dataset/<id>.<format> for every dataset type; this
    # gives services the same under the address their pages have.
    service_rdf.add_url_rule("/service/<_id>.<_format>", view_func=read_service,
                             endpoint="read_service")
