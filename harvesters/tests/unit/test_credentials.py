"""A source's credentials: a reference that may be the secret itself, or a password
in the location, is refused; the admin API shows no reference; a reference is
resolved at fetch time into the Authorization header (a guarded feed harvested
into the test site: integration/test_credentials_at_fetch.py)."""
from __future__ import annotations

import pytest

from govharvest import admin, extract, sources

SECRET = "Bearer s3cret-7f1c9a"


@pytest.mark.parametrize("ref", ["Bearer s3cret-7f1c9a", "env:", "file:relative/path", "s3cret"])
def test_a_reference_that_may_be_the_secret_itself_is_refused_without_echoing_it(ref):
    with pytest.raises(sources.SourceError) as refused:
        sources.check({"format": "csv", "location": "https://x.example", "credentials_ref": ref})
    assert "s3cret" not in str(refused.value)


def test_a_password_in_the_location_is_refused():
    with pytest.raises(sources.SourceError, match="must not carry a password"):
        sources.check({"format": "csv", "location": "https://u:s3cret@x.example/f.csv"})


def test_the_admin_api_shows_no_reference_at_all():
    assert "credentials_ref" not in admin._public({"name": "x", "credentials_ref": "env:FEED_TOKEN"})


def test_resolution_happens_at_fetch_time_from_the_reference(monkeypatch):
    monkeypatch.setenv("FEED_TOKEN", SECRET)
    assert sources.credentials_headers("env:FEED_TOKEN") == {"Authorization": SECRET}
    with pytest.raises(extract.ExtractError, match="must be user:password"):
        sources.credentials_headers("basic:env:FEED_TOKEN")
