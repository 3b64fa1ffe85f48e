"""Search quality against the demo city: recall@10, nDCG@10 and latency.

    .venv/bin/python bench/search_quality.py --ini var/bench-4.ini [--modes stock,tuned] [--show-misses]

Runs inside one Python process against a site holding the demo city (a copy of
the demo portal's databases with a Solr site id of its own; see bench/README.md
for how var/bench-4.ini was made). Each query of bench/search_queries.yaml goes
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
"""
from __future__ import annotations

import argparse
import math
import statistics
import time
from collections import defaultdict
from pathlib import Path

import yaml

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


def search(tk, facets: list[str], q: str) -> tuple[list[str], float]:
    started = time.perf_counter()
    result = tk.get_action("package_search")({"ignore_auth": True}, {
        "q": q, "fq": "+dataset_type:service", "rows": K, "facet.field": facets})
    return [r["title"] for r in result["results"]], time.perf_counter() - started


def p95_ms(values: list[float]) -> str:
    return f"{1000 * percentile(values, 95):.1f}" if values else "-"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(p / 100 * len(ordered))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ini", required=True, help="a site holding the demo city (not the portal's ckan.ini)")
    parser.add_argument("--modes", default="stock,tuned")
    parser.add_argument("--repeat", type=int, default=3, help="times each query is asked per mode (≥ 2)")
    parser.add_argument("--show-misses", action="store_true", help="list each query that misses a service")
    parser.add_argument("--kind", help="only queries of this kind")
    args = parser.parse_args()

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
    for query in queries:
        asked: dict[str, list[float]] = {}
        answered = True
        for mode in modes:
            tk.config["ckanext.govservice.search.tuned"] = mode == "tuned"
            asked[mode] = []
            for round_ in range(max(2, args.repeat)):
                titles, seconds = search(tk, facets, query["q"])
                if round_:
                    asked[mode].append(seconds)
            times[mode] += asked[mode]
            answered = answered and bool(titles)
            recall, ndcg = judge(titles, query["must"])
            scores[mode][query["kind"]].append((recall, ndcg))
            if recall < 1:
                missed = [m for m in query["must"] if not any(t.startswith(m) for t in titles)]
                misses[mode].append(f"  {query['q']!r} ({query['kind']}): missed {missed}; got {titles[:5]}")
        if answered:
            for mode in modes:
                both[mode] += asked[mode]

    kinds = sorted({q["kind"] for q in queries})
    print(f"{len(queries)} queries; recall@{K} / nDCG@{K} per kind and mode")
    print(f"{'kind':14}{'n':>4}" + "".join(f"{m + ' R':>12}{m + ' nDCG':>13}" for m in modes))
    for kind in kinds + ["ALL"]:
        row = f"{kind:14}"
        for i, mode in enumerate(modes):
            pairs = [p for k in kinds for p in scores[mode][k]] if kind == "ALL" else scores[mode][kind]
            if i == 0:
                row += f"{len(pairs):>4}"
            row += f"{statistics.mean(p[0] for p in pairs):>12.3f}{statistics.mean(p[1] for p in pairs):>13.3f}"
        print(row)
    print("latency (ms): " + "; ".join(
        f"{m} p50 {1000 * statistics.median(times[m]):.1f} p95 {1000 * percentile(times[m], 95):.1f}"
        for m in modes))
    if len(modes) == 2:
        a, b = (percentile(times[m], 95) for m in modes)
        print(f"p95 {modes[1]} / {modes[0]}: {b / a:.2f}x")
        if both[modes[0]]:
            a, b = (percentile(both[m], 95) for m in modes)
            print(f"queries both answer ({len(both[modes[0]]) // (max(2, args.repeat) - 1)}): p95 "
                  + "; ".join(f"{m} {p95_ms(both[m])}" for m in modes) + f"; {b / a:.2f}x")
    if args.show_misses:
        for mode in modes:
            print(f"misses ({mode}): {len(misses[mode])}")
            print("\n".join(misses[mode]))


if __name__ == "__main__":
    main()
