"""Check a live portal's catalogue against the official DCAT-AP 3.0.0 and CPSV-AP
3.2.0 SHACL shapes, page by page, read-only and one request at a time.

    .venv/bin/python bench/validate_catalogue.py                      # http://127.0.0.1:5000
    .venv/bin/python bench/validate_catalogue.py https://portal.example.gov.cn
    .venv/bin/python bench/validate_catalogue.py --datasets-only      # skip the services' pages

Every page of ``/catalog.ttl`` (``?fq=-dataset_type:service`` with
``--datasets-only``) is validated on its own, as a harvesting portal receives
it: the shapes files in ``datasets/standards/``, no vocabulary graph, no
inference (``core.dcat_ap.validate``). It prints each violation (focus node,
property, message) and each distribution whose format is outside the EU
file-type table (published as a label only), then a summary: pages, datasets,
services, violations under each set of shapes, seconds. Exits 1 when anything
violates either set of shapes.
"""
from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, RDF

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "ckanext-govservice"))

from ckanext.govservice.core import dcat_ap  # the core imports no CKAN
from ckanext.govservice.core.cpsv import CPSV

SHAPES = {"DCAT-AP 3.0.0": ROOT / "datasets" / "standards" / "dcat-ap-3.0.0" / "dcat-ap-SHACL.ttl",
          "CPSV-AP 3.2.0": ROOT / "datasets" / "standards" / "cpsv-ap-3.2.0" / "cpsv-ap-SHACL.ttl"}
HYDRA_NEXT = URIRef("http://www.w3.org/ns/hydra/core#nextPage")


def fetch(url: str, tries: int = 3) -> Graph:
    """The page as a graph; a portal restarting or busy (refused, 5xx) is asked again
    after a pause, up to ``tries`` times in all."""
    request = urllib.request.Request(url, headers={"Accept": "text/turtle"})
    for attempt in range(1, tries + 1):
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return Graph().parse(data=response.read().decode("utf-8"), format="turtle")
        except urllib.error.HTTPError as e:
            if e.code < 500 or attempt == tries:
                raise
        except urllib.error.URLError:
            if attempt == tries:
                raise
        print(f"{url}: no answer (try {attempt} of {tries}), asking again in 15 s", file=sys.stderr)
        time.sleep(15)
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("portal", nargs="?", default="http://127.0.0.1:5000")
    parser.add_argument("--datasets-only", action="store_true",
                        help="only the datasets (fq=-dataset_type:service), not the services")
    args = parser.parse_args(argv)
    shapes = {name: Graph().parse(path) for name, path in SHAPES.items()}
    query = "fq=-dataset_type:service&" if args.datasets_only else ""
    url = f"{args.portal.rstrip('/')}/catalog.ttl?{query}page=1"
    totals = {name: 0 for name in shapes}
    pages = datasets = services = unmapped = 0
    started = time.monotonic()
    while url:
        g = fetch(url)
        pages += 1
        datasets += len(set(g.subjects(RDF.type, DCAT.Dataset)))
        services += len(set(g.subjects(RDF.type, CPSV.PublicService)))
        for name, shape in shapes.items():
            result = dcat_ap.validate(g, shape)
            totals[name] += len(result.violations)
            for violation in result.violations:
                print(f"{name} {url}: violation: {violation}")
        for distribution, fmt in dcat_ap.unmapped_formats(g):
            unmapped += 1
            print(f"{url}: format not in the file-type table, published as a label only: {distribution} {fmt!r}")
        following = next(g.objects(None, HYDRA_NEXT), None)
        url = str(following) if following is not None else None
        print(f"page {pages}: {datasets} datasets, {services} services so far", file=sys.stderr)
    seconds = time.monotonic() - started
    print(f"{pages} pages, {datasets} datasets, {services} services; "
          + ", ".join(f"{name}: {n} violations" for name, n in totals.items())
          + f"; {unmapped} formats outside the file-type table; {seconds:.1f} s")
    return 1 if any(totals.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
