"""The `service` dataset type on the real stack: validation, derived fields, search, API."""
import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from ckanext.govservice.core import schema as service_schema

from .. import factories as gov


def create(dept, sysadmin, **overrides):
    return gov.service(dept["id"], context=dict(sysadmin), **overrides)


def errors_of(dept, sysadmin, **overrides) -> dict:
    with pytest.raises(tk.ValidationError) as e:
        create(dept, sysadmin, **overrides)
    return e.value.error_dict


def count_services() -> int:
    return helpers.call_action("package_search", fq="dataset_type:service", rows=0)["count"]


@pytest.mark.usefixtures("clean_index")
class TestValidation:
    def test_a_committed_limit_longer_than_the_statutory_one_is_refused(self, dept, sysadmin):
        errors = errors_of(dept, sysadmin, statutory_limit=10, committed_limit=12)
        assert errors["committed_limit"] == [
            "the committed time limit (12 working days) is longer than the statutory limit "
            "(10 working days); a department may only commit to the same or less"]

    def test_a_negative_fee_is_refused(self, dept, sysadmin):
        errors = errors_of(dept, sysadmin, fees=[{"name": "工本费", "amount": "-5"}])
        assert errors["fees"] == [{"amount": ["must not be negative (got -5)"]}]

    def test_a_non_numeric_fee_is_refused(self, dept, sysadmin):
        errors = errors_of(dept, sysadmin, fees=[{"name": "工本费", "amount": "十元"}])
        assert errors["fees"] == [{"amount": ["must be an amount of money, not '十元'"]}]

    def test_an_unknown_channel_type_is_refused(self, dept, sysadmin):
        errors = errors_of(dept, sysadmin, channels=[{"channel_type": "carrier_pigeon"}])
        assert errors["channels"][0]["channel_type"] == [
            "'carrier_pigeon' is not a known channel (expected one of: "
            "online, mobile, in_person, self_service, phone, post)"]

    def test_an_unknown_theme_is_refused_by_name(self, dept, sysadmin):
        errors = errors_of(dept, sysadmin, themes=["business", "space_travel"])
        allowed = ", ".join(c["value"] for c in service_schema.choices(service_schema.field("themes")))
        assert errors["themes"] == [f"'space_travel' is not a known themes (expected one of: {allowed})"]

    def test_an_online_channel_without_a_url_is_refused(self, dept, sysadmin):
        errors = errors_of(dept, sysadmin, channels=[
            {"channel_type": "in_person", "address": "江南大道1号"}, {"channel_type": "online"}])
        assert errors["channels"] == [{}, {"url": ["a channel of type online needs a web address (url)"]}]

    def test_a_javascript_link_is_not_a_web_address(self, dept, sysadmin):
        errors = errors_of(dept, sysadmin, channels=[
            {"channel_type": "online", "url": "javascript:alert(1)"}])
        assert errors["channels"][0]["url"] == [
            "must be a web address starting with http:// or https:// (got 'javascript:alert(1)')"]

    def test_a_web_address_with_characters_no_uri_may_hold_is_refused(self, dept, sysadmin):
        # RDF could not publish it: Turtle refuses the address and the service's .ttl failed.
        errors = errors_of(dept, sysadmin, channels=[
            {"channel_type": "online", "url": "https://zwfw.example.gov.cn/apply?x=<b>"}])
        assert errors["channels"][0]["url"] == [
            "must be a web address without < > (write them %-encoded; "
            "got 'https://zwfw.example.gov.cn/apply?x=<b>')"]

    def test_a_non_ascii_web_address_is_fine(self, dept, sysadmin):
        url = "https://例子.中国/办事?q=营业执照&x=%3Cb%3E"
        service = create(dept, sysadmin, channels=[{"channel_type": "online", "url": url}])
        assert service["channels"][0]["url"] == url

    def test_a_control_character_is_refused_where_it_stands(self, dept, sysadmin):
        # PostgreSQL cannot store NUL: the service's creation failed with a server error.
        errors = errors_of(dept, sysadmin, title="营业执照\x00核发",
                           documents=[{"name": "身份证\x0b复印件"}])
        assert errors["title"] == ["contains a control character (U+0000) that cannot be published; "
                                   "remove it"]
        assert errors["documents"] == [{"name": [
            "contains a control character (U+000B) that cannot be published; remove it"]}]

    def test_tabs_and_line_breaks_are_ordinary_text(self, dept, sysadmin):
        service = create(dept, sysadmin, eligibility="一、依法设立；\r\n二、\t有固定场所")
        assert service["eligibility"] == "一、依法设立；\r\n二、\t有固定场所"

    def test_a_document_without_a_name_is_refused(self, dept, sysadmin):
        errors = errors_of(dept, sysadmin, documents=[{"name": "", "mandatory": "true"}])
        assert errors["documents"] == [{"name": ["Missing value"]}]

    def test_a_duplicate_service_code_in_the_same_department_is_refused(self, dept, sysadmin):
        first = create(dept, sysadmin, service_code="SC-DUP", name="first")
        errors = errors_of(dept, sysadmin, service_code="SC-DUP", name="second")
        assert errors["service_code"] == [
            f"service code SC-DUP is already used by {first['name']} in this department"]

    def test_the_same_code_in_another_department_is_fine(self, dept, sysadmin):
        create(dept, sysadmin, service_code="SC-SHARED")
        other = gov.department(name="tax-bureau")
        assert create(other, sysadmin, service_code="SC-SHARED")["service_code"] == "SC-SHARED"

    def test_valid_to_before_valid_from_is_refused(self, dept, sysadmin):
        errors = errors_of(dept, sysadmin, valid_from="2026-05-01", valid_to="2026-01-31")
        assert errors["valid_to"] == ["valid to (2026-01-31) is before valid from (2026-05-01)"]

    def test_an_impossible_date_is_refused(self, dept, sysadmin):
        errors = errors_of(dept, sysadmin, valid_from="2026-02-30")
        assert errors["valid_from"] == ["must be a date written YYYY-MM-DD (got '2026-02-30')"]

    def test_negative_visits_are_refused(self, dept, sysadmin):
        assert errors_of(dept, sysadmin, in_person_visits=-1)["in_person_visits"] == [
            "must not be negative (got -1)"]

    def test_a_rejected_update_changes_nothing(self, dept, sysadmin):
        service = create(dept, sysadmin, committed_limit=3)
        with pytest.raises(tk.ValidationError):
            helpers.call_action("package_patch", context=dict(sysadmin), id=service["id"],
                                title="改过的名称", committed_limit=99)
        after = helpers.call_action("package_show", id=service["id"])
        assert (after["title"], after["committed_limit"]) == ("企业营业执照核发", 3)

    def test_a_rejected_create_leaves_no_service(self, dept, sysadmin):
        errors_of(dept, sysadmin, statutory_limit=1, committed_limit=2)
        assert count_services() == 0


@pytest.mark.usefixtures("clean_index")
class TestDerivedFields:
    def test_derived_fields_are_computed(self, dept, sysadmin):
        service = create(dept, sysadmin, statutory_limit=20, committed_limit=5,
                         fees=[{"name": "工本费", "amount": "10.50"}])
        assert service["processing_time"] == "P7D"
        assert service["committed_days"] == 7.0
        assert service["time_limit_compression"] == 0.75
        assert service["is_free"] is False
        assert service["fully_online"] is False
        assert service["fees"][0]["amount"] == 10.5

    def test_derived_fields_sent_by_a_publisher_are_ignored(self, dept, sysadmin):
        service = create(dept, sysadmin, fees=[], is_free=False, fully_online=True,
                         processing_time="P1D")
        assert (service["is_free"], service["fully_online"], service["processing_time"]) == (
            True, False, "P5D")

    def test_fully_online_when_every_stage_is_online_and_no_visit(self, dept, sysadmin):
        service = create(dept, sysadmin, in_person_visits=0, online_depth=[
            "registration", "authentication", "application", "decision", "issuance", "feedback"])
        assert service["fully_online"] is True

    def test_an_update_recomputes_them(self, dept, sysadmin):
        service = create(dept, sysadmin)
        updated = helpers.call_action("package_patch", context=dict(sysadmin), id=service["id"],
                                      committed_limit=1, committed_limit_unit="calendar_days")
        assert (updated["processing_time"], updated["time_limit_compression"]) == ("P1D", 0.9524)

    def test_a_service_without_a_url_name_gets_one_from_department_and_code(self, dept, sysadmin):
        service = create(dept, sysadmin, service_code="SC-0042")
        assert service["name"] == "market-regulation-sc-0042"


@pytest.fixture
def catalogue(sysadmin, clean_index):
    market = gov.department(name="market-regulation")
    police = gov.department(name="public-security", title="滨江市公安局")
    create(market, sysadmin, service_code="A1", name="licence")
    create(market, sysadmin, service_code="A2", name="food-permit", title="食品经营许可",
           title_en="Food business permit", themes=["business", "health"], output_name="食品经营许可证",
           notes="从事食品销售和餐饮服务的经营许可。",
           fees=[{"name": "工本费", "amount": 20}], committed_limit=10, statutory_limit=20,
           documents=[{"name": "食品安全管理制度", "mandatory": "true"}])
    create(police, sysadmin, service_code="B1", name="id-card", title="居民身份证换领",
           title_en="ID card renewal", audience="citizen", themes=["identity_documents"],
           output_name="居民身份证", output_type="certificate", notes="身份证有效期满换领新证。",
           life_events=[], committed_limit=20, statutory_limit=60, statutory_limit_unit="calendar_days",
           committed_limit_unit="calendar_days", in_person_visits=0,
           channels=[{"channel_type": "mobile", "url": "https://app.binjiang.gov.cn"}],
           documents=[{"name": "户口簿", "name_en": "household register", "mandatory": "true"}],
           status="suspended")
    return market, police


def search(**params):
    params.setdefault("fq", "dataset_type:service")
    return helpers.call_action("package_search", **params)


def names(result):
    return sorted(d["name"] for d in result["results"])


def facet(field, **params):
    result = search(**{"facet.field": f'["{field}"]', "rows": 0, **params})
    return {i["name"]: i["count"] for i in result["search_facets"][field]["items"]}


@pytest.mark.usefixtures("catalogue")
class TestSearch:
    def test_facets_on_every_declared_field(self):
        assert facet("organization") == {"market-regulation": 2, "public-security": 1}
        assert facet("themes_ss") == {"business": 2, "health": 1, "identity_documents": 1}
        assert facet("life_events_ss") == {"starting_a_business": 2, "opening_a_restaurant": 2}
        assert facet("audience_ss") == {"business": 2, "citizen": 1}
        assert facet("channel_types_ss") == {"online": 2, "in_person": 2, "mobile": 1}
        assert facet("online_depth_ss")["decision"] == 3
        assert facet("in_person_visits_i") == {"1": 2, "0": 1}
        assert facet("is_free_b") == {"true": 2, "false": 1}
        assert facet("fully_online_b") == {"false": 3}
        assert facet("status_ss") == {"active": 2, "suspended": 1}
        assert facet("service_type_ss") == {"administrative_licence": 3}

    def test_filter_on_a_facet(self):
        assert names(search(fq="dataset_type:service AND channel_types_ss:mobile")) == ["id-card"]
        assert names(search(fq="dataset_type:service AND is_free_b:false")) == ["food-permit"]

    def test_sort_by_committed_time_limit(self):
        result = search(sort="committed_days_f asc")
        assert [d["name"] for d in result["results"]] == ["licence", "food-permit", "id-card"]

    def test_sort_by_title(self):
        result = search(sort="title_string asc")
        assert [d["title"] for d in result["results"]] == sorted(
            ["企业营业执照核发", "食品经营许可", "居民身份证换领"])

    def test_a_document_name_finds_the_services_that_require_it(self):
        assert names(search(q="身份证")) == ["id-card", "licence"]
        assert names(search(q="户口簿")) == ["id-card"]
        assert names(search(q='"household register"')) == ["id-card"]

    def test_chinese_and_english_titles_are_searched(self):
        assert names(search(q="营业执照")) == ["licence"]
        assert names(search(q="permit")) == ["food-permit"]
        assert names(search(q="issuance")) == ["licence"]

    def test_vocabulary_labels_are_searched_in_both_languages(self):
        assert names(search(q="行政许可")) == ["food-permit", "id-card", "licence"]
        assert names(search(q="移动端")) == ["id-card"]

    def test_the_words_of_a_subfield_not_its_keys_are_searched(self):
        assert search(q="mandatory")["count"] == 0


@pytest.mark.usefixtures("catalogue")
class TestApi:
    def test_look_up_a_service_by_its_code(self):
        assert helpers.call_action("govservice_service_show", service_code="B1")["name"] == "id-card"

    def test_an_unknown_code_is_not_found(self):
        with pytest.raises(tk.ObjectNotFound):
            helpers.call_action("govservice_service_show", service_code="NOPE")

    def test_the_schema_lists_fields_with_both_languages_and_vocabularies(self):
        result = helpers.call_action("govservice_schema", context={"user": ""})
        fields = {f["field_name"]: f for f in result["fields"]}
        assert fields["committed_limit"]["label"] == {"zh_Hans_CN": "承诺办结时限", "en": "Committed time limit"}
        assert fields["is_free"]["derived"] is True
        assert fields["themes"]["solr_field"] == "themes_ss"
        assert {c["value"] for c in result["vocabularies"]["channel_type"]} == {
            "online", "mobile", "in_person", "self_service", "phone", "post"}
        assert [s["field_name"] for s in fields["documents"]["subfields"]][:4] == ["code", "name", "name_en", "mandatory"]
