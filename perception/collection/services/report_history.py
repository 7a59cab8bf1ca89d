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

The file (bytes or a path) is read READ_ROWS rows at a time, twice: the first pass checks every
row and keeps, per report, only what decides it (its first row, submission time, status, how many
rows and a digest of its entries), so a problem anywhere, at row 900,000 as at row 2, refuses the
file with its row, column and reason before anything is written; the second pass (applying only)
writes each report's entries as their rows come and submits a report once its last row is written.
Memory grows with the number of reports (points x weeks), not with the rows of the file.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field, replace
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
from perception.kpi.services.files import Table
from perception.kpi.services.messages import ImportProblem, ProblemList, problem
from perception.kpi.services.nul_cells import take_nul_cells
from perception.kpi.services.ticket_import import (
    ImportOptions,
    ImportResult,
    finish_batch,
    forget_upload,
    keep_upload,
    prepare_batch,
    read_chunks,
)
from perception.kpi.services.ticket_time import local_to_utc, parse_datetimes

KIND = "reports"
READ_ROWS = (
    20_000  # rows read and checked (or written) at a time: the import's memory, whatever the file's length
)
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
    """The rows of one (point, week) within one chunk, and their entries once checked."""

    point: CollectionPoint
    week: date
    rows: list[dict[str, Any]]
    numbers: list[int]
    first_index: int  # the segment's first row in the chunk
    status: str


@dataclass
class ReportPlan:
    """What the first pass keeps of one report (point, week): all that decides it, no rows."""

    point: CollectionPoint
    week: date
    first_row: int  # its first row in the file: its submission time and status count
    status: str
    submitted_at: datetime | None = None
    rows: int = 0
    digest: Any = field(default_factory=hashlib.sha256)  # of its entries' snapshots, in file order
    action: str = ""  # "new", "changed" or "" (unchanged, or refused)
    report_id: int | None = None  # while the second pass writes it
    started: bool = False  # the second pass has written its first rows


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


def _segments(table: Table, meta: dict[str, int], entry: dict[str, int],
              points: dict[str, CollectionPoint], options: ImportOptions,
              problems: ProblemList) -> list[ReportRows]:  # fmt: skip
    """The chunk's rows grouped by (point, week), in order of their first row; problems of a row's
    point, week and status go to ``problems`` (the row is left out)."""
    col = {name: table.columns[index] for name, index in meta.items()}
    head = {name: table.header[index] for name, index in meta.items()}
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
        rows = {name: table.columns[index][i] for name, index in entry.items()}
        group = groups.get((point.id, week))
        if group is None:
            groups[(point.id, week)] = ReportRows(point, week, [rows], [row_no], i, status)
        else:
            group.rows.append(rows)
            group.numbers.append(row_no)
    return list(groups.values())


def _check_chunk(session: Session, table: Table, meta: dict[str, int], entry: dict[str, int],
                 points: dict[str, CollectionPoint], options: ImportOptions, problems: ProblemList,
                 plans: dict[tuple[int, date], ReportPlan]) -> None:  # fmt: skip
    """First pass over one chunk: every row checked, each report's plan brought up to date."""
    take_nul_cells(table, problems)  # before any cell is read: a NUL is its row's problem
    head = table.header[meta["submitted_at"]]
    times = table.columns[meta["submitted_at"]]
    parsed, is_utc, bad_times = parse_datetimes(times)
    for i in bad_times:
        problems.add(problem(table.row_no(i), head, times[i], "bad_datetime"))
    bad = set(bad_times)
    for group in _segments(table, meta, entry, points, options, problems):
        key = (group.point.id, group.week)
        plan = plans.get(key)
        if plan is None:  # the report's first row: its submission time and status
            i = group.first_index
            plan = plans[key] = ReportPlan(group.point, group.week, table.row_no(i), group.status)
            _submission(plan, parsed[i : i + 1], bool(is_utc[i]), times[i], i in bad, head, problems)
        try:
            entries = parse_entries(session, group.rows, group.point.region_id, group.week,
                                    row_numbers=group.numbers)  # fmt: skip
        except CollectionError as exc:
            for found in exc.problems:
                problems.add(found)
            continue
        plan.rows += len(group.rows)
        for item in entries:
            plan.digest.update(json.dumps(_snapshot(item), sort_keys=True, default=str).encode() + b"\n")


def _submission(plan: ReportPlan, moment: Any, utc: bool, text: str, bad: bool, head: str,
                problems: ProblemList) -> None:  # fmt: skip
    """A report's submission time: local wall-clock of the point's region unless the cell has an offset."""
    if np.isnat(moment[0]):
        if not bad:
            problems.add(problem(plan.first_row, head, None, "required"))
        return
    utc_moment = moment if utc else local_to_utc(moment, plan.point.region.timezone)
    plan.submitted_at = utc_moment[0].astype("datetime64[s]").tolist()
    assert plan.submitted_at is not None
    if plan.submitted_at > utcnow():
        problems.add(problem(plan.first_row, head, text, "in_future"))
    elif plan.submitted_at.date() < plan.week:
        early = ("早于报告周", "earlier than the week the report is about", "before_week")
        problems.add(_own(plan.first_row, head, text, *early))


def _stored_digest(report: CollectionReport) -> str | None:
    revision = report.revisions[-1] if report.revisions else None
    if revision is None:
        return None
    digest = hashlib.sha256()
    for item in revision.entries:
        digest.update(json.dumps(item, sort_keys=True, default=str).encode() + b"\n")
    return digest.hexdigest()


def _same(report: CollectionReport, plan: ReportPlan) -> bool:
    if report.first_submitted_at != plan.submitted_at or report.status != plan.status:
        return False
    return _stored_digest(report) == plan.digest.hexdigest()


def _snapshot(entry: EntryInput) -> dict[str, Any]:
    return {
        "kind": entry.kind, "customer_id": entry.customer_id, "contact_name": entry.contact_name,
        "service_id": entry.service_id, "category": entry.category,
        "event_date": entry.event_date.isoformat() if entry.event_date else None, "impact": entry.impact,
        "dimension": entry.dimension, "rating": entry.rating, "means": entry.means, "area": entry.area,
        "urgency": entry.urgency, "size": entry.size, "text": entry.text,
    }  # fmt: skip


def _decide(session: Session, plans: dict[tuple[int, date], ReportPlan], heading: str,
            problems: ProblemList) -> None:  # fmt: skip
    """Each plan's action against the stored reports of its week (looked up a week at a time)."""
    by_week: dict[date, list[ReportPlan]] = {}
    for plan in plans.values():
        by_week.setdefault(plan.week, []).append(plan)
    for week, week_plans in sorted(by_week.items()):
        stored = {
            r.collection_point_id: r
            for r in session.scalars(select(CollectionReport).where(CollectionReport.week_start == week))
        }
        for plan in week_plans:
            report = stored.get(plan.point.id)
            if report is None:
                plan.action = "new"
            elif report.source != "import":
                zh = f"该采集点 {plan.week} 这一周已有在系统中填写的报告，不会被覆盖"
                en = (f"the point already has a report for the week of {plan.week} entered in the product; "
                      "it is not overwritten")  # fmt: skip
                problems.add(_own(plan.first_row, heading, plan.point.code, zh, en, "report_exists"))
            elif not _same(report, plan):
                plan.action, plan.report_id = "changed", report.id
        for report in stored.values():
            session.expire(report)  # the week's reports and revisions are not held to the end


def _write_chunk(session: Session, table: Table, meta: dict[str, int], entry: dict[str, int],
                 points: dict[str, CollectionPoint], options: ImportOptions,
                 plans: dict[tuple[int, date], ReportPlan]) -> None:  # fmt: skip
    """Second pass over one chunk: the entries of new and changed reports stored as their rows
    come; a report whose last row this chunk holds is submitted (and accepted) at its time."""
    unexpected = ProblemList()
    take_nul_cells(table, unexpected)
    for group in _segments(table, meta, entry, points, options, unexpected):
        plan = plans[(group.point.id, group.week)]
        if not plan.action:
            continue
        entries = parse_entries(session, group.rows, group.point.region_id, group.week,
                                row_numbers=group.numbers)  # fmt: skip
        report = session.get(CollectionReport, plan.report_id) if plan.report_id is not None else None
        first = not plan.started
        if first:
            report, plan.started = _restart(session, plan, report), True
        assert report is not None
        save_entries(session, report, entries, None, append=not first)
        plan.rows -= len(group.rows)
        if plan.rows == 0:  # its last row: submitted as it was, at its time
            assert plan.submitted_at is not None
            submit_report(session, report, None, now=plan.submitted_at, notify=False)
            if plan.status == ReportStatus.ACCEPTED:
                accept_report(session, report, None, now=plan.submitted_at)
            plan.action = ""
        session.expire(report)  # its entries are not held until the file's end
    unexpected.raise_if_any()  # the first pass found none; the file changed under us


def _restart(session: Session, plan: ReportPlan, report: CollectionReport | None) -> CollectionReport:
    """The report a new or changed plan writes into: opened, or (imported before with different
    content) its facts withdrawn and its revisions dropped, as if never submitted."""
    if report is not None:
        collection_facts.withdraw_report_facts(session, report)
        report.status, report.revision, report.first_submitted_at = ReportStatus.DRAFT.value, 0, None
        for revision in list(report.revisions):
            session.delete(revision)
        report.revisions.clear()
        session.flush()
    assert plan.submitted_at is not None
    report = report or open_report(
        session, plan.point, plan.week, None, now=plan.submitted_at, source="import"
    )
    report.source = "import"
    plan.report_id = report.id
    return report


def import_reports(
    session: Session, options: ImportOptions, *, data: Source | None = None, items: Any = None,
    filename: str | None = None, batch: ImportBatch | None = None,
) -> ImportResult:  # fmt: skip
    """Check every row and (unless a dry run) store the new and changed reports. Raises
    KpiImportError naming every problem (row, column, value); nothing is stored then. The file is
    read in chunks, twice (see the module docstring)."""
    started = time.perf_counter()
    source, chunks = read_chunks(data, items, options, READ_ROWS)
    problems = ProblemList(source.header)
    meta, entry = _columns(source.header, problems)
    problems.raise_if_any()
    points = {p.code.upper(): p for p in session.scalars(select(CollectionPoint))}
    plans: dict[tuple[int, date], ReportPlan] = {}
    file_format, encoding = source.file_format, source.encoding
    for table in chunks:
        file_format, encoding = table.file_format, table.encoding
        _check_chunk(session, table, meta, entry, points, options, problems, plans)
        del table
    if not problems:
        _decide(session, plans, source.header[meta["collection_point"]], problems)
    problems.raise_if_any()
    new = sum(1 for p in plans.values() if p.action == "new")
    changed = sum(1 for p in plans.values() if p.action == "changed")
    batch, duplicate = prepare_batch(
        session, KIND, replace(options, allow_duplicate=True), filename=filename,
        file_format=file_format, encoding=encoding, digest=source.digest, size=source.size, batch=batch,
    )  # fmt: skip
    if not options.dry_run and (new or changed):
        for table in read_chunks(data, items, options, READ_ROWS)[1]:
            _write_chunk(session, table, meta, entry, points, options, plans)
            del table
    total = len(plans)
    finish_batch(session, batch, options, (total, new, changed), started)
    keep_upload(options, source.digest, data)
    if not options.dry_run:
        forget_upload(options, batch)
    return ImportResult(
        batch_id=batch.id, kind=KIND, dry_run=options.dry_run, rows_total=total, rows_new=new,
        rows_changed=changed, rows_unchanged=total - new - changed,
        file_format=file_format, encoding=encoding, seconds=time.perf_counter() - started,
        duplicate_of=duplicate,
    )  # fmt: skip
