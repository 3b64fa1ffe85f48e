#!/usr/bin/env python3
"""Search throughput and p95 latency, the single core against the 2-node SolrCloud
collection, on the same documents, in the same run.

    .venv/bin/python bench/search_bench.py [--site govservice] [--requests 1200] [--concurrency 8]

The documents are the portal's (site id ``govservice``: the demo city after `make
demo`), read from the single core (http://127.0.0.1:8983/solr/ckan) and posted
unchanged into a SolrCloud started for the run by stack/solr/cloud.sh (ZooKeeper and
two nodes on free ports, var/solrcloud-bench, 2 shards x 2 replicas, the same
generated configset, nginx in front of the nodes), which it stops at the end. Each request is what CKAN's
package_search sends to Solr for an anonymous search of the service catalogue (dismax
over title, name, tags, text; CKAN's filters; the service facets), with a query drawn
in turn from words of the catalogue. Both targets get the same warm-up and then the same
sequence of requests from ``--concurrency`` threads; the cloud is asked through the
nginx in front of its nodes, as CKAN asks it. Prints a Markdown table (requests/s, p50, p95, p99 in ms).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "stack" / "solr"))
import record  # noqa: E402  (bench/record.py: the summary is kept in bench/results/search.md)
import selftest  # noqa: E402  (CKAN's request parameters)

WORDS = ["营业执照", "证明", "登记", "许可", "备案", "社会保险", "公积金", "户口", "学校", "税务",
         "申请", "变更", "注销", "补办", "护照", "驾驶证", "医疗", "退休", "tax", "licence"]
FACETS = ["organization", "themes_ss", "life_events_ss", "audience_ss", "channel_types_ss",
          "online_depth_ss", "in_person_visits_i", "is_free_b", "status_ss"]


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def get(url: str, params) -> dict:
    with urllib.request.urlopen(f"{url}?{urllib.parse.urlencode(params, doseq=True)}", timeout=60) as r:
        return json.load(r)


def post(url: str, body) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as r:
        r.read()


def copy_documents(single: str, cloud: str, site: str) -> int:
    """Every stored field of the site's documents; copyField targets are made again."""
    docs, cursor = [], "*"
    while True:
        page = get(f"{single}/select", {"q": "*:*", "fq": f'site_id:"{site}"', "fl": "*", "rows": 500,
                                        "sort": "index_id asc", "cursorMark": cursor, "wt": "json"})
        docs += [{k: v for k, v in d.items() if k != "_version_"} for d in page["response"]["docs"]]
        if page["nextCursorMark"] == cursor:
            break
        cursor = page["nextCursorMark"]
    for i in range(0, len(docs), 500):
        post(f"{cloud}/update", docs[i:i + 500])
    post(f"{cloud}/update?commit=true", {})
    return len(docs)


def run(url: str, site: str, requests: int, concurrency: int) -> dict:
    selftest.SITE = site

    def one(i: int) -> float:
        params = selftest.ckan_params(WORDS[i % len(WORDS)])
        params["fq"] = params["fq"] + ["+dataset_type:service"]
        params["facet.field"] = FACETS
        params["rows"] = 21
        started = time.perf_counter()
        answer = get(f"{url}/select", params)
        assert answer["responseHeader"]["status"] == 0
        return (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(len(WORDS) * 2)))   # warm-up: caches, connections
        started = time.perf_counter()
        times = sorted(pool.map(one, range(requests)))
        elapsed = time.perf_counter() - started
    return {"rps": requests / elapsed, "p50": statistics.median(times),
            "p95": times[int(len(times) * 0.95) - 1], "p99": times[int(len(times) * 0.99) - 1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--single", default="http://127.0.0.1:8983/solr/ckan")
    parser.add_argument("--site", default="govservice")
    parser.add_argument("--requests", type=int, default=1200)
    parser.add_argument("--concurrency", type=int, default=8)
    record.add_arguments(parser)
    args = parser.parse_args()
    load_before = record.load_average()

    schema = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c",
                             "import ckan, os; print(os.path.join(os.path.dirname(ckan.__file__), 'config/solr/schema.xml'))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    zk, lb, p1, p2 = free_ports(4)
    folder = ROOT / "var" / "solrcloud-bench"
    shutil.rmtree(folder, ignore_errors=True)
    env = {**os.environ, "GOVSERVICE_SOLR_CLOUD_DIR": str(folder), "GOVSERVICE_ZK_PORT": str(zk),
           "GOVSERVICE_SOLR_CLOUD_PORTS": f"{p1} {p2}", "GOVSERVICE_SOLR_CLOUD_HEAP": "512m",
           "GOVSERVICE_SOLR_CLOUD_LB_PORT": str(lb),
           "GOVSERVICE_SOLR_LB_NGINX": str(Path(os.environ.get("GOVSERVICE_VAR", ROOT / "var"))
                                           / "docker-tools" / "nginx" / "usr" / "sbin" / "nginx"),
           "GOVSERVICE_SOLR_CACHE": os.environ.get("GOVSERVICE_SOLR_CACHE", str(
               Path(os.environ.get("GOVSERVICE_CACHE", Path.home() / ".cache" / "govservice")) / "solr-9.10.1"))}
    cloud_sh = ["bash", str(ROOT / "stack" / "solr" / "cloud.sh")]
    subprocess.run(cloud_sh + ["start", schema], env=env, check=True, stdout=subprocess.DEVNULL)
    try:
        cloud = f"http://127.0.0.1:{lb}/solr/ckan"
        copied = copy_documents(args.single, cloud, args.site)
        counted = get(f"{cloud}/select", {"q": "*:*", "rows": 0, "wt": "json"})["response"]["numFound"]
        assert counted == copied > 0, (counted, copied)
        results = {}
        for name, url in (("single core", args.single),
                          ("SolrCloud, 2 nodes, 2 shards × 2 replicas, through nginx", cloud)):
            results[name] = run(url, args.site, args.requests, args.concurrency)
            print(f"{name}: {results[name]['rps']:.0f} requests/s", flush=True)
    finally:
        subprocess.run(cloud_sh + ["stop"], env=env, stdout=subprocess.DEVNULL)
        shutil.rmtree(folder, ignore_errors=True)
    print()
    with record.summary("search", load_before=load_before, note=args.machine_note) as kept:
        print(f"{copied:,} documents of site `{args.site}` copied from the single core into a SolrCloud started "
              f"for the run; the same {args.requests:,} requests (CKAN's package_search for the service "
              f"catalogue, {len(FACETS)} facets, 21 rows, {len(WORDS)} query words in turn) from "
              f"{args.concurrency} threads to each, one after the other\n")
        print("| target | requests/s | p50 ms | p95 ms | p99 ms |\n| --- | --- | --- | --- | --- |")
        for name, r in results.items():
            print(f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} |")
        single, cloud_r = results.values()
        print(f"\nsingle core / SolrCloud: {single['rps'] / cloud_r['rps']:.1f}× the requests/s")
        kept.value("single-vs-cloud", f"{single['rps'] / cloud_r['rps']:.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
