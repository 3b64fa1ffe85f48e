"""The figures README.md and bench/README.md quote are the benches' own output:
tools/figures (`make figures`) copies bench/results/NAME.md between the markers,
and a document whose bench figure differs from what the bench kept is stale.
Nothing needs to be running (the test counts, which need pytest's collection,
are left to `make figures`)."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import sys

import pytest

from .stackctl import ROOT


def _figures():
    loader = importlib.machinery.SourceFileLoader("figures", str(ROOT / "tools" / "figures"))
    spec = importlib.util.spec_from_loader("figures", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _record():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import record
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return record


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
        assert changed == [], f"{document.relative_to(ROOT)}: bench figures differ from bench/results/ (run `make figures`)"


def test_a_kept_result_that_no_document_marks_is_listed_as_unquoted():
    figures = _figures()
    texts = ["<!-- figure:bench/harvest -->\n| a |\n<!-- /figure -->", "<!-- figure:unit-tests -->5<!-- /figure -->"]

    assert figures.unquoted(texts, ["harvest", "search", "queues"]) == ["queues", "search"]


def test_a_bench_summary_is_kept_under_its_command_commit_and_machine(tmp_path, monkeypatch):
    record = _record()
    monkeypatch.setattr(record, "RESULTS", tmp_path)
    monkeypatch.setattr(sys, "argv", [str(ROOT / "bench" / "search_bench.py"), "--requests", "10"])

    with record.summary("search"):
        print("| target | requests/s |")

    kept = (tmp_path / "search.md").read_text(encoding="utf-8").splitlines()
    assert kept[0].startswith("<!-- bench/search_bench.py --requests 10 · ")
    assert f" · commit {record.commit()} · " in kept[0]
    assert f": {record.machine()}, Python " in kept[0]
    assert kept[1:] == ["| target | requests/s |"]


def test_a_bench_summary_given_the_load_before_ends_with_the_machine_state_under_a_blank_line(tmp_path, monkeypatch):
    record = _record()
    monkeypatch.setattr(record, "RESULTS", tmp_path)
    monkeypatch.setattr(record, "load_average", lambda: 6.3)

    with record.summary("statistics", load_before=1.5, note="shared with four test runs"):
        print("| run | ours |")

    kept = (tmp_path / "statistics.md").read_text(encoding="utf-8").splitlines()
    assert kept[1:] == ["| run | ours |", "",
                        f"Machine: {record.machine()}; load average 1.5 before, 6.3 after; shared with four test runs."]


def test_a_bench_that_fails_inside_its_summary_keeps_nothing(tmp_path, monkeypatch):
    record = _record()
    monkeypatch.setattr(record, "RESULTS", tmp_path)

    with pytest.raises(RuntimeError), record.summary("harvest"):
        print("| half a table |")
        raise RuntimeError("CKAN went away")

    assert not (tmp_path / "harvest.md").exists()


def test_a_value_the_bench_kept_by_name_fills_its_own_marker_and_stays_out_of_the_whole_summary(tmp_path, monkeypatch):
    record, figures = _record(), _figures()
    monkeypatch.setattr(record, "RESULTS", tmp_path)
    monkeypatch.setattr(figures, "RESULTS", tmp_path)
    with record.summary("statistics") as kept:
        print("| run | ours / raw COPY |")
        kept.value("ours-vs-copy", "2.78×")
    text = ("Loading takes <!-- figure:bench/statistics#ours-vs-copy -->2.8×<!-- /figure --> a bare COPY.\n"
            "<!-- figure:bench/statistics -->\n<!-- /figure -->\n")

    new, _, missing = figures.rewrite(text, figures.Figures().value)

    assert new.startswith("Loading takes <!-- figure:bench/statistics#ours-vs-copy -->2.78×<!-- /figure --> a bare")
    summary = new.split("<!-- figure:bench/statistics -->\n")[1].split("<!-- /figure -->")[0].splitlines()
    assert summary[0].startswith("<!-- ") and "value" not in summary[0]
    assert summary[1:] == ["| run | ours / raw COPY |"]
    assert missing == []


def test_a_value_the_bench_did_not_keep_leaves_its_figure_as_it_is(tmp_path, monkeypatch):
    record, figures = _record(), _figures()
    monkeypatch.setattr(record, "RESULTS", tmp_path)
    monkeypatch.setattr(figures, "RESULTS", tmp_path)
    with record.summary("statistics"):
        print("| run |")
    text = "<!-- figure:bench/statistics#ours-vs-copy -->2.8×<!-- /figure -->"

    new, changed, missing = figures.rewrite(text, figures.Figures().value)

    assert (new, changed, missing) == (text, [], ["bench/statistics#ours-vs-copy"])


def test_a_marker_of_one_value_counts_as_quoting_its_bench():
    figures = _figures()

    assert figures.unquoted(["<!-- figure:bench/harvest#ratio -->1.5×<!-- /figure -->"], ["harvest"]) == []


def test_a_kept_value_must_be_one_line_with_a_plain_key():
    kept = _record().Kept()

    with pytest.raises(ValueError):
        kept.value("a b", "1")
    with pytest.raises(ValueError):
        kept.value("ratio", "1 -->")
