"""Importing report entries from CSV, pasted spreadsheet cells or an Excel workbook.

All or nothing: every row is validated first; one bad row stores nothing and the error names
the row as the spreadsheet numbers it (the header is row 1). Headers may be English or Chinese
(see ``vocab.ALIASES``); values may be codes or labels in either language. CSV files
are read as UTF-8 (with or without BOM) and, failing that, GB18030, which Chinese Excel writes.
"""

from __future__ import annotations

import csv
import io
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

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CollectionError.one(
        "file",
        "文件编码不是 UTF-8 或 GB18030。",
        "The file is neither UTF-8 nor GB18030 text.",
        code="encoding",
    )


def _csv_rows(text: str) -> list[list[Any]]:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first else (";" if first.count(";") > first.count(",") else ",")
    return [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook is the user's input problem
        raise CollectionError.one(
            "file", "无法读取该 Excel 文件。", "The workbook could not be read.", code="unreadable"
        ) from None
    try:
        ws = wb.worksheets[0]
        return [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def read_table(filename: str | None, data: bytes | str) -> tuple[list[dict[str, Any]], list[int]]:
    """Rows as {canonical column: value} with their spreadsheet row numbers; blank rows skipped."""
    if isinstance(data, str):
        grid = _csv_rows(data)
    elif len(data) > MAX_BYTES:
        raise CollectionError.one(
            "file", "文件超过 2 MB。", "The file is larger than 2 MB.", code="too_large"
        )
    elif (filename or "").lower().endswith(".xlsx") or data[:2] == b"PK":
        grid = _xlsx_rows(data)
    else:
        grid = _csv_rows(_decode(data))
    while grid and all(v is None or str(v).strip() == "" for v in grid[0]):
        grid.pop(0)
    if not grid:
        raise CollectionError.one("file", "文件为空。", "The file is empty.", code="empty")
    header = [canonical_key(h) for h in grid[0]]
    unknown = [
        Problem(str(raw), "无法识别的列。", "Unknown column.", code="unknown_column", row=1)
        for raw, key in zip(grid[0], header, strict=True)
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
    for index, values in enumerate(grid[1:], start=2):
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
