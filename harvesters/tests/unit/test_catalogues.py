"""The catalogues a source may fill (services, basic items, documents): their
records normalised by their own schema, the readers and formats they take, and
the order due sources run in. No database, no CKAN."""
import io
import json

import pytest

from ckanext.govservice.core import tabular
from govharvest import catalogues, formats, sources
from govharvest.errors import FormatError, RecordError
from govharvest.normalise import normalise

BASIC_ITEMS, DOCUMENTS, SERVICES = catalogues.BASIC_ITEMS, catalogues.DOCUMENTS, catalogues.SERVICES


def test_a_basic_item_is_normalised_by_the_basic_item_schema():
    record = normalise({"basic_code": " BI-1 ", "title": "食品经营许可", "statutory_limit": 20.0,
                        "standard_documents": '[{"code": "DOC-ID", "name": ""}]',
                        "committed_limit": 5}, catalogue=BASIC_ITEMS)

    assert record == {"basic_code": "BI-1", "title": "食品经营许可", "statutory_limit": 20,
                      "standard_documents": [{"code": "DOC-ID"}]}


def test_a_document_without_its_code_is_refused_naming_the_document_code():
    with pytest.raises(RecordError) as refused:
        normalise({"title": "居民身份证"}, catalogue=DOCUMENTS)

    assert (refused.value.field, refused.value.reason) == (
        "document_code", "is missing: every record needs its document code (材料编码)")


def test_a_service_without_its_code_is_still_refused_naming_the_service_code():
    with pytest.raises(RecordError) as refused:
        normalise({"title": "x"})

    assert refused.value.field == "service_code"
    assert refused.value.reason.startswith("is missing: every record needs its service code")


def test_the_old_local_code_key_of_a_json_feed_is_the_implementation_code():
    assert normalise({"service_code": "SC-1", "local_code": "IMPL-1"}) == {
        "service_code": "SC-1", "implementation_code": "IMPL-1"}


@pytest.mark.parametrize("raw", [{"implementation_code": "NEW", "local_code": "OLD"},
                                 {"local_code": "OLD", "implementation_code": "NEW"}])
def test_a_feed_sending_both_names_keeps_the_implementation_code_under_its_own_name(raw):
    assert normalise({"service_code": "SC-1", **raw}) == {"service_code": "SC-1", "implementation_code": "NEW"}


def test_every_new_service_column_reads_back_from_a_csv_written_from_the_schema(tmp_path):
    service = {
        "service_code": "SC-1", "basic_code": "BI-FOOD", "implementation_code": "IMPL-1",
        "title": "食品经营许可", "owner_org": "market-regulation",
        "co_departments": [{"name": "卫生健康委", "role": "现场核查"}],
        "intermediary_services": [{"name": "卫生检测", "provider": "有资质的检测机构"}],
        "documents": [{"code": "DOC-ID", "name": "居民身份证", "mandatory": True}],
        "process_steps": [{"name": "受理", "time_limit": 1, "time_limit_unit": "working_days"}],
        "special_procedures": [{"name": "现场核查", "time_limit": 5, "time_limit_unit": "working_days"}],
        "handling_scope": "citywide", "output_validity": 5, "output_validity_unit": "years",
        "output_sample_url": "https://zwfw.example.gov.cn/sample.pdf",
        "contact_points": [{"purpose": "complaint", "email": "ts@example.gov.cn"}],
    }
    tabular.write_csv([tabular.service_row(service)], tmp_path / "services.csv")

    (where, raw), = formats.read_csv(tmp_path / "services.csv")
    record = normalise(raw)

    assert where == "line 2"
    expected = {k: v for k, v in service.items() if k != "owner_org"}
    assert {k: record[k] for k in expected} == {**expected, "output_validity": "5"}


def test_a_basic_items_json_document_is_read_by_its_list_key(tmp_path):
    (tmp_path / "items.json").write_text(json.dumps({"basic_items": [{"basic_code": "BI-1"}]}))

    read = formats.reader("json-file", BASIC_ITEMS)

    assert list(read(tmp_path / "items.json")) == [("item 1", {"basic_code": "BI-1"})]


def test_a_documents_json_document_without_its_list_is_refused_naming_the_key(tmp_path):
    (tmp_path / "docs.json").write_text(json.dumps({"services": []}))

    with pytest.raises(FormatError, match=r'list of documents or \{"documents": \[\.\.\.\]\}'):
        list(formats.reader("json-file", DOCUMENTS)(tmp_path / "docs.json"))


def test_a_documents_csv_is_read_with_the_document_columns(tmp_path):
    (tmp_path / "docs.csv").write_bytes("材料编码,材料名称,政府已掌握\r\nDOC-ID,居民身份证,shared_data\r\n".encode("gbk"))

    (where, raw), = formats.reader("csv", DOCUMENTS)(tmp_path / "docs.csv")

    assert raw == {"document_code": "DOC-ID", "title": "居民身份证", "government_holds": "shared_data"}


def test_a_catalogue_cannot_be_read_as_a_services_only_format():
    with pytest.raises(FormatError, match="a documents source cannot be read as open311"):
        formats.reader("open311", DOCUMENTS)


def test_the_csv_reader_names_the_line_and_the_bound_of_an_endless_line(tmp_path):
    (tmp_path / "s.csv").write_bytes(b"service_code\r\n" + b"x" * (tabular.MAX_RECORD_CHARS + 10))

    with pytest.raises(FormatError) as refused:
        list(formats.read_csv(tmp_path / "s.csv"))

    assert str(refused.value).startswith(
        f"CSV could not be read: line 2 is longer than {tabular.MAX_RECORD_CHARS} characters")


@pytest.mark.parametrize("kind", ["basic_items", "documents"])
def test_a_catalogue_source_is_a_valid_kind(kind):
    sources.check({"kind": kind, "format": "csv", "location": "https://zwfw.example.gov.cn/x.csv"})


def test_a_catalogue_source_may_default_only_its_own_fields():
    with pytest.raises(sources.SourceError, match="'audience' is not a document field"):
        sources.check({"kind": "documents", "format": "csv", "location": "https://x.example/d.csv",
                       "defaults": {"audience": "citizen"}})
    sources.check({"kind": "documents", "format": "csv", "location": "https://x.example/d.csv",
                   "defaults": {"issuing_authority": "公安机关"}})


def test_due_sources_run_catalogues_first_then_services_then_statistics():
    due = [{"kind": "statistics"}, {"kind": "services"}, {"kind": "documents"}, {"kind": "basic_items"}]

    tiers = [catalogues.harvest_tier(s) for s in due]

    assert tiers == [2, 1, 0, 0]
    assert [s["kind"] for s in sorted(due, key=catalogues.harvest_tier)] == [
        "documents", "basic_items", "services", "statistics"]


def test_each_catalogue_is_keyed_by_the_first_field_of_its_schema():
    for catalogue in catalogues.CATALOGUES.values():
        assert catalogue.fields()[0]["field_name"] == catalogue.key
        assert catalogue.key in catalogue.input_fields()


def test_another_ckans_basic_items_are_searched_by_their_dataset_type():
    from govharvest import ckan_reader
    from urllib.parse import parse_qs, urlsplit

    url = ckan_reader.search_url("https://sheng.example.gov.cn", "zwb", None, 100, "basic_item")

    assert parse_qs(urlsplit(url).query)["fq"] == ['dataset_type:basic_item AND organization:"zwb"']


def test_another_ckans_basic_item_is_identified_by_its_code_alone():
    from govharvest import ckan_reader
    from govharvest.compare import RECORD_ID
    remote = {"name": "item-bi-1", "basic_code": "BI-1", "title": "食品经营许可",
              "organization": {"name": "zwb"}, "owner_org": "zwb-id"}

    raw = ckan_reader.record(remote, "basic_code")

    assert RECORD_ID not in raw and "name" not in raw and "owner_org" not in raw
    assert normalise(raw, catalogue=BASIC_ITEMS) == {"basic_code": "BI-1", "title": "食品经营许可"}


def test_a_basic_items_workbook_with_a_title_row_and_merged_group_header_is_read(tmp_path):
    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["滨江市基本目录（2026年版）"])
    sheet.append(["事项", None, "标准", None])
    sheet.merge_cells("A2:B2")
    sheet.merge_cells("C2:D2")
    sheet.append(["基本编码", "事项名称", "标准承诺时限", "标准申请材料"])
    sheet.append(["BI-1", "食品经营许可", 10, '[{"code":"DOC-ID","name":"居民身份证"}]'])
    book.save(tmp_path / "items.xlsx")

    (where, raw), = formats.reader("xlsx", BASIC_ITEMS)(tmp_path / "items.xlsx")

    assert where == "row 4"
    assert normalise(raw, catalogue=BASIC_ITEMS) == {
        "basic_code": "BI-1", "title": "食品经营许可", "standard_limit": 10,
        "standard_documents": [{"code": "DOC-ID", "name": "居民身份证"}]}
