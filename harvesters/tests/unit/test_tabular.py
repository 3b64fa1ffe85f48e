"""Department spreadsheets: encodings, Chinese or English headers, title rows, blanks."""
import io

import openpyxl
import pytest

from ckanext.govservice.core import tabular

ROWS_ZH = [
    ["滨江市市场监督管理局 政务服务事项清单"],          # a title row above the header
    ["事项编码", "事项名称", "承诺办结时限", "备注"],
    ["SC-0001", "企业营业执照核发", "3", "x"],
    ["", "", "", ""],                                  # a blank row
    ["SC-0002", "食品经营许可", "10", ""],
]


def csv_bytes(rows, encoding):
    text = "\r\n".join(",".join(r) for r in rows) + "\r\n"
    return text.encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_any_department_encoding_reads_the_same(encoding):
    records = list(tabular.read_csv(io.BytesIO(csv_bytes(ROWS_ZH, encoding))))

    assert [(line, r["service_code"], r["title"], r["committed_limit"]) for line, r, _ in records] == [
        (3, "SC-0001", "企业营业执照核发", "3"), (5, "SC-0002", "食品经营许可", "10")]
    assert records[0][2] == ["备注"]      # unknown columns are reported, not guessed


def test_english_and_column_style_headers_are_understood():
    rows = [["Service code", "service name (chinese)", "committed_limit"], ["A1", "名称", "2"]]
    (_, record, unknown), = tabular.read_csv(io.BytesIO(csv_bytes(rows, "utf-8")))
    assert record == {"service_code": "A1", "title": "名称", "committed_limit": "2"}
    assert unknown == []


def test_full_width_and_spaced_headers_fold_to_the_same_name():
    assert tabular.fold("承诺办结时限 ：") == tabular.fold("承诺办结时限")
    assert tabular.fold("Ｓｅｒｖｉｃｅ code") == "servicecode"


def test_a_file_without_any_known_header_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="no header row names any known column"):
        list(tabular.read_csv(io.BytesIO(csv_bytes([["foo", "bar"], ["1", "2"]], "utf-8"))))


def test_binary_garbage_is_not_text():
    with pytest.raises(ValueError, match="neither UTF-8 nor GBK"):
        tabular.detect_encoding(b"\xff\xfe\x00\x81\x30\xff\xff")


def test_xlsx_with_merged_group_header_and_blank_rows(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["基本信息", None, "时限"])
    sheet.merge_cells("A1:B1")
    sheet.append(["事项编码", "事项名称", "承诺办结时限"])
    sheet.append([None, None, None])
    sheet.append(["SC-9", "居民身份证换领", 20])
    book.save(tmp_path / "f.xlsx")

    records = list(tabular.read_xlsx(str(tmp_path / "f.xlsx")))

    assert [(line, r) for line, r, _ in records] == [
        (4, {"service_code": "SC-9", "title": "居民身份证换领", "committed_limit": 20})]


# ------------------------------------------------------------ one network (issue 16)

def test_the_old_local_code_column_is_read_as_the_implementation_code():
    rows = [["service_code", "local_code"], ["SC-1", "IMPL-0001"]]
    (_, record, unknown), = tabular.read_csv(io.BytesIO(csv_bytes(rows, "utf-8")))
    assert record == {"service_code": "SC-1", "implementation_code": "IMPL-0001"}
    assert unknown == []


@pytest.mark.parametrize("header", [["service_code", "implementation_code", "local_code"],
                                    ["service_code", "local_code", "implementation_code"]])
def test_the_implementation_code_column_wins_over_the_old_local_code_column(header):
    values = {"service_code": "SC-1", "implementation_code": "NEW", "local_code": "OLD"}
    rows = [header, [values[h] for h in header]]
    (_, record, unknown), = tabular.read_csv(io.BytesIO(csv_bytes(rows, "utf-8")))
    assert record == {"service_code": "SC-1", "implementation_code": "NEW"}
    assert unknown == ["local_code"]


def test_basic_code_and_implementation_code_headers_read_in_chinese():
    rows = [["事项编码", "基本编码", "实施编码"], ["SC-1", "BI-001", "IMPL-0001"]]
    (_, record, _), = tabular.read_csv(io.BytesIO(csv_bytes(rows, "utf-8")))
    assert record == {"service_code": "SC-1", "basic_code": "BI-001", "implementation_code": "IMPL-0001"}


def test_a_basic_item_sheet_reads_the_basic_item_columns():
    rows = [["基本目录"], ["基本编码", "事项名称", "事项类型", "法定办结时限", "标准到现场次数"],
            ["BI-001", "食品经营许可", "administrative_licence", "20", "1"]]
    (line, record, unknown), = tabular.read_csv(io.BytesIO(csv_bytes(rows, "gbk")), "basic_item")
    assert line == 3
    assert record == {"basic_code": "BI-001", "title": "食品经营许可", "service_type": "administrative_licence",
                      "statutory_limit": "20", "standard_visits": "1"}
    assert unknown == []


def test_a_document_sheet_reads_the_document_columns_and_reports_a_service_column_as_unknown():
    rows = [["材料编码", "材料名称", "别名", "政府已掌握", "承诺办结时限"],
            ["DOC-ID", "居民身份证", "身份证、二代身份证", "electronic_licence", "3"]]
    (_, record, unknown), = tabular.read_csv(io.BytesIO(csv_bytes(rows, "utf-8")), "document")
    assert record == {"document_code": "DOC-ID", "title": "居民身份证", "aliases": "身份证、二代身份证",
                      "government_holds": "electronic_licence"}
    assert unknown == ["承诺办结时限"]


def test_a_catalogue_file_without_its_key_header_names_the_key_it_expected():
    with pytest.raises(ValueError, match="expected headers such as document_code / 材料编码"):
        list(tabular.read_csv(io.BytesIO(csv_bytes([["foo"], ["1"]], "utf-8")), "document"))


def test_a_line_longer_than_the_bound_is_refused_naming_the_line_and_the_bound():
    body = b"service_code,title_zh\r\nSC-1,ok\r\nSC-2," + b"x" * 5000 + b"\r\n"
    with pytest.raises(ValueError, match=r"^line 3 is longer than 1000 characters"):
        list(tabular.read_csv(io.BytesIO(body), max_record_chars=1000))


def test_a_quote_never_closed_is_refused_at_the_bound_not_read_to_the_end():
    body = b'service_code,title_zh\r\nSC-1,"never closed\r\n' + b"short line\r\n" * 500
    with pytest.raises(ValueError, match="longer than 1000 characters"):
        list(tabular.read_csv(io.BytesIO(body), max_record_chars=1000))


def test_the_bound_holds_whatever_the_process_wide_csv_field_limit_is():
    import csv
    before = csv.field_size_limit()
    csv.field_size_limit(1 << 30)
    try:
        body = b"service_code\r\n" + b"=" * 5000
        with pytest.raises(ValueError, match="line 2 is longer than 1000 characters"):
            list(tabular.read_csv(io.BytesIO(body), max_record_chars=1000))
    finally:
        csv.field_size_limit(before)


def test_records_up_to_the_bound_read_whole():
    body = b"service_code,title_zh\r\nSC-1," + b"y" * 900 + b"\r\nSC-2,z\r\n"
    records = list(tabular.read_csv(io.BytesIO(body), max_record_chars=1000))
    assert [(line, r["service_code"], len(r["title"])) for line, r, _ in records] == [
        (2, "SC-1", 900), (3, "SC-2", 1)]
