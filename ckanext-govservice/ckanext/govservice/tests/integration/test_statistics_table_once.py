"""Two statistics loads starting together on a new platform (several harvest
workers) make one statistics table between them, not two, and neither fails."""
from __future__ import annotations

import threading

from ckan import model
from ckan.tests import helpers

from ckanext.govservice import statistics_publish, statistics_store as store


def test_two_processes_asking_at_once_make_one_table(statistics_db, app):
    tables, errors = [], []
    start = threading.Barrier(2)

    def ask():
        with app.flask_app.test_request_context():
            try:
                start.wait()
                tables.append(statistics_publish.statistics_table())
            except Exception as e:     # a failure here is the defect this test is about
                errors.append(repr(e))
            finally:
                model.Session.remove()

    workers = [threading.Thread(target=ask) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)

    assert errors == []
    assert len(tables) == 2 and tables[0] == tables[1]
    dataset = helpers.call_action("package_show", id=store.DATASET)
    assert [r["id"] for r in dataset["resources"] if r.get(store.RESOURCE_KEY) == "rows"] == [tables[0]]
