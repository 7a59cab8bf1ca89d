"""The one upload reader: bounds checked before reading, rows counted right across stream chunks,
encodings and line endings (the HTTP paths are tested per phase: test_*_upload_bounds.py)."""

from __future__ import annotations

import io
import zipfile

import pytest

from perception.core import uploads
from perception.core.errors import UserError
from tests.upload_bombs import workbook


def test_rows_are_counted_exactly_across_chunk_boundaries(monkeypatch):
    monkeypatch.setattr(uploads, "_CHUNK", 7)  # every tag is cut by some chunk boundary
    data = workbook(("a", "b"), iter([("x", 1)] * 50), blank_rows=30)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        member = archive.getinfo("xl/worksheets/sheet1.xml")
        assert uploads._count_rows(archive, member, 10_000, UserError) == 81


def test_namespaced_rows_count_too(monkeypatch):
    monkeypatch.setattr(uploads, "_CHUNK", 5)
    body = b"<x:worksheet><x:sheetData>" + b'<x:row r="1"><x:c/></x:row>' * 7 + b"<x:row/></x:sheetData>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/worksheets/sheet1.xml", body)
    with zipfile.ZipFile(buf) as archive:
        member = archive.getinfo("xl/worksheets/sheet1.xml")
        assert uploads._count_rows(archive, member, 100, UserError) == 8


def test_blank_rows_within_the_allowance_are_skipped_and_numbered():
    data = workbook(("a", "b"), iter([("x", 1), (None, None), ("y", 2)]), blank_rows=100)
    grid = uploads.read_grid(data, uploads.Limits(10**6, 5))
    assert grid.rows == [["a", "b"], ["x", 1], ["y", 2]] and grid.numbers == [1, 2, 4]


def test_data_rows_over_the_limit_are_refused_with_413():
    data = workbook(("a",), iter([("x",)] * 6))
    with pytest.raises(UserError) as info:
        uploads.read_grid(data, uploads.Limits(10**6, 5))
    assert info.value.status == 413 and info.value.code == "too_many_rows"


def test_a_zip_that_is_no_workbook_and_a_legacy_xls_are_unreadable():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    for data in (buf.getvalue(), b"PK\x03\x04 truncated", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest"):
        with pytest.raises(UserError) as info:
            uploads.read_grid(data, uploads.Limits(10**6, 5))
        assert info.value.status == 422 and info.value.code == "bad_format"
        assert "无法读取文件" in info.value.zh


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030"])
def test_csv_line_endings_and_encodings(ending, encoding):
    text = ending.join(["名称;数量", '"多行\r\n文本";3', "", "乙;4"]) + ending
    grid = uploads.read_grid(text.encode(encoding), uploads.Limits(10**6, 5))
    assert grid.rows == [["名称", "数量"], ["多行\r\n文本", "3"], ["乙", "4"]]
    assert grid.numbers == [1, 2, 4]
