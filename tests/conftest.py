"""Tests in this folder drive the stack `make up` started: CKAN over HTTP on
its port, and the services themselves (stopping and starting them)."""
from __future__ import annotations

import pytest
from ckanapi import RemoteCKAN

from .stackctl import CKAN_URL, ROOT


@pytest.fixture(scope="session")
def portal() -> RemoteCKAN:
    """The running portal (ckan.ini's site), as the local tools' sysadmin."""
    token = (ROOT / "var" / "api-token").read_text().strip()
    with RemoteCKAN(CKAN_URL, apikey=token, user_agent="govservice-tests") as ckan:
        yield ckan


@pytest.fixture(scope="session")
def anonymous_portal() -> RemoteCKAN:
    with RemoteCKAN(CKAN_URL, user_agent="govservice-tests") as ckan:
        yield ckan
