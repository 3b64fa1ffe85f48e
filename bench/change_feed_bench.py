"""How much an Atom feed of changes (issue 17, subscriptions.py) costs when its
cache is cold: the one SQL query a feed makes (the latest 50 changes of a
service, a department, a theme or a life event, each with the version before
it) and the sentences made from them, against a named baseline run in the same
process on the same database: CKAN's own "recently changed packages" query (the
latest 50 public package activities, no previous version, no sentences).

Read-only; run after `make demo` against the portal's database:

    .venv/bin/python bench/change_feed_bench.py [ckan.ini] [repeats]
"""
from __future__ import annotations

import configparser
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import record  # noqa: E402

BASELINE = """
    SELECT act.id, act.timestamp, act.data FROM activity act
    WHERE act.activity_type IN ('new package', 'changed package') AND 'public' = ANY(act.permission_labels)
    ORDER BY act.timestamp DESC LIMIT 50"""


def _median_ms(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    ini = sys.argv[1] if len(sys.argv) > 1 else "ckan.ini"
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read(ini)
    engine = sa.create_engine(parser["app:main"]["sqlalchemy.url"])

    import ckan.plugins.toolkit as tk
    from ckanext.govservice import subscriptions
    tk.config["ckan.site_url"] = "http://portal"     # the entries' links; nothing is served

    with engine.connect() as conn:
        def feed(follows: str, value: str):
            condition, params = subscriptions._filter(follows, value)
            query = sa.text(subscriptions._changes_query(condition, "DESC", subscriptions.FEED_ENTRIES)).bindparams(
                sa.bindparam("types", expanding=True))
            rows = conn.execute(query, {**params, "types": list(subscriptions.PACKAGE_ACTIVITIES)}).fetchall()
            return [c for c in map(subscriptions._change, rows) if c]

        busiest = conn.execute(sa.text("""
            SELECT p.name, o.name FROM package p JOIN "group" o ON o.id = p.owner_org
            JOIN activity a ON a.object_id = p.id WHERE p.type = 'service' AND NOT p.private
            GROUP BY p.name, o.name ORDER BY count(*) DESC LIMIT 1""")).one()
        services, activities = conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM package WHERE type = 'service'), (SELECT count(*) FROM activity)")).one()
        baseline = _median_ms(lambda: conn.execute(sa.text(BASELINE)).fetchall(), repeats)
        cases = [("service", busiest[0]), ("department", busiest[1]), ("theme", "business"),
                 ("life_event", "starting_a_business")]
        measured = [(f, v, _median_ms(lambda: feed(f, v), repeats), len(feed(f, v))) for f, v in cases]

    with record.summary("change_feed"):
        print(f"{services} services, {activities} activities; median of {repeats} cold (uncached) feeds\n")
        print("| feed | entries | ms | × baseline |")
        print("| --- | --- | --- | --- |")
        print(f"| baseline: CKAN's recently changed packages (50, no diff) | 50 | {baseline:.1f} | 1.0 |")
        for follows, value, ms, entries in measured:
            print(f"| {follows} {value} | {entries} | {ms:.1f} | {ms / baseline:.1f} |")


if __name__ == "__main__":
    main()
