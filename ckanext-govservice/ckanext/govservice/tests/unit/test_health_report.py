"""govservice_health's report: the overall status, redacted addresses, a probe that
raises (every dependency probed for real is in integration/test_health.py)."""
from ckanext.govservice import health


def test_overall_status_is_degraded_when_any_service_is_down():
    assert health.overall_status({"a": {"status": "up"}, "b": {"status": "down"}}) == "degraded"
    assert health.overall_status({"a": {"status": "up"}}) == "ok"


def test_redact_url_drops_credentials():
    assert health.redact_url("postgresql://ckan:s3cret@db:5432/ckan") == "postgresql://db:5432/ckan"


def test_a_probe_that_raises_is_reported_down_not_raised():
    def broken():
        raise RuntimeError("boom")
    assert health.timed(broken)["status"] == "down"
    assert health.timed(broken)["error"] == "RuntimeError: boom"
