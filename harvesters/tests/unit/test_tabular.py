"""Department spreadsheets: encodings, Chinese or English headers, title rows, blanks."""
import io

import openpyxl
import pytest

from ckanext.govservice.core import tabular

ROWS_ZH = [
    ["滨江市市场监督管理局 政务服务事项清单"],          # a title row above the header
    ["基本编码", "事项名称", "承诺办结时限", "备注"],
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
    sheet.append(["基本编码", "事项名称", "承诺办结时限"])
    sheet.append([None, None, None])
    sheet.append(["SC-9", "居民身份证换领", 20])
    book.save(tmp_path / "f.xlsx")

    records = list(tabular.read_xlsx(str(tmp_path / "f.xlsx")))

    assert [(line, r) for line, r, _ in records] == [
        (4, {"service_code": "SC-9", "title": "居民身份证换领", "committed_limit": 20})]
