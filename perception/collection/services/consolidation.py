"""Consolidation for the designated organiser: every counted entry of a week (or range of weeks)
across regions, filtered by kind, dimension, customer, service, region and text; duplicates
marked; exported as CSV (UTF-8 with BOM, opens in Excel) or XLSX.

Counted entries are those of submitted, resubmitted and accepted reports (see
``services.reports`` for why submitted data counts before acceptance).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from perception.collection.models.reports import COUNTED_STATUSES, CollectionReport, ReportEntry
from perception.collection.services.errors import CollectionError
from perception.collection.services.vocab import (
    CATEGORIES,
    DIMENSIONS,
    KINDS,
    MEANS,
    SIZES,
    URGENCIES,
    label,
)
from perception.core.models.org import CollectionPoint, CustomerOrg, Region
from perception.core.periods import iso_week_label
from perception.core.spreadsheet import neutralise
from perception.setup.models.catalog import Service


@dataclass(frozen=True)
class EntryFilter:
    first_week: date
    last_week: date
    kind: str | None = None
    dimension: str | None = None
    customer_id: int | None = None
    service_id: int | None = None
    region_id: int | None = None
    text: str | None = None
    hide_duplicates: bool = False


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def entries_query(f: EntryFilter) -> Select[Any]:
    """SELECT (entry, report) rows matching the filter, in week, region, point, position order."""
    stmt: Any = (
        select(ReportEntry, CollectionReport)
        .join(CollectionReport, CollectionReport.id == ReportEntry.report_id)
        .join(CollectionPoint, CollectionPoint.id == CollectionReport.collection_point_id)
        .where(
            CollectionReport.status.in_([s.value for s in COUNTED_STATUSES]),
            CollectionReport.week_start.between(f.first_week, f.last_week),
        )
        .order_by(CollectionReport.week_start, CollectionPoint.code, ReportEntry.position)
    )
    if f.kind:
        stmt = stmt.where(ReportEntry.kind == f.kind)
    if f.dimension:
        stmt = stmt.where(ReportEntry.dimension == f.dimension)
    if f.customer_id:
        stmt = stmt.where(ReportEntry.customer_id == f.customer_id)
    if f.service_id:
        stmt = stmt.where(ReportEntry.service_id == f.service_id)
    if f.region_id:
        stmt = stmt.where(ReportEntry.region_id == f.region_id)
    if f.text and f.text.strip():
        pattern = _like(f.text.strip())
        stmt = stmt.where(
            or_(
                ReportEntry.text.ilike(pattern, escape="\\"),
                ReportEntry.impact.ilike(pattern, escape="\\"),
                ReportEntry.area.ilike(pattern, escape="\\"),
                ReportEntry.contact_name.ilike(pattern, escape="\\"),
            )
        )
    if f.hide_duplicates:
        stmt = stmt.where(ReportEntry.duplicate_of_id.is_(None))
    return stmt


def mark_duplicate(session: Session, entry: ReportEntry, original: ReportEntry | None) -> ReportEntry:
    """Mark ``entry`` as a repeat of ``original`` (None clears the mark). Chains collapse to the
    first entry so every duplicate points at one original."""
    if original is None:
        entry.duplicate_of_id = None
        session.flush()
        return entry
    while original.duplicate_of_id is not None:
        parent = session.get(ReportEntry, original.duplicate_of_id)
        if parent is None:
            break
        original = parent
    if original.id == entry.id:
        raise CollectionError.one(
            "duplicate_of", "条目不能与自身重复。", "An entry cannot duplicate itself.", code="self_duplicate"
        )
    if original.kind != entry.kind:
        raise CollectionError.one(
            "duplicate_of",
            "只有同一类型的条目才能标记为重复。",
            "Only entries of the same kind can be duplicates.",
            code="kind_mismatch",
        )
    entry.duplicate_of_id = original.id
    session.flush()
    return entry


EXPORT_COLUMNS = (
    ("week", "周", "Week"),
    ("region", "区域", "Region"),
    ("point", "采集点", "Collection point"),
    ("entry_id", "条目编号", "Entry id"),
    ("kind", "类型", "Kind"),
    ("customer", "客户", "Customer"),
    ("contact", "联系人", "Contact"),
    ("service", "服务", "Service"),
    ("category", "类别", "Category"),
    ("date", "日期", "Date"),
    ("dimension", "维度", "Dimension"),
    ("rating", "评分", "Rating"),
    ("means", "方式", "Means"),
    ("area", "服务领域", "Service area"),
    ("urgency", "紧急程度", "Urgency"),
    ("size", "预估规模", "Estimated size"),
    ("text", "内容", "Text"),
    ("impact", "预期影响", "Expected impact"),
    ("duplicate_of", "重复于", "Duplicate of"),
)


def export_rows(session: Session, rows: Sequence[Any], zh: bool) -> list[list[Any]]:
    """A header row and one row per (entry, report), labels in the chosen language."""
    names = {
        "customer": dict(session.execute(select(CustomerOrg.id, CustomerOrg.code)).all()),
        "service": dict(session.execute(select(Service.id, Service.code)).all()),
        "point": dict(session.execute(select(CollectionPoint.id, CollectionPoint.code)).all()),
        "region": dict(session.execute(select(Region.id, Region.code)).all()),
    }
    out: list[list[Any]] = [[c[1] if zh else c[2] for c in EXPORT_COLUMNS]]
    for entry, report in rows:
        out.append(
            [
                iso_week_label(report.week_start),
                names["region"].get(report.region_id, ""),
                names["point"].get(report.collection_point_id, ""),
                entry.id,
                label(KINDS, entry.kind, zh),
                names["customer"].get(entry.customer_id, ""),
                entry.contact_name or "",
                names["service"].get(entry.service_id, ""),
                label(CATEGORIES, entry.category, zh),
                entry.event_date.isoformat() if entry.event_date else "",
                label(DIMENSIONS, entry.dimension, zh),
                entry.rating if entry.rating is not None else "",
                label(MEANS, entry.means, zh),
                entry.area or "",
                label(URGENCIES, entry.urgency, zh),
                label(SIZES, entry.size, zh),
                entry.text,
                entry.impact or "",
                entry.duplicate_of_id or "",
            ]
        )
    return out


def to_csv(table: Sequence[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in table:
        writer.writerow([neutralise(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(table: Sequence[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("entries")
    for row in table:
        ws.append([neutralise(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
