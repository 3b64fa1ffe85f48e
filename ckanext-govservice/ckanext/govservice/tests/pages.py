"""Fetching a page in a test: the answer's status is always checked, so a test
that reads a page never passes on an error page that happens to hold its words."""
from __future__ import annotations

from typing import Any


def checked(app, url: str, status: int = 200, **kwargs):
    """``app.get(url, **kwargs)``, failing the test unless it answered ``status``."""
    response = app.get(url, **kwargs)
    assert response.status_code == status, \
        f"GET {url} answered {response.status_code}, not {status}: {response.get_data(as_text=True)[:300]}"
    return response


def fetch(app, url: str, status: int = 200, **kwargs) -> str:
    """The page's text (status checked)."""
    return checked(app, url, status, **kwargs).get_data(as_text=True)


def fetch_json(app, url: str, status: int = 200, **kwargs) -> Any:
    """The answer's JSON (status checked)."""
    return checked(app, url, status, **kwargs).json
