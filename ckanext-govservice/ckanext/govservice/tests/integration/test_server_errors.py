"""A server error: logged with the page and the service, answered with the
platform's error page in the page's language (as a live site does: tests
otherwise let errors propagate)."""
from __future__ import annotations

import pytest

import ckan.plugins.toolkit as tk
from ckan.config.middleware import make_app
from ckan.tests.helpers import CKANTestApp

from ckanext.govservice import jsonld

from .. import factories as gov


@pytest.fixture
def live_app(monkeypatch):
    """The app as production builds it: not in testing mode, so errors are handled."""
    monkeypatch.setitem(tk.config, "testing", False)
    return CKANTestApp(make_app(tk.config))


@pytest.fixture
def broken_service(dept, sysadmin, monkeypatch):
    service = gov.service(dept["id"], context=dict(sysadmin), name="business-licence")

    def fail(*args, **kwargs):
        raise RuntimeError("a helper failed")
    monkeypatch.setattr(jsonld, "service_jsonld", fail)
    return service


@pytest.mark.usefixtures("broken_service")
def test_the_error_is_logged_with_the_path_and_the_service(live_app, errors_logged):
    live_app.get("/service/business-licence?x=1", status=500)
    logged = errors_logged("ckanext.govservice.server_errors")
    assert [r.getMessage() for r in logged] == [
        "server error on GET /service/business-licence?x=1 (service business-licence): RuntimeError"]
    assert logged[0].exc_info[1].args == ("a helper failed",)


@pytest.mark.usefixtures("broken_service")
@pytest.mark.parametrize("prefix, heading, message", [
    ("", "500 服务器出错了", "很抱歉，服务器处理时出错。"),
    ("/en", "500 Something went wrong", "Sorry, the server failed to handle this."),
])
def test_the_citizen_sees_the_platforms_error_page_in_their_language(live_app, prefix, heading, message):
    body = live_app.get(f"{prefix}/service/business-licence", status=500).body
    assert f"<h1>{heading}</h1>" in body
    assert message in body
    assert 'href="' + prefix + '/service/"' in body   # a way on: the service search
