"""The bulk catalogue files as plain functions: columns, flattening, formula safety, writers."""
import csv
import json

import openpyxl
import pandas as pd

from ckanext.govservice.core import schema, tabular as catalogue


def a_service(**overrides) -> dict:
    """A package_show-shaped service, as package_search returns it."""
    data = {
        "id": "4f1c", "type": "service", "name": "market-regulation-sc-0001",
        "owner_org": "org-id-1", "organization": {"id": "org-id-1", "name": "market-regulation"},
        "service_code": "SC-0001", "title": "企业营业执照核发", "title_en": "Business licence issuance",
        "notes": "为企业办理设立登记。", "service_type": "administrative_licence",
        "themes": ["business", "tax"], "life_events": ["starting_a_business"],
        "audience": "business",
        "legal_basis": [{"title": "市场主体登记管理条例", "article": "第十九条"}],
        "documents": [{"name": "居民身份证", "mandatory": True, "form": "original",
                       "issued_by": "government"}],
        "statutory_limit": 15, "statutory_limit_unit": "working_days",
        "committed_limit": 3, "committed_limit_unit": "working_days",
        "fees": [], "channels": [{"channel_type": "online", "url": "https://zwfw.example.cn/yyzz"}],
        "online_depth": ["registration", "application"], "in_person_visits": 1,
        "committed_days": 4.2, "time_limit_compression": 0.8, "is_free": True, "fully_online": False,
        "status": "active",
    }
    data.update(overrides)
    return data


class TestColumns:
    def test_every_dataset_field_with_a_column_is_a_column_in_schema_order(self):
        expected = [f["govservice_column"] for f in schema.service_fields() if f.get("govservice_column")]
        assert catalogue.columns() == expected
        assert catalogue.columns()[:5] == ["service_code", "basic_code", "implementation_code", "name", "title_zh"]

    def test_columns_carry_chinese_and_english_labels_and_codes(self):
        by_name = {c["name"]: c for c in catalogue.column_descriptions()}
        assert by_name["title_zh"]["label"] == {"zh_Hans_CN": "事项名称", "en": "Service name (Chinese)"}
        assert by_name["department"]["field_name"] == "owner_org"
        assert {"value": "citizen", "label": {"zh_Hans_CN": "自然人", "en": "Citizens"}} \
            in by_name["audience"]["choices"]


class TestServiceRow:
    def test_the_department_is_the_organisation_name(self):
        assert catalogue.service_row(a_service())["department"] == "market-regulation"

    def test_lists_of_codes_are_joined_with_semicolons(self):
        row = catalogue.service_row(a_service())
        assert row["themes"] == "business;tax"
        assert row["online_depth"] == "registration;application"

    def test_repeating_subfields_are_compact_json_text(self):
        row = catalogue.service_row(a_service())
        assert row["documents"] == ('[{"name":"居民身份证","mandatory":true,"form":"original",'
                                    '"issued_by":"government"}]')
        assert json.loads(row["channels"]) == [{"channel_type": "online",
                                                "url": "https://zwfw.example.cn/yyzz"}]

    def test_no_fees_is_an_empty_cell(self):
        assert catalogue.service_row(a_service())["fees"] is None

    def test_numbers_and_booleans_keep_their_type(self):
        row = catalogue.service_row(a_service())
        assert row["committed_limit"] == 3 and row["committed_days"] == 4.2
        assert row["is_free"] is True and row["fully_online"] is False

    def test_the_json_record_keeps_real_lists(self):
        record = catalogue.service_record(a_service())
        assert record["themes"] == ["business", "tax"]
        assert record["documents"][0]["name"] == "居民身份证"


class TestNeutralise:
    def test_formula_like_text_gets_a_leading_quote(self):
        for text in ("=HYPERLINK(\"http://evil\",\"x\")", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"):
            assert catalogue.neutralise(text) == "'" + text

    def test_ordinary_text_and_real_numbers_are_untouched(self):
        assert catalogue.neutralise("营业执照") == "营业执照"
        assert catalogue.neutralise("0571-12345") == "0571-12345"
        assert catalogue.neutralise(-5) == -5
        assert catalogue.neutralise(-0.5) == -0.5


def rows_of(*services):
    return [catalogue.service_row(s) for s in services]


class TestWriteCsv:
    def test_starts_with_a_byte_order_mark_and_reads_back(self, tmp_path):
        path = tmp_path / "c.csv"
        assert catalogue.write_csv(rows_of(a_service()), path) == 1
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        assert list(df.columns) == catalogue.columns()
        assert df.loc[0, "title_zh"] == "企业营业执照核发"
        assert df.loc[0, "is_free"] == "true"
        assert df.loc[0, "committed_limit"] == "3"

    def test_formula_titles_are_neutralised(self, tmp_path):
        path = tmp_path / "c.csv"
        catalogue.write_csv(rows_of(a_service(title="=HYPERLINK(\"http://x\")"),
                                    a_service(title="+1"), a_service(title="@SUM(A1)"),
                                    a_service(title="-5")), path)
        with open(path, encoding="utf-8-sig", newline="") as f:
            titles = [r["title_zh"] for r in csv.DictReader(f)]
        assert titles == ["'=HYPERLINK(\"http://x\")", "'+1", "'@SUM(A1)", "'-5"]


class TestWriteXlsx:
    def test_formula_text_is_neutralised_and_numbers_stay_numbers(self, tmp_path):
        path = tmp_path / "c.xlsx"
        catalogue.write_xlsx(rows_of(a_service(title="=1+1", title_en="-minus", in_person_visits=0)), path)
        ws = openpyxl.load_workbook(path)["services"]
        header = [c.value for c in ws[1]]
        row = dict(zip(header, [c.value for c in ws[2]]))
        assert row["title_zh"] == "'=1+1" and ws.cell(2, header.index("title_zh") + 1).data_type == "s"
        assert row["title_en"] == "'-minus"
        assert row["in_person_visits"] == 0 and row["committed_days"] == 4.2
        assert row["is_free"] is True

    def test_a_second_sheet_describes_the_columns(self, tmp_path):
        path = tmp_path / "c.xlsx"
        catalogue.write_xlsx([], path)
        about = pd.read_excel(path, sheet_name="columns")
        assert list(about["column"]) == catalogue.columns()
        assert about.set_index("column").loc["audience", "label_en"] == "Audience"

    def test_control_characters_do_not_break_the_workbook(self, tmp_path):
        path = tmp_path / "c.xlsx"
        catalogue.write_xlsx(rows_of(a_service(notes="a\x01b")), path)
        assert pd.read_excel(path, sheet_name="services").loc[0, "description_zh"] == "ab"


class TestWriteJson:
    def test_a_document_with_metadata_and_nested_services(self, tmp_path):
        path = tmp_path / "c.json"
        catalogue.write_json([a_service()], path, scope="market-regulation",
                             generated_at="2026-01-01T00:00:00+00:00")
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["generated_at"] == "2026-01-01T00:00:00+00:00"
        assert doc["scope"] == {"department": "market-regulation"}
        assert doc["count"] == 1
        assert [c["name"] for c in doc["columns"]] == catalogue.columns()
        assert doc["services"][0]["themes"] == ["business", "tax"]
        assert doc["services"][0]["title_zh"] == "企业营业执照核发"


def test_a_dumped_tables_text_cells_are_neutralised_and_its_numbers_kept():
    dumped = 'SC-1,2026-10,-5,"=HYPERLINK(""http://x"")"\nSC-2,2026-10,3,"a, b"\nSC-3,2026-10,,+86 10\n'
    assert catalogue.neutralise_delimited(dumped, [True, True, False, True]) == (
        "SC-1,2026-10,-5,\"'=HYPERLINK(\"\"http://x\"\")\"\n"
        'SC-2,2026-10,3,"a, b"\n'
        "SC-3,2026-10,,'+86 10\n")


def test_a_dumped_tsv_keeps_its_tabs():
    assert catalogue.neutralise_delimited("@SUM(A1)\t7\n", [True, False], "\t") == "'@SUM(A1)\t7\n"
