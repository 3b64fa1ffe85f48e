"""Search quality against the demo city: recall@10, nDCG@10 and latency.

    .venv/bin/python bench/search_quality.py --ini var/bench-5.ini [--repeat 5] [--modes stock,tuned]
        [--show-misses] [--profile] [--machine-note "shared with four other engineers' test runs"]

Runs inside one Python process against a site holding the demo city (a copy of
the demo portal's databases with a Solr site id of its own; see bench/README.md
for how var/bench-5.ini was made). The summary (quality per kind, latency, the
load average before and after) is also kept in bench/results/search_quality.md
(bench/record.py), which `make figures` copies into bench/README.md. Each query of bench/search_queries.yaml goes
through the real ``package_search`` action with what the service search page
sends (``dataset_type:service``, 10 rows, every service facet), so the figures
are what a citizen gets, minus HTTP and the page.

Two modes in the same run, query by query, so load on the machine hits both alike:

* ``stock``: ``ckanext.govservice.search.tuned = false``: CKAN's own dismax query
  over its default fields, as before issue 15;
* ``tuned``: the platform's query (synonyms, pinyin, field boosts; search.py).

recall@10 is, per query, the share of its ``must`` services found in the first
10 results (a service is found when a result's title starts with its prefix);
nDCG@10 gives each found service a gain of 1 at the rank of its first matching
result (one result counts for one service) against the ideal of all of them at
the top. Both are averaged over the queries. Latency is the wall time of the
action call, each query asked ``--repeat`` times (first round discarded as warm-up).
``--profile`` runs the tuned mode's timed rounds once more under cProfile and
prints where the time goes (not kept).
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections import defaultdict
from pathlib import Path

import yaml

import record   # bench/record.py: the script's own directory is on sys.path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "bench" / "search_queries.yaml"
K = 10


def setup(ini: str):
    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    app = make_app(load_config(ini))
    ctx = app._wsgi_app.test_request_context()
    ctx.push()
    import ckan.plugins.toolkit as tk
    return tk


def judge(titles: list[str], must: list[str]) -> tuple[float, float]:
    """(recall@K, nDCG@K) of one result list against the query's must-find prefixes."""
    found: set[int] = set()
    dcg = 0.0
    for rank, title in enumerate(titles[:K]):
        for i, prefix in enumerate(must):
            if i not in found and title.startswith(prefix):
                found.add(i)
                dcg += 1 / math.log2(rank + 2)
                break
    ideal = sum(1 / math.log2(r + 2) for r in range(min(K, len(must))))
    return len(found) / len(must), dcg / ideal


def search(tk, facets: list[str], q: str) -> tuple[list[str], float, bool]:
    """(titles of the first K results, seconds, whether the answer is the relaxed one)."""
    started = time.perf_counter()
    result = tk.get_action("package_search")({"ignore_auth": True}, {
        "q": q, "fq": "+dataset_type:service", "rows": K, "facet.field": facets})
    return [r["title"] for r in result["results"]], time.perf_counter() - started, bool(result.get("govservice_relaxed"))


_NOW: dict = {}


def as_before(before: bool) -> None:
    """``previous`` mode: the tuned search as it was before this round (commit
    6485484), for a before/after in the same run: a misspelt word looked for
    fuzzily in all 8 query fields, the synonym lexicon made anew on every
    relaxed search, a Chinese query's pinyin looked for in every field."""
    from ckanext.govservice import search as s
    if not _NOW:
        _NOW.update(FUZZY_WORD_FIELDS=s.FUZZY_WORD_FIELDS, FUZZY_LETTERS_FIELDS=s.FUZZY_LETTERS_FIELDS,
                    synonym_lexicon=s.synonym_lexicon, _in_pinyin=s._in_pinyin)
    if before:
        from ckanext.govservice.core import synonyms
        s.FUZZY_WORD_FIELDS = s.FUZZY_LETTERS_FIELDS = tuple(s.QUERY_FIELDS)
        s.synonym_lexicon = lambda: frozenset(synonyms.display_form(k) for k in s.managed_synonyms())
        s._in_pinyin = lambda letters: letters
    else:
        for name, value in _NOW.items():
            setattr(s, name, value)


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def p95_ms(values: list[float]) -> str:
    return f"{1000 * percentile(values, 95):.1f}" if values else "-"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(p / 100 * len(ordered))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ini", required=True, help="a site holding the demo city (not the portal's ckan.ini)")
    parser.add_argument("--modes", default="stock,tuned",
                        help="stock, tuned, previous (tuned as before this round's changes); the first is "
                             "the baseline of the ratios")
    parser.add_argument("--repeat", type=int, default=3, help="times each query is asked per mode (≥ 2)")
    parser.add_argument("--show-misses", action="store_true", help="list each query that misses a service")
    parser.add_argument("--kind", help="only queries of this kind")
    parser.add_argument("--profile", action="store_true", help="profile the tuned mode's searches (cProfile)")
    parser.add_argument("--machine-note", default="shared: 2 vCPU, five engineers' test runs and benches at once",
                        help="what else ran on the machine meanwhile (printed with the load average)")
    args = parser.parse_args()
    load_before = load()

    tk = setup(args.ini)
    from ckanext.govservice import helpers
    facets = list(helpers.service_facets())
    queries = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    if args.kind:
        queries = [q for q in queries if q["kind"] == args.kind]
    modes = args.modes.split(",")

    scores: dict[str, dict[str, list[tuple[float, float]]]] = {m: defaultdict(list) for m in modes}
    times: dict[str, list[float]] = {m: [] for m in modes}
    # the same queries answered (≥ 1 result) by every mode: an empty answer is cheap
    # (no results to read, no facets), so these compare like with like
    both: dict[str, list[float]] = {m: [] for m in modes}
    misses: dict[str, list[str]] = {m: [] for m in modes}
    relaxed: dict[str, int] = {m: 0 for m in modes}
    for query in queries:
        asked: dict[str, list[float]] = {}
        answered = True
        for mode in modes:
            tk.config["ckanext.govservice.search.tuned"] = mode in ("tuned", "previous")
            as_before(mode == "previous")
            asked[mode] = []
            for round_ in range(max(2, args.repeat)):
                titles, seconds, was_relaxed = search(tk, facets, query["q"])
                if round_:
                    asked[mode].append(seconds)
            times[mode] += asked[mode]
            relaxed[mode] += was_relaxed
            answered = answered and bool(titles)
            recall, ndcg = judge(titles, query["must"])
            scores[mode][query["kind"]].append((recall, ndcg))
            if recall < 1:
                missed = [m for m in query["must"] if not any(t.startswith(m) for t in titles)]
                misses[mode].append(f"  {query['q']!r} ({query['kind']}): missed {missed}; got {titles[:5]}")
        if answered:    # each query's median of its rounds: one slow round is noise, not the query's cost
            for mode in modes:
                both[mode].append(statistics.median(asked[mode]))

    load_after = load()
    kinds = sorted({q["kind"] for q in queries})
    rounds = max(2, args.repeat) - 1
    with record.summary("search_quality"):
        print(f"{len(queries)} queries of bench/search_queries.yaml, every mode asked query by query in one "
              f"process ({rounds} timed rounds each, after one warm-up); load average {load_before} before, "
              f"{load_after} after ({os.cpu_count()} CPUs; {args.machine_note})")
        print()
        print("| kind | queries | " + " | ".join(f"{m} recall@{K} | {m} nDCG@{K}" for m in modes) + " |")
        print("| --- | ---: | " + " | ".join("---: | ---:" for _ in modes) + " |")
        for kind in kinds + ["all"]:
            cells = []
            for mode in modes:
                pairs = [p for k in kinds for p in scores[mode][k]] if kind == "all" else scores[mode][kind]
                cells += [f"{statistics.mean(p[0] for p in pairs):.3f}", f"{statistics.mean(p[1] for p in pairs):.3f}"]
            n = sum(len(scores[modes[0]][k]) for k in kinds) if kind == "all" else len(scores[modes[0]][kind])
            bold = (lambda x: f"**{x}**") if kind == "all" else (lambda x: x)
            print(f"| {bold(kind)} | {bold(n)} | " + " | ".join(bold(c) for c in cells) + " |")
        print()
        print("| latency (package_search in the process) | " + " | ".join(modes + [f"{m} / {modes[0]}" for m in modes[1:]])
              + " |")
        print("| --- | " + " | ".join("---:" for _ in range(2 * len(modes) - 1)) + " |")

        def row(label: str, values: dict[str, list[float]], p: float) -> None:
            if not all(values[m] for m in modes):
                return
            ms = [1000 * percentile(values[m], p) for m in modes]
            print(f"| {label} | " + " | ".join([f"{x:.1f} ms" for x in ms] + [f"{x / ms[0]:.2f}×" for x in ms[1:]])
                  + " |")
        row(f"p50, all {len(queries)} queries", times, 50)
        row(f"p95, all {len(queries)} queries", times, 95)
        row(f"p95, the {len(both[modes[0]])} queries every mode answers with results (each query's median)", both, 95)
        print()
        print("; ".join(f"{m}: {len(misses[m])} queries miss a service, {relaxed[m]} answered relaxed "
                        f"(asked a second time)" for m in modes))
        if misses.get("tuned"):
            print()
            print("Missed by the tuned search:")
            print()
            print("\n".join("-" + line[1:] for line in misses["tuned"]))
    if args.show_misses:
        for mode in modes:
            print(f"misses ({mode}): {len(misses[mode])}")
            print("\n".join(misses[mode]))
    if args.profile:
        profile(tk, facets, queries, rounds)


def profile(tk, facets: list[str], queries: list[dict], rounds: int) -> None:
    """The tuned mode's searches under cProfile: where the time goes, by cumulative time."""
    import cProfile
    import pstats
    tk.config["ckanext.govservice.search.tuned"] = True
    profiler = cProfile.Profile()
    profiler.enable()
    for query in queries:
        for _ in range(rounds):
            search(tk, facets, query["q"])
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
