"""Retries: on CKAN's 5xx answers, never on a record's own validation error."""
import ckanapi
import pytest

from govharvest.load import with_retries


def failing(errors):
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "saved"
    return call, calls


def server_error(status):
    long_url = "http://127.0.0.1:5000/api/action/package_update" + "x" * 40
    return ckanapi.CKANAPIError(repr([long_url, status, '{"success": false}']))


def test_a_5xx_is_retried_until_it_succeeds():
    call, calls = failing([server_error(502), server_error(500)])
    assert with_retries(call, pause=0) == "saved"
    assert len(calls) == 3


def test_a_4xx_is_not_retried():
    call, calls = failing([server_error(409)])
    with pytest.raises(ckanapi.CKANAPIError):
        with_retries(call, pause=0)
    assert len(calls) == 1


def test_a_validation_error_is_not_retried():
    call, calls = failing([ckanapi.ValidationError({"title": ["Missing value"]})])
    with pytest.raises(ckanapi.ValidationError):
        with_retries(call, pause=0)
    assert len(calls) == 1
