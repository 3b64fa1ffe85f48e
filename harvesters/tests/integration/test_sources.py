"""Changing a registered source: `govharvest source update` and `enable`, on the harvest database."""
import pytest
from click.testing import CliRunner

from govharvest import cli, db, sources


def govharvest(*args):
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def csv_source(harvest_db):
    with db.connect() as conn:
        sources.add(conn, name="market-csv", department="market-regulation", format="csv",
                    location="https://data.example.gov.cn/market/services.csv",
                    schedule="0 2 * * *", credentials_ref="env:MARKET_TOKEN",
                    defaults={"audience": "business"})
        with conn.cursor() as cur:
            cur.execute("UPDATE source SET last_etag = 'W/\"1\"', last_modified = 'Mon, 02 Nov 2026 "
                        "02:00:00 GMT' WHERE name = 'market-csv'")
    return "market-csv"


def stored(name):
    with db.connect() as conn:
        return sources.get(conn, name)


def test_a_new_location_keeps_the_other_settings_and_forgets_the_old_files_validators(csv_source):
    code, out = govharvest("source", "update", csv_source,
                           "--location", "https://data.example.gov.cn/market/v2/services.csv")

    assert code == 0, out
    source = stored(csv_source)
    assert source["location"] == "https://data.example.gov.cn/market/v2/services.csv"
    assert (source["format"], source["schedule"], source["credentials_ref"], source["defaults"]) == (
        "csv", "0 2 * * *", "env:MARKET_TOKEN", {"audience": "business"})
    assert (source["last_etag"], source["last_modified"]) == (None, None)


def test_giving_the_same_location_again_changes_nothing(csv_source):
    code, _ = govharvest("source", "update", csv_source,
                         "--location", "https://data.example.gov.cn/market/services.csv")
    assert code == 0
    assert stored(csv_source)["last_etag"] == 'W/"1"'   # the same file: no need to fetch it afresh


def test_a_new_schedule_alone_keeps_the_validators(csv_source):
    assert govharvest("source", "update", csv_source, "--schedule", "30 1 * * 1-5")[0] == 0
    source = stored(csv_source)
    assert source["schedule"] == "30 1 * * 1-5" and source["last_etag"] == 'W/"1"'
    assert govharvest("source", "update", csv_source, "--no-schedule")[0] == 0
    assert stored(csv_source)["schedule"] is None


def test_bad_changes_are_refused_naming_the_setting_and_nothing_changes(csv_source):
    code, out = govharvest("source", "update", csv_source, "--schedule", "every night")
    assert code == 2 and "schedule is not a cron expression: 'every night'" in out
    code, out = govharvest("source", "update", csv_source, "--format", "pdf")
    assert code == 2 and "format must be one of" in out and "(got 'pdf')" in out
    code, out = govharvest("source", "update", csv_source, "--credentials-ref", "s3cr3t-token")
    assert code == 2 and "credentials_ref must say where the secret is" in out
    assert "s3cr3t-token" not in out
    code, out = govharvest("source", "update", csv_source, "--withdraw-threshold", "20")
    assert code == 2 and "withdraw_threshold must be a share between 0 and 1" in out and "(got 20.0)" in out
    assert stored(csv_source)["schedule"] == "0 2 * * *" and stored(csv_source)["format"] == "csv"
    with db.connect() as conn, pytest.raises(sources.SourceError, match="department: not a setting"):
        sources.update(conn, csv_source, department="transport")


def test_an_unknown_source_and_an_empty_update_are_said_so(csv_source):
    code, out = govharvest("source", "update", "no-such-source", "--schedule", "0 3 * * *")
    assert code == 2 and "no harvest source named 'no-such-source'" in out
    code, out = govharvest("source", "update", csv_source)
    assert code == 2 and "say what to change" in out


def test_a_disabled_source_is_enabled_again_as_it_was(csv_source):
    govharvest("source", "disable", csv_source)
    assert stored(csv_source)["enabled"] is False

    code, out = govharvest("source", "enable", csv_source)

    assert (code, out.strip()) == (0, "source market-csv enabled")
    source = stored(csv_source)
    assert source["enabled"] is True and source["schedule"] == "0 2 * * *"
