"""Local files and private addresses are for sources an operator registered as
local, per source, not for every source: a source's ``local`` flag (``govharvest
source add --local``) lets it read a file on this machine or reach a private
host; any other source is refused both, when registered, when moved, and when
fetched."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from govharvest import cli, db, extract, sources
from test_pipeline import ROWS, harvest, write_feed


def test_a_source_that_is_not_local_cannot_be_moved_to_a_local_file(harvest_db, tmp_path):
    with db.connect() as conn:
        sources.add(conn, name="remote", department="tax", format="csv",
                    location="https://feeds.example.gov.cn/services.csv")
        with pytest.raises(sources.SourceError) as refused:
            sources.update(conn, "remote", location="/etc/passwd")

    assert str(refused.value) == ("location /etc/passwd is a file on this machine: only a source an "
                                  "operator registers as local (source add --local) may read one")


def test_the_command_line_registers_a_local_file_only_with_local(harvest_db, tmp_path):
    feed = tmp_path / "services.csv"
    feed.write_text("x")
    add = ["source", "add", "mine", "--department", "tax", "--format", "csv", "--location", str(feed)]

    refused = CliRunner().invoke(cli.main, add)
    registered = CliRunner().invoke(cli.main, add + ["--local"])

    assert refused.exit_code == 2 and "is a file on this machine" in refused.output
    assert registered.exit_code == 0, registered.output
    with db.connect() as conn:
        assert sources.get(conn, "mine")["local"] is True


def test_a_job_of_a_source_not_local_fails_on_a_local_location(portal, department, source, tmp_path):
    write_feed(source, [ROWS["SC-1"]])
    with db.connect() as conn, conn.cursor() as cur:    # moved behind the registry's back
        cur.execute("UPDATE source SET location = %s WHERE name = 'csv-feed'", (str(source / "services.csv"),))

    report = harvest(portal, "csv-feed")

    assert report["status"] == "failed"
    assert report["error"] == (f"source location {source / 'services.csv'} is a file on this machine, and "
                               "the source is not registered as local")


def test_only_a_local_source_reaches_a_private_host_the_operator_did_not_allow(feed_server, monkeypatch):
    folder, url = feed_server
    (folder / "services.csv").write_text("基本编码\n")
    monkeypatch.delenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS")

    with pytest.raises(extract.ExtractError, match="resolves to 127.0.0.1, a private or local address"):
        extract.fetch(f"{url}/services.csv")
    fetched = extract.fetch(f"{url}/services.csv", local=True)

    assert fetched.path.read_text() == "基本编码\n"
