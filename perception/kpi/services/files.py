"""Reading an import file or API batch into columns of strings: format, encoding, size limits.

Formats: CSV (comma, semicolon or tab separated, detected from the header line) and Excel .xlsx
(openpyxl read-only). Encodings: UTF-8 with or without BOM, UTF-16 with BOM (Excel "Unicode text"),
and GB18030 (a superset of GBK/GB2312, what Chinese Excel writes as "CSV"): a BOM decides, else
strict UTF-8 is tried first (GB18030 text is practically never valid UTF-8), else GB18030.
Files are read by the one upload reader (``perception.core.uploads``), which bounds a workbook's
unpacked size and rows before reading it; CSV has only the byte limit. Blank rows are skipped,
the first other row is the header, and every row keeps the number a spreadsheet shows. The
result is column-major (one list of strings per column) because the validators work column by
column.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from perception.core import uploads
from perception.kpi.services.messages import KpiImportError, refused

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_EXCEL_ROWS = 200_000


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


def _columns(
    rows: Sequence[Sequence[Any]], width: int, cell: Callable[[Any], str] | None = None
) -> tuple[list[str], ...]:
    """Rows as columns of ``width`` cells (a short row padded with "", a long one cut), each cell
    through ``cell`` if given. Transposed first, then converted column by column: one ``map`` per
    column instead of a list per row (a sixth less CPU: 1.55 s instead of 1.86 s per 1M CSV rows)."""
    if not rows:
        return tuple([] for _ in range(width))
    if not all(map(width.__eq__, map(len, rows))):
        rows = [r if len(r) == width else (list(r) + [""] * width)[:width] for r in rows]
    columns = zip(*rows, strict=True)
    return tuple(map(list, columns)) if cell is None else tuple(list(map(cell, c)) for c in columns)


def read_table(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_excel_rows: int = DEFAULT_MAX_EXCEL_ROWS,
    max_unpacked_bytes: int = uploads.DEFAULT_MAX_UNPACKED_BYTES,
) -> Table:
    """Parse an uploaded file through the one upload reader (bounded before it is read)."""
    grid = uploads.read_grid(
        data, uploads.Limits(max_bytes, max_excel_rows, max_unpacked_bytes), KpiImportError
    )
    if len(grid.rows) < 2:
        raise refused("empty_file")
    header = [_cell(c) for c in grid.rows[0]]
    while header and not header[-1]:
        header.pop()
    body = grid.rows[1:]
    numbers = grid.numbers[1:]
    contiguous = numbers == list(range(2, 2 + len(numbers)))
    return Table(
        header=tuple(h.strip().lstrip("\ufeff") for h in header),
        columns=_columns(body, len(header), _cell),
        n_rows=len(body),
        file_format=grid.file_format,
        encoding=grid.encoding,
        row_numbers=None if contiguous else tuple(numbers),
    )


@dataclass(frozen=True)
class TableStream:
    """A file read in chunks of rows: the header, then Tables of at most ``chunk_rows`` rows each
    (every chunk numbers its rows as the spreadsheet does). ``digest`` and ``size`` are the file's."""

    header: tuple[str, ...]
    chunks: Iterator[Table]
    file_format: str
    encoding: str | None
    digest: str
    size: int


def stream_table(
    source: uploads.Source,
    *,
    chunk_rows: int,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_excel_rows: int = DEFAULT_MAX_EXCEL_ROWS,
    max_unpacked_bytes: int = uploads.DEFAULT_MAX_UNPACKED_BYTES,
) -> TableStream:
    """Open an upload (bytes or a path) for reading in chunks; a file over the limits is refused
    before a row is read, and its memory does not grow with its length."""
    limits = uploads.Limits(max_bytes, max_excel_rows, max_unpacked_bytes)
    uploads.check_size(uploads.source_size(source), max_bytes, KpiImportError)
    digest, utf8 = uploads.scan_source(source)
    stream = uploads.stream_rows(source, limits, KpiImportError, utf8=utf8)
    first = next(stream.rows, None)
    if first is None:
        raise refused("empty_file")
    header = [_cell(c) for c in first[1]]
    while header and not header[-1]:
        header.pop()
    width = len(header)
    text_cells = stream.file_format == "csv"

    def chunks() -> Iterator[Table]:
        count = 0
        while block := list(islice(stream.rows, chunk_rows)):
            count += len(block)
            numbers, body = zip(*block, strict=True)
            del block
            # CSV cells are strings already: _cell would only strip them
            columns = _columns(body, width, str.strip if text_cells else _cell)
            yield Table(
                header=tuple(h.strip().lstrip("\ufeff") for h in header),
                columns=columns,
                n_rows=len(body),
                file_format=stream.file_format,
                encoding=stream.encoding,
                first_row=numbers[0],
                row_numbers=None if numbers[-1] - numbers[0] == len(numbers) - 1 else numbers,
            )
        if not count:
            raise refused("empty_file")

    return TableStream(
        header=tuple(h.strip().lstrip("\ufeff") for h in header),
        chunks=chunks(),
        file_format=stream.file_format,
        encoding=stream.encoding,
        digest=digest,
        size=uploads.source_size(source),
    )


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
