"""schema.org GovernmentService JSON-LD for a service page (for search engines).

``service_jsonld(pkg, department)`` is pure: a ``package_show`` dict in, a
JSON-LD dict out, ready for ``<script type="application/ld+json">``
(``ckanext.govservice.jsonld`` looks the department up in CKAN first). Mapping:

=================  ===================================================
schema.org         service field
=================  ===================================================
@id                the service's URI, the same as in its CPSV-AP RDF:
                   ``<site>/id/service/<department>/<service_code>``
url                the service page
identifier         service_code
name / description title, notes (Chinese; ``alternateName`` is title_en)
serviceType        the service type's label
category           the theme labels
audience           Audience.audienceType: the audience label
provider           GovernmentOrganization: the department (name, alternateName)
serviceOperator    the department, and each co-handling department
                   (GovernmentOrganization: name, description = its part)
isRelatedTo        the basic item it implements: a Service whose @id is the
                   item's RDF URI (``<site>/id/item/<basic code>``), identifier
                   the basic code, name its title when the network knows it
areaServed         AdministrativeArea: the department's area
availableChannel   ServiceChannel per channel: serviceUrl, availableLanguage,
                   servicePhone (ContactPoint), serviceLocation (Place with
                   address and openingHours text), processingTime (ISO 8601);
                   and one per contact point (enquiries, complaints): its
                   ContactPoint (contactType, telephone, email, url), serviceUrl
                   and serviceLocation (address, opening hours); and one per
                   service centre handling it (issue 17, derived): its
                   serviceLocation a GovernmentOffice (identifier, name,
                   address, openingHours)
serviceOutput      Thing (its @type from output_type: Certificate → Certificate,
                   licence → Permit, others Thing) named output_name; url the
                   sample; a Permit's validFor the validity (ISO 8601, P5Y)
offers             Offer per fee (price, priceCurrency), or one Offer at price 0
                   for a free service
termsOfService     the legal basis texts with links
=================  ===================================================

schema.org has no home for documents, intermediary services, special
procedures or where a service can be handled: they are in the CPSV-AP RDF.
"""
from __future__ import annotations

from typing import Any

from . import due, schema
from .cpsv import basic_item_uri, service_uri

OUTPUT_TYPES = {"certificate": "Certificate", "licence": "Permit"}
VALIDITY_UNITS = {"years": "Y", "months": "M", "days": "D"}


def _label(field_name: str, value: str, lang: str = "zh_Hans_CN", sub: str | None = None) -> str:
    f = schema.subfield(field_name, sub) if sub else schema.field(field_name)
    return schema.choice_label(f, value, lang)


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def service_jsonld(pkg: dict[str, Any], department: dict[str, Any] | None = None,
                   url: str | None = None, uri: str | None = None) -> dict[str, Any]:
    """schema.org GovernmentService for ``pkg``; ``department`` (its ``organization_show``
    dict) adds the English name and area to the summary in ``pkg["organization"]``.

    ``url`` is the service page (``<site>/service/<name>``); ``uri``, the ``@id``,
    defaults to the service's RDF URI on the page's site (``cpsv.service_uri``).
    """
    department = department or pkg.get("organization") or {}
    if uri is None and url and "/service/" in url and pkg.get("service_code"):
        uri = str(service_uri(url.rsplit("/service/", 1)[0], pkg, department))
    area = department.get("area")
    provider = _compact({"@type": "GovernmentOrganization", "name": department.get("title") or department.get("name"),
                         "alternateName": department.get("title_en"),
                         "identifier": department.get("department_code")})
    channels = []
    for ch in pkg.get("channels") or []:
        channel = {"@type": "ServiceChannel",
                   "name": ch.get("name") or _label("channels", ch["channel_type"], sub="channel_type"),
                   "serviceUrl": ch.get("url"),
                   "availableLanguage": "zh-CN",
                   "processingTime": pkg.get("processing_time")}
        if ch.get("phone"):
            channel["servicePhone"] = {"@type": "ContactPoint", "telephone": ch["phone"]}
        if ch.get("address"):
            channel["serviceLocation"] = _compact({
                "@type": "Place", "name": ch.get("name"), "address": ch["address"],
                "openingHours": ch.get("opening_hours")})
        channels.append(_compact(channel))
    for centre in pkg.get("service_centres") or []:   # derived from the centres' counters (issue 17)
        channels.append(_compact({
            "@type": "ServiceChannel", "name": centre.get("title"), "availableLanguage": "zh-CN",
            "servicePhone": _compact({"@type": "ContactPoint", "telephone": centre.get("phone")})
            if centre.get("phone") else None,
            "serviceLocation": _compact({"@type": "GovernmentOffice", "identifier": centre.get("centre_code"),
                                         "name": centre.get("title"), "address": centre.get("address"),
                                         "openingHours": centre.get("opening_hours")})}))
    for point in pkg.get("contact_points") or []:
        purpose = _label("contact_points", point["purpose"], sub="purpose") if point.get("purpose") else None
        channels.append(_compact({
            "@type": "ServiceChannel", "name": purpose, "serviceUrl": point.get("url"),
            "servicePhone": _compact({"@type": "ContactPoint", "contactType": purpose,
                                      "telephone": point.get("phone"), "email": point.get("email"),
                                      "url": point.get("url")}),
            "serviceLocation": _compact({"@type": "Place", "address": point.get("address"),
                                         "openingHours": point.get("opening_hours")})
            if point.get("address") else None}))
    fees = pkg.get("fees") or []
    offers = [_compact({"@type": "Offer", "name": fee.get("name"), "price": float(fee.get("amount") or 0),
                        "priceCurrency": fee.get("currency") or "CNY", "description": fee.get("basis")})
              for fee in fees] or [{"@type": "Offer", "price": 0, "priceCurrency": "CNY"}]
    output = None
    if pkg.get("output_type") or pkg.get("output_name"):
        kind = OUTPUT_TYPES.get(pkg.get("output_type"), "Thing")
        validity = pkg.get("output_validity")
        output = _compact({"@type": kind,
                           "name": pkg.get("output_name") or _label("output_type", pkg["output_type"]),
                           "url": pkg.get("output_sample_url"),
                           # validFor is a Permit's (schema.org has no validity for a Thing)
                           "validFor": f"P{int(validity)}{VALIDITY_UNITS.get(pkg.get('output_validity_unit'), 'Y')}"
                           if kind == "Permit" and validity not in (None, "") else None})
    operators = [provider] if provider.get("name") else []
    operators += [_compact({"@type": "GovernmentOrganization", "name": co.get("name"),
                            "description": co.get("role")})
                  for co in pkg.get("co_departments") or [] if co.get("name")]
    basic_item = None
    if pkg.get("basic_code"):
        item = (pkg.get("network") or {}).get("basic_item") or {}
        base = (url.rsplit("/service/", 1)[0] if url and "/service/" in url
                else uri.split("/id/service/")[0] if uri and "/id/service/" in uri else None)
        basic_item = _compact({"@type": "Service", "@id": str(basic_item_uri(base, pkg["basic_code"])) if base else None,
                               "identifier": pkg["basic_code"], "name": item.get("title")})
    return _compact({
        "@context": "https://schema.org",
        "@type": "GovernmentService",
        "@id": uri,
        "url": url,
        "identifier": pkg.get("service_code"),
        "name": pkg.get("title"),
        "alternateName": pkg.get("title_en"),
        "description": pkg.get("notes"),
        "serviceType": _label("service_type", pkg["service_type"]) if pkg.get("service_type") else None,
        "category": [_label("themes", t) for t in pkg.get("themes") or []],
        "audience": _compact({"@type": "Audience", "audienceType": _label("audience", pkg["audience"])})
        if pkg.get("audience") else None,
        "provider": provider if provider.get("name") else None,
        "serviceOperator": operators[0] if len(operators) == 1 else operators,
        "isRelatedTo": basic_item,
        "areaServed": {"@type": "AdministrativeArea", "name": area} if area else None,
        "availableChannel": channels,
        "serviceOutput": output,
        "offers": offers,
        # when the service becomes due (core.due): an action to take at that time
        "potentialAction": [_compact({"@type": "Action", "name": due.when(r, "zh_Hans_CN"),
                                      "alternateName": due.when(r, "en"), "description": r.get("prepare")})
                            for r in pkg.get("reminders") or []],
        "termsOfService": [" ".join(filter(None, (b.get("title"), b.get("article"))))
                           for b in pkg.get("legal_basis") or []],
    })
