"""Importing past weekly reports with their entries and their real submission times (organiser role),
so a migrated report is judged on time or late by when it was really submitted, not by the day of
the migration.

One row per entry; the rows of one collection point and ISO week make one report. Besides the
entry columns of the weekly report import (``vocab.FIELDS``, English or Chinese headings) a row
names ``collection_point`` (code), ``week`` (any day of the ISO week), ``submitted_at`` (the
organisation's wall-clock time unless it carries an offset) and optionally ``status``
(``submitted`` or ``accepted``; default ``accepted``). The report is stored through the live
workflow (open, save entries, submit at the given time, accept), so its revision, facts and audit
are those of a live report.

Idempotent on (collection point, week): a report imported before with the same entries, times and
status is left alone; one imported before with different content is replaced (its facts withdrawn
and re-written); a report entered in the product is never overwritten (the row is refused).
The dry run, all-or-nothing rule and ImportBatch are the ticket import's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.collection.models.reports import CollectionReport, ReportStatus
from perception.collection.services import facts as collection_facts
from perception.collection.services.entries import EntryInput, canonical_key, parse_entries
from perception.collection.services.errors import CollectionError
from perception.collection.services.reports import accept_report, open_report, save_entries, submit_report
from perception.collection.services.vocab import FIELDS
from perception.core.errors import UserError
from perception.core.models.base import utcnow
from perception.core.models.org import CollectionPoint
from perception.core.periods import parse_day, week_start
from perception.core.uploads import Source
from perception.kpi.models import ImportBatch
from perception.kpi.services.messages import ImportProblem, ProblemList, problem
from perception.kpi.services.ticket_import import (
    ImportOptions,
    ImportResult,
    finish_batch,
    forget_upload,
    keep_upload,
    load_source,
    prepare_batch,
)
from perception.kpi.services.ticket_time import local_to_utc, parse_datetimes

KIND = "reports"
META = {
    "collection_point": ("collection_point", "point", "采集点"),
    "week": ("week", "week_start", "周", "报告周"),
    "submitted_at": ("submitted_at", "提交时间"),
    "status": ("status", "状态"),
}
STATUSES = {"submitted": ReportStatus.SUBMITTED, "已提交": ReportStatus.SUBMITTED,
            "accepted": ReportStatus.ACCEPTED, "已接受": ReportStatus.ACCEPTED}  # fmt: skip


def _own(row: int | None, column: str | None, value: Any, zh: str, en: str, code: str) -> ImportProblem:
    shown = None if value in (None, "") else str(value)[:80]
    return ImportProblem(column, zh=zh, en=en, code=code, row=row, value=shown)


@dataclass
class ReportRows:
    """The rows of one (point, week): when and how it was submitted and its entry rows."""

    point: CollectionPoint
    week: date
    submitted_at: datetime
    status: str
    rows: list[dict[str, Any]]
    numbers: list[int]
    first_index: int  # the group's first row in the table: its submission time and status count
    entries: list[EntryInput] | None = None


def _columns(header: tuple[str, ...], problems: ProblemList) -> tuple[dict[str, int], dict[str, int]]:
    meta_alias = {alias.casefold(): name for name, aliases in META.items() for alias in aliases}
    meta: dict[str, int] = {}
    entry: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = meta_alias.get(cell.strip().casefold())
        key = canonical_key(cell)
        if name is not None and name not in meta:
            meta[name] = index
        elif name is None and key in FIELDS and key not in entry:
            entry[key] = index
        else:
            problems.add(
                _own(1, cell or f"#{index + 1}", None, "无法识别或重复的列", "an unknown or repeated column",
                     "unknown_column")
            )  # fmt: skip
    for name in ("collection_point", "week", "submitted_at", "kind", "text"):
        if name not in meta and name not in entry:
            problems.add(problem(1, name, None, "missing_column"))
    return meta, entry


def _group(session: Session, table: Any, meta: dict[str, int], entry: dict[str, int], options: ImportOptions,
           problems: ProblemList) -> list[ReportRows]:  # fmt: skip
    points = {p.code.upper(): p for p in session.scalars(select(CollectionPoint))}
    col = {name: table.columns[index] for name, index in meta.items()}
    head = {name: table.header[index] for name, index in meta.items()}
    parsed, is_utc, bad_times = parse_datetimes(col["submitted_at"])
    for i in bad_times:
        problems.add(problem(table.row_no(i), head["submitted_at"], col["submitted_at"][i], "bad_datetime"))
    groups: dict[tuple[int, date], ReportRows] = {}
    for i in range(table.n_rows):
        row_no = table.row_no(i)
        point = points.get(col["collection_point"][i].strip().upper())
        if point is None:
            problems.add(_own(row_no, head["collection_point"], col["collection_point"][i], "没有这个采集点",
                              "no collection point with this code", "unknown_point"))  # fmt: skip
            continue
        if options.allowed_regions is not None and point.region_id not in options.allowed_regions:
            problems.add(
                problem(row_no, head["collection_point"], col["collection_point"][i], "region_forbidden")
            )
            continue
        try:
            week = week_start(parse_day(col["week"][i], head["week"]))
        except UserError:
            problems.add(_own(row_no, head["week"], col["week"][i], "不是有效的日期（例如 2026-03-02）",
                              "not a valid date (e.g. 2026-03-02)", "bad_date"))  # fmt: skip
            continue
        status_text = col["status"][i].strip().casefold() if "status" in col else ""
        status = STATUSES.get(status_text, ReportStatus.ACCEPTED if not status_text else "")
        if not status:
            problems.add(
                problem(row_no, head["status"], col["status"][i], "bad_choice", choices="submitted, accepted")
            )
            continue
        key = (point.id, week)
        rows = {name: table.columns[index][i] for name, index in entry.items()}
        group = groups.get(key)
        if group is None:
            groups[key] = ReportRows(point, week, datetime.min, status, [rows], [row_no], i)
        else:
            group.rows.append(rows)
            group.numbers.append(row_no)
    # Submission times: local wall-clock of the point's region unless the cell has an offset.
    for group in groups.values():
        i = group.first_index
        if np.isnat(parsed[i]):
            if i not in bad_times:
                problems.add(problem(table.row_no(i), head["submitted_at"], None, "required"))
            continue
        moment = parsed[i : i + 1]
        utc = moment if is_utc[i] else local_to_utc(moment, group.point.region.timezone)
        group.submitted_at = utc[0].astype("datetime64[s]").tolist()
        if group.submitted_at > utcnow():
            problems.add(problem(table.row_no(i), head["submitted_at"], col["submitted_at"][i], "in_future"))
        elif group.submitted_at.date() < group.week:
            early = ("早于报告周", "earlier than the week the report is about", "before_week")
            problems.add(_own(table.row_no(i), head["submitted_at"], col["submitted_at"][i], *early))
    return list(groups.values())


def _same(report: CollectionReport, group: ReportRows) -> bool:
    if report.first_submitted_at != group.submitted_at or report.status != group.status:
        return False
    revision = report.revisions[-1] if report.revisions else None
    fresh = [_snapshot(e) for e in group.entries or []]
    return revision is not None and revision.entries == fresh


def _snapshot(entry: EntryInput) -> dict[str, Any]:
    return {
        "kind": entry.kind, "customer_id": entry.customer_id, "contact_name": entry.contact_name,
        "service_id": entry.service_id, "category": entry.category,
        "event_date": entry.event_date.isoformat() if entry.event_date else None, "impact": entry.impact,
        "dimension": entry.dimension, "rating": entry.rating, "means": entry.means, "area": entry.area,
        "urgency": entry.urgency, "size": entry.size, "text": entry.text,
    }  # fmt: skip


def _store(session: Session, group: ReportRows, report: CollectionReport | None) -> None:
    if report is not None:  # an imported report with different content: start it again
        collection_facts.withdraw_report_facts(session, report)
        report.status, report.revision, report.first_submitted_at = ReportStatus.DRAFT.value, 0, None
        for revision in list(report.revisions):
            session.delete(revision)
        report.revisions.clear()
        session.flush()
    report = report or open_report(
        session, group.point, group.week, None, now=group.submitted_at, source="import"
    )
    report.source = "import"
    save_entries(session, report, group.entries or [], None)
    submit_report(session, report, None, now=group.submitted_at, notify=False)
    if group.status == ReportStatus.ACCEPTED:
        accept_report(session, report, None, now=group.submitted_at)


def import_reports(
    session: Session, options: ImportOptions, *, data: Source | None = None, items: Any = None,
    filename: str | None = None, batch: ImportBatch | None = None,
) -> ImportResult:  # fmt: skip
    """Check every row and (unless a dry run) store the new and changed reports. Raises
    KpiImportError naming every problem (row, column, value); nothing is stored then."""
    started = time.perf_counter()
    table, digest, size = load_source(data, items, options)
    problems = ProblemList()
    meta, entry = _columns(table.header, problems)
    problems.raise_if_any()
    groups = _group(session, table, meta, entry, options, problems)
    for group in groups:
        try:
            group.entries = parse_entries(session, group.rows, group.point.region_id, group.week,
                                          row_numbers=group.numbers)  # fmt: skip
        except CollectionError as exc:
            for found in exc.problems:
                problems.add(found)
    stored = {
        (r.collection_point_id, r.week_start): r
        for r in session.scalars(select(CollectionReport).where(
            CollectionReport.week_start.in_({g.week for g in groups} or {date.min})))
    }  # fmt: skip
    new: list[ReportRows] = []
    changed: list[tuple[ReportRows, CollectionReport]] = []
    for group in groups:
        report = stored.get((group.point.id, group.week))
        if report is None:
            new.append(group)
        elif report.source != "import":
            problems.add(_own(group.numbers[0], table.header[meta["collection_point"]], group.point.code,
                              f"该采集点 {group.week} 这一周已有在系统中填写的报告，不会被覆盖",
                              f"the point already has a report for the week of {group.week} entered in the "
                              "product; it is not overwritten", "report_exists"))  # fmt: skip
        elif not _same(report, group):
            changed.append((group, report))
    problems.raise_if_any()
    batch, duplicate = prepare_batch(
        session, KIND, replace(options, allow_duplicate=True), filename=filename,
        file_format=table.file_format, encoding=table.encoding, digest=digest, size=size, batch=batch,
    )  # fmt: skip
    if not options.dry_run:
        for group in new:
            _store(session, group, None)
        for group, report in changed:
            _store(session, group, report)
    total = len(groups)
    finish_batch(session, batch, options, (total, len(new), len(changed)), started)
    keep_upload(options, digest, data)
    if not options.dry_run:
        forget_upload(options, batch)
    return ImportResult(
        batch_id=batch.id, kind=KIND, dry_run=options.dry_run, rows_total=total, rows_new=len(new),
        rows_changed=len(changed), rows_unchanged=total - len(new) - len(changed),
        file_format=table.file_format, encoding=table.encoding, seconds=time.perf_counter() - started,
        duplicate_of=duplicate,
    )  # fmt: skip
