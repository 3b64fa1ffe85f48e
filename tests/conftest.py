"""End-to-end tests: they drive the stack `make up` started — CKAN over HTTP on
its port, the services themselves (stopping and starting them), a browser,
backup and restore — and check the deployment files (Docker, nginx) and the
stack script. test_crawl.py is the exception, an integration test on the test
site in-process: it stays beside crawl.py, the crawler `make crawl` runs.

Unit tests live in the unit/ folders of the extension, harvesters/ and
datasets/ (`make test-unit`); integration tests against the test site in their
integration/ folders."""
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
