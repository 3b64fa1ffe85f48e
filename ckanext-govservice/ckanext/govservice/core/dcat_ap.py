"""The platform's own datasets as DCAT-AP 3.0.0, the pure part: the vocabularies
the official shapes ask for, written into a graph and read back, and the check.

The datasets are the bulk service catalogues (the platform's and each
department's CSV, JSON and XLSX), the statistics (the DataStore table and each
department's CSV) and whatever else the platform publishes; the profile that
describes them is ``ckanext.govservice.rdf.DCATAP3Profile`` (ckanext-dcat's
DCAT-AP 3, corrected with the helpers here). Services are CPSV-AP
(``core.cpsv``).

What DCAT-AP 3.0.0's SHACL shapes (``datasets/standards/dcat-ap-3.0.0/``) ask,
and how it is given:

=========================  ==========================================================
distribution format        ``dct:format`` → the EU file-type authority table
                           (``…/authority/file-type/CSV``) and ``dcat:mediaType`` →
                           the IANA media type
                           (``https://www.iana.org/assignments/media-types/text/csv``),
                           from ``FILE_TYPES``. A format outside the table is still
                           published: the shapes allow no literal as a format, so
                           it is a blank ``dct:MediaTypeOrExtent`` carrying the text
                           as its ``rdfs:label`` (the one place a literal is
                           allowed), with the resource's media type only when it is
                           an IANA one; ``unmapped_formats`` lists them for the
                           validation report
licence                    ``dct:license`` → the EU licence authority table
                           (``cc-by`` → ``…/licence/CC_BY_4_0``), with its ADMS
                           licence type as a labelled ``skos:Concept``
languages                  ``dct:language`` → ``…/authority/language/ZHO``, ``ENG``
theme                      ``dcat:theme`` → ``…/data-theme/GOVE`` (Government and
                           public sector), labelled, in its labelled scheme
conformance                ``dct:conformsTo`` → a ``dct:Standard`` with a title
                           (the data dictionaries, CPSV-AP)
=========================  ==========================================================

Every IRI of a vocabulary is typed in the graph with the class the shapes'
``sh:class`` names (``dct:MediaTypeOrExtent``, ``dct:MediaType``,
``dct:LicenseDocument``, ``dct:LinguisticSystem``, ``skos:Concept``…), as
ckanext-dcat does for the IRIs it writes: the shapes then hold without a
vocabulary graph or inference, which is how ``validate`` runs them.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, NamedTuple

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, RDF, RDFS, SKOS

from .cpsv import EU_AUTHORITY

FILE_TYPE = EU_AUTHORITY + "file-type/"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
LANGUAGE = EU_AUTHORITY + "language/"
LICENCE = EU_AUTHORITY + "licence/"
DATA_THEME = EU_AUTHORITY + "data-theme"
ADMS_LICENCE_TYPE = "http://purl.org/adms/licencetype/"


class FileType(NamedTuple):
    label: str                 # the CKAN format the reader gives back
    code: str                  # its code in the EU file-type authority table
    media_type: str            # its IANA media type
    aliases: tuple[str, ...] = ()


# The formats the platform publishes (the first three) and those a resource on
# a CKAN site commonly has.
FILE_TYPES: tuple[FileType, ...] = (
    FileType("CSV", "CSV", "text/csv"),
    FileType("JSON", "JSON", "application/json"),
    FileType("XLSX", "XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    FileType("Turtle", "RDF_TURTLE", "text/turtle", ("TTL", "RDF_TURTLE")),
    FileType("RDF/XML", "RDF_XML", "application/rdf+xml", ("RDF", "RDF_XML", "RDFXML")),
    FileType("JSON-LD", "JSON_LD", "application/ld+json", ("JSONLD", "JSON_LD")),
    FileType("XLS", "XLS", "application/vnd.ms-excel"),
    FileType("XML", "XML", "application/xml"),
    FileType("PDF", "PDF", "application/pdf"),
    FileType("HTML", "HTML", "text/html", ("HTM",)),
    FileType("ZIP", "ZIP", "application/zip"),
    FileType("GeoJSON", "GEOJSON", "application/geo+json"),
    FileType("TXT", "TXT", "text/plain", ("TEXT",)),
)
_BY_NAME = {name.upper(): ft for ft in FILE_TYPES for name in (ft.label, ft.code, *ft.aliases)}
_BY_MEDIA_TYPE = {ft.media_type: ft for ft in FILE_TYPES}
_BY_FILE_TYPE_URI = {FILE_TYPE + ft.code: ft for ft in FILE_TYPES}

# CKAN licence id → (EU licence authority code, ADMS licence type). CKAN's
# "cc-by" is published as CC BY 4.0, the version the platform's datasets carry.
LICENCES: dict[str, tuple[str, str]] = {
    "cc-by": ("CC_BY_4_0", "Attribution"),
    "cc-by-sa": ("CC_BY_SA_4_0", "ShareAlike"),
    "cc-zero": ("CC0", "PublicDomain"),
    "cc-nc": ("CC_BY_NC_4_0", "NonCommercialUseOnly"),
    "odc-by": ("ODC_BY", "Attribution"),
    "odc-odbl": ("ODC_ODBL", "ShareAlike"),
    "odc-pddl": ("ODC_PDDL", "PublicDomain"),
}
LICENCE_TYPE_LABELS = {
    "Attribution": "Attribution", "ShareAlike": "Share-alike", "PublicDomain": "Public domain",
    "NonCommercialUseOnly": "Non-commercial use only", "UnknownIPR": "Unknown IPR",
}
_LICENCE_IDS = {LICENCE + code: ckan_id for ckan_id, (code, _) in LICENCES.items()}

# The first part of a CKAN locale → the EU language authority code.
LANGUAGES = {"zh": "ZHO", "en": "ENG", "fr": "FRA", "de": "DEU", "es": "SPA", "pt": "POR",
             "ru": "RUS", "ar": "ARA", "ja": "JPN", "ko": "KOR"}

GOVERNMENT_THEME = ("GOVE", {"zh": "政府和公共部门", "en": "Government and public sector"})


# ---------------------------------------------------------------- formats

def file_type(fmt: str | None, mimetype: str | None = None) -> FileType | None:
    """The file type of a CKAN format (``"CSV"``, ``"ttl"``, an EU file-type IRI),
    else of its media type; None when neither is in ``FILE_TYPES``."""
    text = (fmt or "").strip()
    found = _BY_FILE_TYPE_URI.get(text) or _BY_NAME.get(text.upper().lstrip("."))
    if found is None and text.startswith(IANA_MEDIA_TYPES):
        found = _BY_MEDIA_TYPE.get(text[len(IANA_MEDIA_TYPES):])
    return found or _BY_MEDIA_TYPE.get((mimetype or "").split(";")[0].strip().lower())


# A media type in IANA's tree: type/subtype, not an unregistered x- one (what
# CKAN guesses from a file name is mostly that: image/vnd.dwg, application/zip).
IANA_SHAPED = re.compile(r"^(application|audio|font|image|model|multipart|text|video)/"
                         r"(?!x-)[a-z0-9][a-z0-9!#$&^_.+-]*$")


def media_type_uri(media_type: str) -> URIRef:
    return URIRef(IANA_MEDIA_TYPES + media_type)


def add_format(g: Graph, distribution, fmt: str | None, mimetype: str | None) -> str | None:
    """Give ``distribution`` its ``dct:format`` and ``dcat:mediaType`` as the shapes
    want them, replacing whatever was there. Returns the format's text when it is
    not in ``FILE_TYPES`` (published as a labelled blank node, with the resource's
    media type when that is in IANA's tree, ``IANA_SHAPED``), else None."""
    g.remove((distribution, DCT["format"], None))
    g.remove((distribution, DCAT.mediaType, None))
    found = file_type(fmt, mimetype)
    if found is not None:
        fmt_ref = URIRef(FILE_TYPE + found.code)
        g.add((distribution, DCT["format"], fmt_ref))
        g.add((fmt_ref, RDF.type, DCT.MediaTypeOrExtent))
        media = media_type_uri(found.media_type)
        g.add((distribution, DCAT.mediaType, media))
        g.add((media, RDF.type, DCT.MediaType))
        return None
    text = (fmt or mimetype or "").strip()
    if not text:
        return None
    fmt_ref = BNode()
    g.add((distribution, DCT["format"], fmt_ref))
    g.add((fmt_ref, RDF.type, DCT.MediaTypeOrExtent))
    g.add((fmt_ref, RDFS.label, Literal(text)))
    media_type = (mimetype or "").split(";")[0].strip().lower()
    if IANA_SHAPED.match(media_type):
        media = media_type_uri(media_type)
        g.add((distribution, DCAT.mediaType, media))
        g.add((media, RDF.type, DCT.MediaType))
    return text


def read_format(g: Graph, distribution) -> tuple[str | None, str | None]:
    """(CKAN format, media type) of a distribution ``add_format`` wrote; (None, None)
    when it has neither."""
    fmt = g.value(distribution, DCT["format"])
    media = g.value(distribution, DCAT.mediaType)
    media_type = None
    if isinstance(media, URIRef) and str(media).startswith(IANA_MEDIA_TYPES):
        media_type = str(media)[len(IANA_MEDIA_TYPES):]
    if isinstance(fmt, URIRef) and str(fmt) in _BY_FILE_TYPE_URI:
        return _BY_FILE_TYPE_URI[str(fmt)].label, media_type
    if fmt is not None and not isinstance(fmt, Literal):
        label = g.value(fmt, RDFS.label)
        return (str(label) if label is not None else None), media_type
    return (str(fmt) if fmt is not None else None), media_type


def unmapped_formats(g: Graph) -> list[tuple[str, str]]:
    """(distribution, format text) of every distribution whose format is outside
    ``FILE_TYPES``: published all the same, and listed in the validation report."""
    out = []
    for distribution, fmt in g.subject_objects(DCT["format"]):
        if isinstance(fmt, BNode):
            out.append((str(distribution), str(g.value(fmt, RDFS.label) or "")))
    return sorted(out)


# ---------------------------------------------------------------- licences, languages, themes

def licence_uri(license_id: str | None, license_url: str | None = None) -> URIRef | None:
    """The licence's IRI: the EU licence table's for a CKAN licence id it has, else
    the CKAN licence's own URL; None without either."""
    if license_id in LICENCES:
        return URIRef(LICENCE + LICENCES[license_id][0])
    if license_url and license_url.startswith(("http://", "https://")):
        return URIRef(license_url)
    return None


def add_licence(g: Graph, subject, license_id: str | None, license_url: str | None = None,
                license_title: str | None = None) -> URIRef | None:
    """``subject dct:license`` the licence, a ``dct:LicenseDocument`` with its ADMS
    licence type (a labelled concept), replacing any licence already there; None
    (and no licence: the shapes allow no literal) when it has no IRI."""
    for old in list(g.objects(subject, DCT.license)):
        g.remove((subject, DCT.license, old))
        if not any(g.subjects(DCT.license, old)):
            g.remove((old, None, None))
    uri = licence_uri(license_id, license_url)
    if uri is None:
        return None
    g.add((subject, DCT.license, uri))
    g.add((uri, RDF.type, DCT.LicenseDocument))
    kind = LICENCES.get(license_id or "", (None, "UnknownIPR"))[1]
    concept = URIRef(ADMS_LICENCE_TYPE + kind)
    g.add((uri, DCT.type, concept))
    g.add((concept, RDF.type, SKOS.Concept))
    g.add((concept, SKOS.prefLabel, Literal(LICENCE_TYPE_LABELS[kind], lang="en")))
    if license_title and license_id not in LICENCES:
        g.add((uri, DCT.title, Literal(license_title)))
    return uri


def licence_id(uri: Any) -> str | None:
    """The CKAN licence id of a licence IRI ``add_licence`` wrote (None: not one of ours)."""
    return _LICENCE_IDS.get(str(uri)) if uri is not None else None


def language_uri(locale: str) -> URIRef | None:
    """The EU language IRI of a CKAN locale (``zh_Hans_CN`` → ``…/language/ZHO``)."""
    code = LANGUAGES.get(locale.replace("-", "_").split("_")[0].lower())
    return URIRef(LANGUAGE + code) if code else None


def add_languages(g: Graph, subject, locales: Iterable[str]) -> None:
    """``subject dct:language`` each locale's EU language IRI, replacing literal languages."""
    for old in list(g.objects(subject, DCT.language)):
        if isinstance(old, Literal):
            g.remove((subject, DCT.language, old))
    for locale in locales:
        uri = language_uri(locale)
        if uri is not None:
            g.add((subject, DCT.language, uri))
            g.add((uri, RDF.type, DCT.LinguisticSystem))


def _labelled(g: Graph, subject, predicate, labels: dict[str, str]) -> None:
    for lang, text in labels.items():
        g.add((subject, predicate, Literal(text, lang=lang)))


def add_theme_taxonomy(g: Graph, catalogue) -> URIRef:
    """The EU data-theme scheme, a titled ``skos:ConceptScheme``, as the catalogue's
    theme taxonomy."""
    scheme = URIRef(DATA_THEME)
    g.add((catalogue, DCAT.themeTaxonomy, scheme))
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    _labelled(g, scheme, DCT.title, {"en": "Data theme", "zh": "数据主题"})
    return scheme


def add_government_theme(g: Graph, dataset) -> URIRef:
    """``dataset dcat:theme`` Government and public sector, a labelled concept of
    the EU data-theme scheme."""
    code, labels = GOVERNMENT_THEME
    concept = URIRef(f"{DATA_THEME}/{code}")
    g.add((dataset, DCAT.theme, concept))
    g.add((concept, RDF.type, SKOS.Concept))
    _labelled(g, concept, SKOS.prefLabel, labels)
    g.add((concept, SKOS.inScheme, URIRef(DATA_THEME)))
    return concept


def add_standard(g: Graph, subject, uri: str, titles: dict[str, str]) -> URIRef:
    """``subject dct:conformsTo`` the standard at ``uri``, a titled ``dct:Standard``."""
    ref = URIRef(uri)
    g.add((subject, DCT.conformsTo, ref))
    g.add((ref, RDF.type, DCT.Standard))
    _labelled(g, ref, DCT.title, titles)
    return ref


# ---------------------------------------------------------------- the check

class Violation(NamedTuple):
    focus: str
    path: str
    message: str
    shape: str

    def __str__(self) -> str:
        return f"{self.focus} {self.path}: {self.message}"


class Validation(NamedTuple):
    violations: list[Violation]
    unmapped: list[tuple[str, str]]

    @property
    def conforms(self) -> bool:
        return not self.violations

    def lines(self) -> list[str]:
        """The report in words: each violation, then each format outside the table."""
        out = [f"violation: {v}" for v in self.violations]
        out += [f"format not in the file-type table, published as a label only: {d} {fmt!r}"
                for d, fmt in self.unmapped]
        return out


def validate(data: Graph, shapes: Graph) -> Validation:
    """Check ``data`` against SHACL ``shapes`` (the official DCAT-AP or CPSV-AP file)
    as a harvester receives it: no vocabulary graph, no inference. Every result of
    severity Violation is one ``Violation``; the formats outside ``FILE_TYPES`` are
    listed beside them."""
    import pyshacl   # only the checks need it
    sh = "http://www.w3.org/ns/shacl#"
    _, results, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    violations = []
    for result in results.subjects(RDF.type, URIRef(sh + "ValidationResult")):
        if results.value(result, URIRef(sh + "resultSeverity")) != URIRef(sh + "Violation"):
            continue
        violations.append(Violation(
            focus=str(results.value(result, URIRef(sh + "focusNode"))),
            path=str(results.value(result, URIRef(sh + "resultPath")) or ""),
            message=str(results.value(result, URIRef(sh + "resultMessage")) or ""),
            shape=str(results.value(result, URIRef(sh + "sourceShape")) or "")))
    return Validation(sorted(violations), unmapped_formats(data))
