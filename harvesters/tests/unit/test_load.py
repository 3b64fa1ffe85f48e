"""Retries: on CKAN's 5xx answers, never on a record's own validation error."""
import ckanapi
import pytest

from govharvest.load import error_messages, error_sentence, with_retries


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


def test_errors_of_list_entries_read_as_sentences_not_dicts():
    errors = {"__type": "Validation Error",
              "fees": [{}, {"amount": ["must not be negative (got -5)"]}],
              "channels": [{"url": ["a channel of type online needs a web address (url)"],
                            "channel_type": ["Missing value"]}],
              "themes": ["'space_travel' is not a known themes"],
              "documents": [{}, {}]}

    assert error_messages(errors) == {
        "fees": ["entry 2, amount: must not be negative (got -5)"],
        "channels": ["entry 1, url: a channel of type online needs a web address (url)",
                     "entry 1, channel_type: Missing value"],
        "themes": ["'space_travel' is not a known themes"]}


def test_an_error_dict_in_one_line():
    assert error_sentence({"department": ["Not found: transport"], "upload": "Missing value"}) == (
        "department: Not found: transport; upload: Missing value")
