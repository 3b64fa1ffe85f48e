"""The readers alone on hostile bodies (the same bodies, harvested into the test
site with nothing published changed: integration/test_hostile_bodies.py): each a
FormatError saying why, quoting at most a short escaped excerpt, fetching nothing."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ckanext.govservice.core import untrusted
from govharvest import formats
from govharvest.errors import FormatError, JobError, RecordError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from test_hostile_bodies import HOSTILE  # noqa: E402


@pytest.mark.parametrize("attack", sorted(a for a in HOSTILE if not callable(HOSTILE[a][2])))
def test_a_hostile_body_is_a_format_error_naming_why(attack, tmp_path):
    fmt, file, body, reason = HOSTILE[attack]
    (tmp_path / file).write_bytes(body)

    with pytest.raises(FormatError) as refused:
        list(formats.READERS[fmt](tmp_path / file))

    assert reason in str(refused.value)
    assert len(str(refused.value)) <= 600


@pytest.mark.parametrize("where", ["node", "import"])
def test_a_jsonld_context_to_fetch_is_refused_before_parsing(where, tmp_path, monkeypatch):
    from test_hostile_bodies import _jsonld_naming
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the reader tried to connect")
    monkeypatch.setattr(socket, "create_connection", no_network)
    (tmp_path / "f.jsonld").write_bytes(_jsonld_naming("http://contexts.example/ctx", where))

    with pytest.raises(FormatError) as refused:
        list(formats.READERS["cpsv"](tmp_path / "f.jsonld"))

    assert str(refused.value) == ("CPSV-AP feed could not be read: the feed names a JSON-LD context to "
                                  "fetch (http://contexts.example/ctx), which the harvester does not "
                                  "fetch: inline the context, or send Turtle")


def test_an_xlsx_whose_parts_declare_entities_is_refused(tmp_path):
    import zipfile
    from test_hostile_bodies import BILLION_LAUGHS
    from openpyxl import Workbook
    book = Workbook()
    book.active.append(["事项编码", "事项名称"])
    book.save(tmp_path / "good.xlsx")
    with zipfile.ZipFile(tmp_path / "good.xlsx") as good, \
            zipfile.ZipFile(tmp_path / "bad.xlsx", "w") as bad:
        for part in good.infolist():
            data = good.read(part)
            if part.filename == "xl/worksheets/sheet1.xml":
                data = BILLION_LAUGHS.encode()
            bad.writestr(part, data)

    with pytest.raises(FormatError) as refused:
        list(formats.READERS["xlsx"](tmp_path / "bad.xlsx"))

    assert str(refused.value).startswith("XLSX could not be read: xl/worksheets/sheet1.xml: "
                                         "the XML declares a DOCTYPE")


def test_job_and_record_errors_are_bounded_and_escaped():
    job = JobError("source said: " + "\x1b[31m" + "x" * 10_000)
    record = RecordError("title", "\r\nFORGED" + "y" * 10_000)

    assert str(job).startswith(r"source said: \x1b[31mxxx") and len(str(job)) <= 600
    assert record.reason.startswith(r"\r\nFORGEDyyy") and len(str(record)) <= 600
    assert record.field == "title"


def test_an_excerpt_escapes_control_characters_and_says_how_much_was_left_out():
    assert untrusted.excerpt("a\nb\x00c" + "z" * 200, 10) == r"a\nb\x00czzzzz… (195 more characters)"
    assert untrusted.excerpt("事项名称") == "事项名称"
