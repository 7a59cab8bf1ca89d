"""Exports of the analysis tables as CSV (UTF-8 with BOM, for Excel) or .xlsx, protected against
formula injection: a text cell starting with = + - @ tab or carriage return is prefixed with a
single quote, so a spreadsheet shows it as text instead of running it (OWASP, "CSV Injection").
Every export is recorded in the audit log.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from sqlalchemy.orm import Session

from perception.core import audit
from perception.core.spreadsheet import neutralise

FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]


def safe_cell(value: Any) -> Any:
    """A value safe to put in a spreadsheet cell: numbers stay numbers, dangerous text is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return "" if isinstance(value, float) and not math.isfinite(value) else value
    return neutralise(str(value))


def to_csv(table: Table, zh: bool) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([safe_cell(c.zh if zh else c.en) for c in table.columns])
    for row in table.rows:
        writer.writerow([safe_cell(row.get(c.key)) for c in table.columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(table: Table, zh: bool) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=table.name[:31] or "export")
    ws.append([safe_cell(c.zh if zh else c.en) for c in table.columns])
    for row in table.rows:
        ws.append([safe_cell(row.get(c.key)) for c in table.columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render(table: Table, fmt: str, zh: bool) -> tuple[bytes, str, str]:
    """(bytes, mimetype, filename) of the table in ``fmt``."""
    if fmt == "xlsx":
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return to_xlsx(table, zh), mime, f"{table.name}.xlsx"
    if fmt == "csv":
        return to_csv(table, zh), "text/csv; charset=utf-8", f"{table.name}.csv"
    raise ValueError(f"unknown export format {fmt!r}")


def export(
    session: Session, table: Table, fmt: str, zh: bool, *, summary: str = ""
) -> tuple[bytes, str, str]:
    """Render the table and record the export (who, which table, how many rows) in the audit log."""
    data, mime, filename = render(table, fmt, zh)
    audit.record(
        session,
        "export",
        object_type="analysis_table",
        object_id=table.name,
        summary=f"{filename}: {len(table.rows)} rows {summary}".strip(),
    )
    return data, mime, filename


def columns(*spec: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*s) for s in spec)


def measure_cells(prefix: str, measure: Any, scale: float = 1.0) -> dict[str, Any]:
    """estimate/low/high/n/low_sample of a GroupMeasure (or blanks) under ``prefix_*`` keys."""
    if measure is None:
        return {}
    return {
        f"{prefix}": round(measure.estimate * scale, 4),
        f"{prefix}_low": round(measure.ci_low * scale, 4),
        f"{prefix}_high": round(measure.ci_high * scale, 4),
        f"{prefix}_n": measure.n,
        f"{prefix}_low_sample": measure.low_sample,
    }


TableBuilder = Callable[..., Table]


def table_from_records(
    name: str, spec: Sequence[tuple[str, str, str]], records: Sequence[dict[str, Any]]
) -> Table:
    return Table(name, columns(*spec), tuple(records))
