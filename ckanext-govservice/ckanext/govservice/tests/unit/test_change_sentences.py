"""core/changes.py: two versions of a service compared field by field, in words."""
import copy

from ...core import changes
from .. import samples


def _service(**overrides):
    return {**copy.deepcopy(samples.sent(1)), **overrides}


def _en(before, after):
    return [c["en"] for c in changes.service_changes(before, after)]


def test_a_fee_cut_says_the_old_and_new_amounts():
    before = _service(fees=[{"name": "工本费", "amount": "80.00", "currency": "CNY"}])
    after = _service(fees=[{"name": "工本费", "amount": "0.00", "currency": "CNY"}])
    assert _en(before, after) == ["Fees (工本费): 80.00 → 0.00 yuan"]


def test_a_document_dropped_is_no_longer_required():
    before = _service(documents=[{"name": "户口簿", "mandatory": "true"}, {"name": "居民身份证", "mandatory": "true"}])
    after = _service(documents=[{"name": "居民身份证", "mandatory": "true"}])
    assert _en(before, after) == ["Documents to bring: 户口簿 no longer required"]


def test_a_document_made_mandatory_is_now_required():
    before = _service(documents=[{"name": "户口簿", "mandatory": False}])
    after = _service(documents=[{"name": "户口簿", "mandatory": True}])
    assert _en(before, after) == ["Documents to bring: 户口簿 now required"]


def test_a_withdrawal_is_said_once_and_first():
    before = _service(status="active", committed_limit=2)
    after = _service(status="withdrawn", committed_limit=5)
    said = _en(before, after)
    assert said[0] == "withdrawn" and len([s for s in said if "Status" in s]) == 0
    assert "Committed time limit: 2 → 5" in said


def test_a_code_is_said_by_its_label_in_each_language():
    found = changes.service_changes(_service(audience="citizen"), _service(audience="business"))
    assert [(c["en"], c["zh_Hans_CN"]) for c in found] == [
        ("Audience: Citizens → Businesses", "服务对象：自然人 → 法人")]


def test_themes_added_and_removed_are_named():
    said = _en(_service(themes=["business", "tax"]), _service(themes=["business", "housing"]))
    assert said == ["Themes: Housing added", "Themes: Tax removed"]


def test_a_long_text_is_said_to_have_changed_not_quoted():
    said = _en(_service(notes="甲" * 200), _service(notes="乙" * 200))
    assert said == ["Description (Chinese) changed"]


def test_derived_and_provenance_fields_are_not_changes():
    before = _service(content_hash="a", harvested_at="2026-01-01", committed_days=3)
    after = _service(content_hash="b", harvested_at="2026-02-01", committed_days=9)
    assert _en(before, after) == []


def test_a_first_version_is_published():
    assert _en(None, _service()) == ["published"]


def test_every_optional_field_may_be_absent():
    bare = {"title": "样例", "owner_org": "x"}
    assert changes.service_changes(bare, dict(bare)) == []
    assert _en(bare, {**bare, "fees": [{"name": "工本费", "amount": 5}]}) == ["Fees: 工本费 added"]


def test_a_summary_counts_what_it_leaves_out():
    said = changes.service_changes(_service(themes=[]), _service(themes=["business", "tax", "housing", "health"]))
    assert changes.summary(said, "en", limit=2).endswith("; 2 more")


def test_the_atom_feed_has_the_elements_rfc_4287_requires():
    import datetime as dt
    from xml.etree import ElementTree as ET
    when = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.timezone.utc)
    text = changes.atom({"id": "https://x/service/a/changes.atom", "title": "A & B", "link": "https://x/service/a",
                         "self": "https://x/service/a/changes.atom", "updated": when},
                        [{"id": "urn:uuid:1", "title": "<fee>", "link": "https://x/service/a", "updated": when,
                          "content": ["Fees (工本费): 80.00 → 0.00 yuan"]}])
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ET.fromstring(text.encode())
    assert root.find("a:title", ns).text == "A & B"
    assert [root.find(f"a:{t}", ns) is not None for t in ("id", "updated", "author")] == [True] * 3
    entry = root.find("a:entry", ns)
    assert entry.find("a:title", ns).text == "<fee>" and entry.find("a:id", ns).text == "urn:uuid:1"
    assert entry.find("a:content", ns).text == "<ul><li>Fees (工本费): 80.00 → 0.00 yuan</li></ul>"


def test_a_payload_too_large_leaves_out_sentences_and_says_how_many():
    import json
    payload = {"event": "service.changed", "changes": [{"en": "x" * 100}] * 50}
    body = changes.bounded_payload(payload, 1000)
    assert len(body) <= 1000
    sent = json.loads(body)
    assert sent["changes_left_out"] == 50 - len(sent["changes"]) and sent["changes"]


def test_the_signature_is_the_hmac_sha256_of_the_body():
    # openssl dgst -sha256 -hmac s3cret <<< '{"a":1}' (without the newline)
    assert changes.signature("s3cret", b'{"a":1}') == (
        "sha256=" + __import__("hmac").new(b"s3cret", b'{"a":1}', "sha256").hexdigest())
    assert changes.signature("s3cret", b'{"a":1}') != changes.signature("other", b'{"a":1}')


def test_retry_waits_double_from_the_first():
    assert [changes.retry_wait(n, 60) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
