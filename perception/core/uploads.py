"""The one reader of uploaded tables and documents, for every import (tickets, KPI values,
collection entries, the setup document).

An upload is bounded before it is read, so a small file cannot hold a worker: the byte size; for
an Excel workbook (a zip) the unpacked size its members declare (``zipfile`` never unpacks more
than a member declares, so the declaration is a true bound) and the number of rows of its sheets,
counted by streaming the sheet XML up to a cap. Only then is it read, with openpyxl's streaming
(``read_only``) reader. A refusal is a ``UserError`` (413 for too large, 422 for unreadable) in
Chinese and English, of the class the caller passes so each phase's pages show it as usual.

Text is decoded by one rule: a BOM decides (UTF-8, UTF-16), else strict UTF-8, else GB18030 (a
superset of GBK/GB2312, what Chinese Windows writes). CSV line endings may be ``\\r\\n``, ``\\n``
or a bare ``\\r`` (Excel for Mac's "CSV (Macintosh)").
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import os
import re
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from perception.core.errors import Problem, UserError

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
DEFAULT_MAX_UNPACKED_BYTES = 256 * 1024 * 1024
# Rows without any value that a workbook may carry beyond the data rows (Excel keeps formatted
# empty rows); more than this is not a table somebody filled in.
BLANK_ROW_ALLOWANCE = 10_000
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """``max_bytes`` of the upload; ``max_rows`` data rows of a workbook (CSV rows cost little
    and are bounded by bytes); ``max_unpacked_bytes`` that a workbook's members may declare."""

    max_bytes: int
    max_rows: int
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES


@dataclass(frozen=True)
class Grid:
    """The non-blank rows of a table (the header first) and the row number a spreadsheet shows
    for each. CSV cells are strings; workbook cells are the values openpyxl reads."""

    rows: list[list[Any]]
    numbers: list[int]
    file_format: str
    encoding: str | None


def _mb(size: int) -> str:
    return f"{size / 1048576:.1f}".removesuffix(".0")


def refusal(error: type[UserError], code: str, zh: str, en: str, status: int = 422) -> UserError:
    return error([Problem(None, zh, en, code=code)], status=status)


def check_size(size: int, max_bytes: int, error: type[UserError] = UserError) -> None:
    if size > max_bytes:
        raise refusal(
            error,
            "too_large",
            f"文件为 {_mb(size)} MB，超过上限 {_mb(max_bytes)} MB",
            f"the file is {_mb(size)} MB, more than the limit of {_mb(max_bytes)} MB",
            413,
        )


def _too_many_rows(error: type[UserError], limit: int) -> UserError:
    return refusal(
        error,
        "too_many_rows",
        f"Excel 文件最多 {limit} 行；更大的数据请另存为 CSV 后导入",
        f"Excel files are limited to {limit} rows; save larger data as CSV and import that",
        413,
    )


def _unreadable(error: type[UserError]) -> UserError:
    return refusal(
        error,
        "bad_format",
        "无法读取文件：请上传 CSV 或 Excel (.xlsx) 文件",
        "the file cannot be read: upload a CSV or Excel (.xlsx) file",
    )


def decode_text(data: bytes, error: type[UserError] = UserError) -> tuple[str, str]:
    """(text, encoding name) by the rule in the module docstring."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8", len(codecs.BOM_UTF8), "utf-8-sig")]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("utf-16", 0, "utf-16")]
    else:
        candidates = [("utf-8", 0, "utf-8"), ("gb18030", 0, "gb18030")]
    for codec, skip, name in candidates:
        try:
            return data[skip:].decode(codec), name
        except UnicodeDecodeError:
            continue
    raise refusal(
        error,
        "bad_encoding",
        "无法识别文件编码（支持 UTF-8、UTF-16 和 GB18030/GBK）",
        "the file's encoding is not recognised (UTF-8, UTF-16 and GB18030/GBK are supported)",
    )


def _blank(row: list[Any] | tuple[Any, ...]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def csv_rows(text: str) -> Iterator[list[str]]:
    """Rows of CSV text, separated by comma, semicolon or tab (the one the header uses most)."""
    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    # newline="" lets the csv module see every line ending, a bare \r included.
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def read_csv(text: str, encoding: str | None, error: type[UserError] = UserError) -> Grid:
    rows: list[list[Any]] = []
    numbers: list[int] = []
    try:
        for number, row in enumerate(csv_rows(text), start=1):
            if not _blank(row):
                rows.append(row)
                numbers.append(number)
    except csv.Error:
        raise _unreadable(error) from None
    return Grid(rows, numbers, "csv", encoding)


def check_workbook(data: bytes, limits: Limits, error: type[UserError] = UserError) -> None:
    """Refuse a workbook whose members declare more than ``max_unpacked_bytes``, or whose sheets
    hold more rows than the data rows allowed plus a header and BLANK_ROW_ALLOWANCE."""
    check_workbook_stream(io.BytesIO(data), limits, error)


def check_workbook_stream(stream: BinaryIO, limits: Limits, error: type[UserError] = UserError) -> None:
    """``check_workbook`` of a workbook read from a seekable file."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError):
        raise _unreadable(error) from None
    with archive:
        members = archive.infolist()
        unpacked = sum(m.file_size for m in members)
        if unpacked > limits.max_unpacked_bytes:
            raise refusal(
                error,
                "unpacked_too_large",
                f"Excel 文件解压后为 {_mb(unpacked)} MB，超过上限 {_mb(limits.max_unpacked_bytes)} MB",
                f"the workbook unpacks to {_mb(unpacked)} MB, more than the limit of "
                f"{_mb(limits.max_unpacked_bytes)} MB",
                413,
            )
        cap = limits.max_rows + 1 + BLANK_ROW_ALLOWANCE
        sheets = [
            m for m in members if m.filename.startswith("xl/worksheets/") and m.filename.endswith(".xml")
        ]
        for member in sheets:
            if _count_rows(archive, member, cap, error) > cap:
                raise _too_many_rows(error, limits.max_rows)


_ROW_TAG = re.compile(rb"<([A-Za-z_][\w.-]*:)?row[\s>/]")


def _count_rows(archive: zipfile.ZipFile, member: zipfile.ZipInfo, cap: int, error: type[UserError]) -> int:
    """Row elements in a sheet, counted on the stream; stops once past ``cap``.

    The row tag is learnt from its first occurrence (``<row``, or ``<x:row`` when the sheet uses
    a namespace prefix); counting that byte string is fast. Other tags that start the same way
    (``<rowBreaks>``) err on the safe side by a handful."""
    count, tail, tag = 0, b"", b""
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                block = tail + chunk
                if not tag:
                    found = _ROW_TAG.search(block)
                    if found is None:
                        tail = block[-64:]
                        continue
                    tag = b"<" + (found.group(1) or b"") + b"row"
                    tail = b""  # nothing was counted yet: count the whole block
                # a tag inside the carried tail was counted with the previous chunk
                count += block.count(tag) - tail.count(tag)
                if count > cap:
                    return count
                tail = block[-len(tag) :]
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
        raise _unreadable(error) from None
    return count


def read_workbook(data: bytes, limits: Limits, error: type[UserError] = UserError) -> Grid:
    """The first sheet's non-blank rows, streamed, after ``check_workbook``."""
    check_workbook(data, limits, error)
    rows: list[list[Any]] = []
    numbers: list[int] = []
    for number, cells in _stream_workbook(data, limits, error):
        rows.append(cells)
        numbers.append(number)
    return Grid(rows, numbers, "xlsx", None)


def read_grid(data: bytes, limits: Limits, error: type[UserError] = UserError) -> Grid:
    """An uploaded CSV or .xlsx (told apart by its bytes, not its name) as a Grid."""
    check_size(len(data), limits.max_bytes, error)
    if data.startswith(XLSX_MAGIC):
        return read_workbook(data, limits, error)
    if data.startswith(OLE_MAGIC):
        raise _unreadable(error)
    text, encoding = decode_text(data, error)
    return read_csv(text, encoding, error)


# --- Streaming: the same rules, row by row, for imports of any length ---------------------------
# A source is the upload's bytes or the path of a file (the CLI's, or an upload kept on disk): a
# path is never read whole, so an import's memory does not grow with the file.
Source = bytes | Path


@dataclass(frozen=True)
class RowStream:
    """The non-blank rows of a table as (row number a spreadsheet shows, cells), header first."""

    rows: Iterator[tuple[int, list[Any]]]
    file_format: str
    encoding: str | None


def open_source(source: Source) -> BinaryIO:
    return source.open("rb") if isinstance(source, Path) else io.BytesIO(source)


def source_size(source: Source) -> int:
    return source.stat().st_size if isinstance(source, Path) else len(source)


def scan_source(source: Source) -> tuple[str, bool]:
    """(SHA-256 hex digest, whether the bytes are strict UTF-8) in one pass of ``_CHUNK`` blocks."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8 = True
    with open_source(source) as stream:
        while block := stream.read(_CHUNK):
            digest.update(block)
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return digest.hexdigest(), utf8


def _decodes(source: Source, codec: str) -> bool:
    decoder = codecs.getincrementaldecoder(codec)("strict")
    try:
        with open_source(source) as stream:
            while block := stream.read(_CHUNK):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _codec(source: Source, utf8: bool, error: type[UserError]) -> tuple[str, str]:
    """(Python codec, encoding name) of CSV text by the rule of ``decode_text``, without holding it."""
    with open_source(source) as stream:
        head = stream.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "utf-16"
    if utf8:
        return "utf-8", "utf-8"
    if _decodes(source, "gb18030"):
        return "gb18030", "gb18030"
    raise refusal(
        error,
        "bad_encoding",
        "无法识别文件编码（支持 UTF-8、UTF-16 和 GB18030/GBK）",
        "the file's encoding is not recognised (UTF-8, UTF-16 and GB18030/GBK are supported)",
    )


def _stream_csv(source: Source, codec: str, error: type[UserError]) -> Iterator[tuple[int, list[Any]]]:
    with open_source(source) as raw:
        text = io.TextIOWrapper(raw, encoding=codec, newline="")
        try:
            first = text.readline()
            counts = {d: first.count(d) for d in (",", ";", "\t")}
            delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
            reader = csv.reader(itertools.chain([first], text), delimiter=delimiter)
            for number, row in enumerate(reader, start=1):
                # the first cell filled: not blank, without looking at the others
                if (row and row[0] and not row[0].isspace()) or not _blank(row):
                    yield number, row
        except (csv.Error, UnicodeDecodeError):
            raise _unreadable(error) from None


def _stream_workbook(
    source: Source, limits: Limits, error: type[UserError]
) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl

    with open_source(source) as raw:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                book = openpyxl.load_workbook(raw, read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - any parse failure is "not a readable workbook"
            raise _unreadable(error) from None
        kept = 0
        try:
            for number, cells in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
                if _blank(cells):
                    continue
                if kept > limits.max_rows:  # the header and max_rows data rows are kept
                    raise _too_many_rows(error, limits.max_rows)
                kept += 1
                yield number, list(cells)
        except UserError:
            raise
        except Exception:  # noqa: BLE001 - a malformed sheet is the upload's problem, not a 500
            raise _unreadable(error) from None
        finally:
            book.close()


def stream_rows(
    source: Source, limits: Limits, error: type[UserError] = UserError, *, utf8: bool | None = None
) -> RowStream:
    """An upload's rows one at a time, after the same refusals as ``read_grid``: the byte size
    and a workbook's unpacked size and row count are checked before any row is read. ``utf8``:
    what ``scan_source`` found, when the caller scanned the file already."""
    check_size(source_size(source), limits.max_bytes, error)
    with open_source(source) as stream:
        head = stream.read(len(OLE_MAGIC))
    if head.startswith(XLSX_MAGIC):
        with open_source(source) as stream:
            check_workbook_stream(stream, limits, error)
        return RowStream(_stream_workbook(source, limits, error), "xlsx", None)
    if head.startswith(OLE_MAGIC):
        raise _unreadable(error)
    if utf8 is None:
        utf8 = scan_source(source)[1]
    codec, name = _codec(source, utf8, error)
    return RowStream(_stream_csv(source, codec, error), "csv", name)


@contextmanager
def upload_on_disk(stream: IO[bytes], max_bytes: int, error: type[UserError] = UserError) -> Iterator[Path]:
    """An uploaded file (a request's file stream) as the path of a temporary copy, written in blocks
    of ``_CHUNK`` bytes, so an import reads it as a stream and the upload is never held whole in
    memory; a file over ``max_bytes`` is refused (``check_size``: nothing past the limit is
    written, the rest is only counted to name its size); removed afterwards."""
    handle, name = tempfile.mkstemp(prefix="perception-upload-", suffix=".upload")
    path = Path(name)
    try:
        size = 0
        with os.fdopen(handle, "wb") as out:
            while block := stream.read(_CHUNK):
                size += len(block)
                if size <= max_bytes:
                    out.write(block)
        check_size(size, max_bytes, error)
        yield path
    finally:
        path.unlink(missing_ok=True)
