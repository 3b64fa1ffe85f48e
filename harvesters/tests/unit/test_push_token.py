"""``govharvest push`` takes the department's CKAN token from a file, the
environment or a hidden prompt, never from its command line (which any user of
the machine sees in ``ps``)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from govharvest import cli


@pytest.fixture
def sent(monkeypatch, tmp_path):
    """The Authorization header each push sent (nothing leaves the process)."""
    import requests
    authorizations = []

    class Accepted:
        status_code = 200
        headers = {"content-type": "application/json"}

        def json(self):
            return {"status": "done"}

    def post(url, headers=None, **kwargs):
        authorizations.append(headers["Authorization"])
        return Accepted()
    monkeypatch.setattr(requests, "post", post)
    monkeypatch.setenv("GOVHARVEST_ENV_FILE", "")
    monkeypatch.setenv("GOVHARVEST_ADMIN_URL", "http://admin.example")
    monkeypatch.delenv("GOVHARVEST_PUSH_TOKEN", raising=False)
    monkeypatch.delenv("GOVHARVEST_PUSH_TOKEN_FILE", raising=False)
    (tmp_path / "services.csv").write_text("基本编码\n")
    return authorizations


def _push(tmp_path, *args, **kwargs):
    return CliRunner().invoke(cli.main, ["push", str(tmp_path / "services.csv"), "--department", "tax", *args],
                              **kwargs)


def test_a_token_on_the_command_line_is_not_accepted(sent, tmp_path):
    result = _push(tmp_path, "--token", "s3cret")

    assert result.exit_code == 2 and "No such option '--token'" in result.output
    assert sent == []


def test_the_token_is_read_from_a_file(sent, tmp_path):
    (tmp_path / "token").write_text("s3cret-from-file\n")

    result = _push(tmp_path, "--token-file", str(tmp_path / "token"))

    assert result.exit_code == 0, result.output
    assert sent == ["s3cret-from-file"]


def test_without_a_file_or_the_environment_the_token_is_asked_for_without_echo(sent, tmp_path):
    result = _push(tmp_path, input="s3cret-typed\n")

    assert result.exit_code == 0, result.output
    assert sent == ["s3cret-typed"]
    assert "s3cret-typed" not in result.output        # typed, not shown
