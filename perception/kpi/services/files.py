"""Reading an import file or API batch into columns of strings: format, encoding, size limits.

Formats: CSV (comma, semicolon or tab separated, detected from the header line) and Excel .xlsx
(openpyxl read-only). Encodings: UTF-8 with or without BOM, UTF-16 with BOM (Excel "Unicode text"),
and GB18030 (a superset of GBK/GB2312, what Chinese Excel writes as "CSV"): a BOM decides, else
strict UTF-8 is tried first (GB18030 text is practically never valid UTF-8), else GB18030.
Excel files are capped at a row limit (openpyxl holds every cell as a Python object); CSV has only
the byte limit. The result is column-major (one list of strings per column) because the
validators work column by column.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from perception.kpi.services.messages import refused

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_EXCEL_ROWS = 200_000
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls


@dataclass(frozen=True)
class Table:
    """Header cells as written, and one list of cell strings per header cell.

    ``row_numbers`` gives the spreadsheet row of each data row (header = row 1) when blank rows
    were skipped; otherwise row i is ``first_row + i``.
    """

    header: tuple[str, ...]
    columns: tuple[list[str], ...]
    n_rows: int
    file_format: str
    encoding: str | None
    first_row: int = 2
    row_numbers: tuple[int, ...] | None = None

    def row_no(self, index: int) -> int:
        return self.row_numbers[index] if self.row_numbers is not None else self.first_row + index


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise refused("too_large", size=f"{size / 1048576:.1f}", limit=f"{max_bytes / 1048576:.0f}")


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name) by the rule in the module docstring."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise refused("bad_encoding") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise refused("bad_encoding") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise refused("bad_encoding") from None


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _columns(rows: Sequence[Sequence[str]], width: int) -> tuple[list[str], ...]:
    if not rows:
        return tuple([] for _ in range(width))
    if not all(len(r) == width for r in rows):
        rows = [r if len(r) == width else (list(r) + [""] * width)[:width] for r in rows]
    return tuple(map(list, zip(*rows, strict=True)))


def _finish(
    header: Sequence[str], body: Sequence[Sequence[str]], numbers: list[int] | None, fmt: str, enc: str | None
) -> Table:
    width = len(header)
    return Table(
        header=tuple(h.strip().lstrip("\ufeff") for h in header),
        columns=_columns(body, width),
        n_rows=len(body),
        file_format=fmt,
        encoding=enc,
        row_numbers=tuple(numbers) if numbers is not None else None,
    )


def _read_csv(text: str, encoding: str) -> Table:
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        raise refused("empty_file") from None
    try:
        body = list(reader)
    except csv.Error:
        raise refused("bad_format") from None
    numbers: list[int] | None = None
    if not all(r and (r[0] or any(r)) for r in body):  # blank lines (Excel exports end with some)
        numbers = [i + 2 for i, r in enumerate(body) if any(r)]  # skip them, keep the numbering
        body = [r for r in body if any(r)]
    return _finish(header, body, numbers, "csv", encoding)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(data: bytes, max_rows: int) -> Table:
    import openpyxl

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles/extensions it ignores; irrelevant for reading values.
            warnings.simplefilter("ignore", UserWarning)
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any parse failure is "not a readable workbook"
        raise refused("bad_format") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header_cells = next(rows, None)
        if header_cells is None:
            raise refused("empty_file")
        header = [_cell(c) for c in header_cells]
        while header and not header[-1]:
            header.pop()
        body: list[list[str]] = []
        numbers: list[int] = []
        for number, cells in enumerate(rows, start=2):
            values = [_cell(c) for c in cells[: len(header)]]
            if not any(values):
                continue
            if len(body) >= max_rows:
                raise refused("too_many_rows", limit=max_rows)
            body.append(values)
            numbers.append(number)
    finally:
        book.close()
    contiguous = numbers == list(range(2, 2 + len(numbers)))
    return _finish(header, body, None if contiguous else numbers, "xlsx", None)


def read_table(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_excel_rows: int = DEFAULT_MAX_EXCEL_ROWS,
) -> Table:
    """Parse an uploaded file (format detected from its bytes, not its name)."""
    check_size(len(data), max_bytes)
    if data.startswith(_XLSX_MAGIC):
        table = _read_xlsx(data, max_excel_rows)
    elif data.startswith(_OLE_MAGIC):
        raise refused("bad_format")
    else:
        text, encoding = decode_text(data)
        table = _read_csv(text, encoding)
    if table.n_rows == 0:
        raise refused("empty_file")
    return table


def table_from_items(items: Any) -> Table:
    """A JSON API batch (array of objects) as a Table; rows are numbered from 1 (array position)."""
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise refused("not_a_list")
    if not items:
        raise refused("empty_file")
    keys: dict[str, None] = {}
    for item in items:
        for key in item:
            keys.setdefault(str(key), None)
    header = tuple(keys)
    columns = tuple([_cell(item.get(key)) for item in items] for key in header)
    return Table(header, columns, len(items), "json", None, first_row=1)
