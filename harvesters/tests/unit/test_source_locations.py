"""A source's location carries no credentials: a user name or a credential-like
query parameter is refused (the secret goes in credentials_ref), and wherever a
location is shown (admin API and page, CLI listings, errors) it is shown
without its query string, user or password."""
from __future__ import annotations

import pytest

from govharvest import admin, extract, sources


@pytest.mark.parametrize("location", [
    "https://feeds.example.gov.cn/services.csv?token=s3cret",
    "https://feeds.example.gov.cn/services.csv?format=csv&api_key=s3cret",
    "https://feeds.example.gov.cn/services.csv?ACCESS_TOKEN=s3cret",
    "https://feeds.example.gov.cn/services.csv?sig=s3cret&expires=1",
    "https://feeds.example.gov.cn/services.csv?X-Amz-Signature=s3cret",
])
def test_a_credential_in_the_query_is_refused_without_echoing_it(location):
    with pytest.raises(sources.SourceError) as refused:
        sources.check({"format": "csv", "location": location})

    assert str(refused.value).startswith("location must not carry credentials in its query (")
    assert "s3cret" not in str(refused.value)


def test_a_user_name_in_the_location_is_refused():
    with pytest.raises(sources.SourceError) as refused:
        sources.check({"format": "csv", "location": "https://s3cret@feeds.example.gov.cn/services.csv"})

    assert str(refused.value) == ("location must not carry a password or user name: "
                                  "give the secret as credentials_ref")


def test_an_ordinary_query_is_kept():
    sources.check({"format": "csv", "location": "https://feeds.example.gov.cn/services.csv?page=1&format=csv"})


def test_a_location_is_shown_without_query_or_user():
    shown = admin._public({"name": "old", "location": "https://u:s3cret@feeds.example.gov.cn/s.csv?token=s3cret"})

    assert shown == {"name": "old", "location": "https://feeds.example.gov.cn/s.csv"}
    assert extract.shown("/var/lib/govharvest/push/x.csv") == "/var/lib/govharvest/push/x.csv"
