"""The admin app's sign-in: the browser holds only a random session id (Secure,
HttpOnly, SameSite=Strict, expiring); the CKAN token stays on the server, is
gone at logout, and every state-changing form needs the session's CSRF token."""
from __future__ import annotations

import re

import pytest

from govharvest import admin

from test_admin import client, editor_of, other_department  # noqa: F401  (fixtures)


@pytest.fixture
def sessions(settings, monkeypatch):
    monkeypatch.setenv("GOVHARVEST_REDIS_URL", settings["GOVHARVEST_TEST_REDIS_URL"])


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _page(client, path: str) -> str:
    """The page's text, failing the test unless it answered 200."""
    response = client.get(path)
    assert response.status_code == 200, f"GET {path} answered {response.status_code}"
    return response.get_data(as_text=True)


def _sign_in(client, token):
    login = _page(client, "/login")
    return client.post("/login", data={"token": token, "csrf_token": _csrf(login)})


def test_the_session_cookie_holds_a_reference_not_the_token(sessions, client, editor_of, department):
    token = editor_of(department)

    response = _sign_in(client, token)

    assert response.status_code == 302
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(admin.SESSION_COOKIE)]
    assert token not in cookie
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Max-Age=28800"))
    session_id = client.get_cookie(admin.SESSION_COOKIE).value
    assert len(session_id) >= 40 and token not in session_id
    assert client.get("/api/sources").status_code == 200          # signed in by the reference alone


def test_a_state_changing_form_without_the_sessions_csrf_token_is_refused(sessions, client, editor_of,
                                                                         department):
    _sign_in(client, editor_of(department))
    page = _page(client, "/")

    assert client.post("/api/sources/mine/run").status_code == 403
    assert client.post("/api/sources/mine/run", data={"csrf_token": "forged"}).status_code == 403
    assert client.post("/api/sources/mine/run", data={"csrf_token": _csrf(page)}).status_code == 202


def test_a_login_form_posted_from_elsewhere_is_refused(sessions, client, editor_of, department):
    response = client.post("/login", data={"token": editor_of(department)})

    assert response.status_code == 403
    assert client.get_cookie(admin.SESSION_COOKIE) is None


def test_logout_ends_the_session_on_the_server(sessions, client, editor_of, department):
    _sign_in(client, editor_of(department))
    session_id = client.get_cookie(admin.SESSION_COOKIE).value
    page = _page(client, "/")

    response = client.post("/logout", data={"csrf_token": _csrf(page)})

    assert response.status_code == 302
    assert client.get_cookie(admin.SESSION_COOKIE) is None
    client.set_cookie(admin.SESSION_COOKIE, session_id)             # the old reference, replayed
    assert client.get("/api/sources").status_code == 401


def test_an_api_call_with_its_own_token_needs_no_csrf_token(sessions, client, editor_of, department):
    response = client.post("/api/sources/mine/run", headers={"Authorization": editor_of(department)})

    assert response.status_code == 202
