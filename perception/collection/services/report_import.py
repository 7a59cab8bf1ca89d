"""Importing report entries from CSV, pasted spreadsheet cells or an Excel workbook.

All or nothing: every row is validated first; one bad row stores nothing and the error names
the row as the spreadsheet numbers it (the header is row 1). Headers may be English or Chinese
(see ``vocab.ALIASES``); values may be codes or labels in either language. Files are read by the
one upload reader (``perception.core.uploads``): UTF-8, UTF-16 or GB18030 CSV, or .xlsx.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from perception.collection.models.reports import CollectionReport
from perception.collection.services.entries import canonical_key, is_empty_row, parse_entries
from perception.collection.services.errors import CollectionError
from perception.collection.services.reports import save_entries
from perception.collection.services.vocab import FIELDS
from perception.core.audit import record
from perception.core.errors import Problem
from perception.core.models.auth import User
from perception.core.uploads import Limits, read_csv, read_grid

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000


LIMITS = Limits(max_bytes=MAX_BYTES, max_rows=MAX_ROWS, max_unpacked_bytes=32 * 1024 * 1024)


def read_table(filename: str | None, data: bytes | str) -> tuple[list[dict[str, Any]], list[int]]:
    """Rows as {canonical column: value} with their spreadsheet row numbers; blank rows skipped.

    A file goes through the one upload reader (``perception.core.uploads``: size, unpacked size
    and rows bounded before reading; encodings and line endings); pasted cells are CSV text."""
    if isinstance(data, str):
        grid = read_csv(data, None, CollectionError)
    else:
        grid = read_grid(data, LIMITS, CollectionError)
    if not grid.rows:
        raise CollectionError.one("file", "文件为空。", "The file is empty.", code="empty")
    header = [canonical_key(h) for h in grid.rows[0]]
    unknown = [
        Problem(str(raw), "无法识别的列。", "Unknown column.", code="unknown_column", row=1)
        for raw, key in zip(grid.rows[0], header, strict=True)
        if key and key not in FIELDS
    ]
    if unknown:
        raise CollectionError(unknown)
    if "kind" not in header or "text" not in header:
        raise CollectionError.one(
            "header",
            "第一行须为列名，且包含类型和内容列。",
            "The first row must name the columns, including kind and text.",
            code="missing_columns",
        )
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    for index, values in zip(grid.numbers[1:], grid.rows[1:], strict=True):
        row = {key: value for key, value in zip(header, values, strict=False) if key}
        if is_empty_row(row) and not str(row.get("kind") or "").strip():
            continue
        rows.append(row)
        numbers.append(index)
    if len(rows) > MAX_ROWS:
        raise CollectionError.one(
            "file",
            f"每次最多导入 {MAX_ROWS} 行。",
            f"At most {MAX_ROWS} rows per import.",
            code="too_many_rows",
        )
    return rows, numbers


def import_entries(
    session: Session, report: CollectionReport, filename: str | None, data: bytes | str, user: User | None
) -> int:
    """Append the file's entries to an editable report; returns how many were added."""
    rows, numbers = read_table(filename, data)
    if not rows:
        raise CollectionError.one(
            "file", "文件只有表头，没有数据行。", "The file has a header but no rows.", code="empty"
        )
    entries = parse_entries(session, rows, report.region_id, report.week_start, row_numbers=numbers)
    save_entries(session, report, entries, user, append=True)
    record(
        session,
        "import",
        object_type="CollectionReport",
        object_id=report.id,
        region_id=report.region_id,
        summary=f"{len(entries)} entries imported from {filename or 'pasted text'}",
    )
    return len(entries)
