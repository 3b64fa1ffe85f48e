"""Which addresses a fetch may connect to: global ones only, unless the
operator allows the host by name (extract.address_allowed). Pure: nothing is
resolved or connected."""
from __future__ import annotations

import ipaddress

import pytest

from govharvest import extract


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1",
    "100.64.0.1",        # shared address space (carrier-grade NAT, a cloud's metadata service)
    "169.254.169.254",   # link-local: the classic cloud metadata address
    "0.0.0.0", "192.0.2.7", "198.18.0.1", "224.0.0.1", "255.255.255.255",
    "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "ff02::1",
])
def test_a_non_global_address_is_refused(address, monkeypatch):
    monkeypatch.delenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", raising=False)
    assert not extract.address_allowed("feeds.example.gov.cn", ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888"])
def test_a_global_address_is_allowed(address, monkeypatch):
    monkeypatch.delenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", raising=False)
    assert extract.address_allowed("feeds.example.gov.cn", ipaddress.ip_address(address))


def test_a_host_the_operator_allows_may_have_a_private_address(monkeypatch):
    monkeypatch.setenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", "feeds.internal, 127.0.0.1")
    assert extract.address_allowed("feeds.internal", ipaddress.ip_address("10.1.2.3"))
    assert not extract.address_allowed("other.internal", ipaddress.ip_address("10.1.2.3"))


def test_shared_address_space_is_refused_for_a_registered_location(monkeypatch):
    monkeypatch.delenv("GOVHARVEST_ALLOW_PRIVATE_HOSTS", raising=False)
    with pytest.raises(extract.ExtractError, match="private or local address"):
        extract.check_location("http://100.64.0.1/latest/meta-data/")
