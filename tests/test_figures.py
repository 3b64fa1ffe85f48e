"""The figures README.md and bench/README.md quote are the benches' own output:
tools/figures (`make figures`) copies bench/results/NAME.md between the markers,
and a document whose bench figure differs from what the bench kept is stale.
Nothing needs to be running (the test counts, which need pytest's collection,
are left to `make figures`)."""
from __future__ import annotations

import importlib.machinery
import importlib.util

from .stackctl import ROOT


def _figures():
    loader = importlib.machinery.SourceFileLoader("figures", str(ROOT / "tools" / "figures"))
    spec = importlib.util.spec_from_loader("figures", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_a_marked_figure_is_replaced_and_the_rest_left_alone():
    figures = _figures()
    text = ("config: <!-- figure:unit-tests -->286<!-- /figure --> tests\n"
            "<!-- figure:bench/harvest -->\n| old | table |\n<!-- /figure -->\n"
            "<!-- figure:bench/never-run -->(not run)<!-- /figure -->\n")
    values = {"unit-tests": "428", "bench/harvest": "\n| measure | value |\n"}

    new, changed, missing = figures.rewrite(text, values.get)

    assert new == ("config: <!-- figure:unit-tests -->428<!-- /figure --> tests\n"
                   "<!-- figure:bench/harvest -->\n| measure | value |\n<!-- /figure -->\n"
                   "<!-- figure:bench/never-run -->(not run)<!-- /figure -->\n")
    assert [name for name, _, _ in changed] == ["unit-tests", "bench/harvest"]
    assert missing == ["bench/never-run"]
    assert figures.rewrite(new, values.get)[1] == []          # a second run changes nothing


def test_every_bench_figure_in_the_documents_is_what_the_bench_kept():
    figures = _figures()
    found = figures.Figures()

    def bench_only(name):
        return found.value(name) if name.startswith("bench/") else None

    for document in figures.DOCUMENTS:
        _, changed, _ = figures.rewrite(document.read_text(encoding="utf-8"), bench_only)
        assert changed == [], f"{document.name}: bench figures differ from bench/results/ (run `make figures`)"
