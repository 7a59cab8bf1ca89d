"""The weekly-report lifecycle: open, edit entries, submit, accept, return, resubmit.

draft -> submitted -> accepted | returned (with the organiser's comment) -> resubmitted -> ...
Entries are editable only in draft and returned; every submission freezes the entries as a
numbered ReportRevision, so editing after a return never loses what was submitted before.

Which data analysis counts: facts (ExperienceObservation / TextEntry) are written when a report
is SUBMITTED (and rewritten at each resubmission), kept when it is accepted and withdrawn when
it is returned. Analysis therefore sees submitted and accepted information, never drafts or
returned content. Waiting for acceptance would leave the newest week blind whenever the
organiser is a few days behind, while returning is the organiser's veto on bad content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from perception.collection.models.reports import (
    EDITABLE_STATUSES,
    CollectionReport,
    ReportEntry,
    ReportRevision,
    ReportStatus,
)
from perception.collection.services import facts as collection_facts
from perception.collection.services.entries import EntryInput, parse_entries
from perception.collection.services.errors import CollectionError
from perception.core.audit import record
from perception.core.models.auth import Role, User
from perception.core.models.base import utcnow
from perception.core.models.org import CollectionPoint
from perception.core.periods import local_date, week_start
from perception.core.webhooks import emit


def restrict_to_point(stmt: Any, model: Any, user: User) -> Any:
    """A collector sees only their own collection point's reports (on top of region scoping).

    Users who may organise reports see every point of their scope."""
    if user.has_role(Role.ORGANISER, Role.SYSTEM_OWNER):
        return stmt
    if user.has_role(Role.COLLECTOR):
        return stmt.where(model.collection_point_id == (user.collection_point_id or -1))
    return stmt


def _check_author(user: User | None, report: CollectionReport) -> None:
    if user is not None and user.collection_point_id != report.collection_point_id:
        raise CollectionError.one(
            "collection_point",
            "只有本采集点的采集员可以修改该报告。",
            "Only a collector of this collection point may change its report.",
            code="not_the_points_collector",
        )


def open_report(
    session: Session,
    point: CollectionPoint,
    week: date,
    user: User | None,
    *,
    now: datetime | None = None,
    source: str = "form",
) -> CollectionReport:
    """The point's report for the ISO week containing ``week``, created as a draft if needed.
    Weeks after the current one (in the region's time zone) are refused."""
    monday = week_start(week)
    today = local_date(now or utcnow(), point.region.timezone)
    if monday > week_start(today):
        raise CollectionError.one(
            "week",
            "不能为未来的周创建报告。",
            "Reports cannot be opened for future weeks.",
            code="future_week",
        )
    stmt = select(CollectionReport).where(
        CollectionReport.collection_point_id == point.id, CollectionReport.week_start == monday
    )
    report = session.scalar(stmt)
    if report is not None:
        return report
    report = CollectionReport(
        region_id=point.region_id,
        collection_point_id=point.id,
        week_start=monday,
        status=ReportStatus.DRAFT.value,
        revision=0,
        created_by_id=user.id if user else None,
        source=source,
    )
    try:
        with session.begin_nested():
            session.add(report)
    except IntegrityError:  # opened concurrently: the unique (point, week) constraint decides
        existing = session.scalar(stmt)
        assert existing is not None
        return existing
    return report


def _require_editable(report: CollectionReport) -> None:
    if report.status not in EDITABLE_STATUSES:
        raise CollectionError.one(
            "status",
            "该报告已提交或已接受，不能再修改。",
            "This report is submitted or accepted and can no longer be edited.",
            code="not_editable",
        )


def save_entries(
    session: Session,
    report: CollectionReport,
    entries: Sequence[EntryInput],
    user: User | None,
    *,
    append: bool = False,
) -> CollectionReport:
    """Replace (or, with ``append``, extend) the entries of an editable report."""
    _check_author(user, report)
    _require_editable(report)
    if not append:
        report.entries.clear()
        session.flush()
    start = max((e.position for e in report.entries), default=0)
    for i, entry in enumerate(entries, start=start + 1):
        report.entries.append(
            ReportEntry(
                region_id=report.region_id,
                position=i,
                kind=entry.kind,
                text=entry.text,
                customer_id=entry.customer_id,
                contact_name=entry.contact_name,
                service_id=entry.service_id,
                category=entry.category,
                event_date=entry.event_date,
                impact=entry.impact,
                dimension=entry.dimension,
                rating=entry.rating,
                means=entry.means,
                area=entry.area,
                urgency=entry.urgency,
                size=entry.size,
            )
        )
    session.flush()
    return report


def submit_report(
    session: Session,
    report: CollectionReport,
    user: User | None,
    *,
    now: datetime | None = None,
    notify: bool = True,
) -> CollectionReport:
    """Submit (or resubmit after a return): freeze a revision, stamp the time, write the facts and
    tell the webhook subscribers (``notify``: not for a migrated report of the past)."""
    _check_author(user, report)
    _require_editable(report)
    moment = now or utcnow()
    report.revision += 1
    report.status = (ReportStatus.SUBMITTED if report.revision == 1 else ReportStatus.RESUBMITTED).value
    report.submitted_at = moment
    report.submitted_by_id = user.id if user else None
    if report.first_submitted_at is None:
        report.first_submitted_at = moment
    session.add(
        ReportRevision(
            report=report,
            region_id=report.region_id,
            number=report.revision,
            submitted_at=moment,
            submitted_by_id=report.submitted_by_id,
            entries=[e.snapshot() for e in report.entries],
        )
    )
    session.flush()
    collection_facts.write_report_facts(session, report)
    if notify:
        emit(session, "report.submitted", _report_event(report), moment)
    return report


def _report_event(report: CollectionReport) -> dict[str, Any]:
    return {
        "report_id": report.id,
        "collection_point_id": report.collection_point_id,
        "region_id": report.region_id,
        "week_start": report.week_start.isoformat(),
        "status": report.status,
        "revision": report.revision,
        "entries": len(report.entries),
    }


def _require_submitted(report: CollectionReport) -> None:
    if report.status not in (ReportStatus.SUBMITTED, ReportStatus.RESUBMITTED):
        raise CollectionError.one(
            "status",
            "只有已提交的报告才能被接受或退回。",
            "Only a submitted report can be accepted or returned.",
            code="not_submitted",
        )


def accept_report(
    session: Session, report: CollectionReport, user: User | None, *, now: datetime | None = None
) -> CollectionReport:
    _require_submitted(report)
    report.status = ReportStatus.ACCEPTED.value
    report.reviewed_at = now or utcnow()
    report.reviewed_by_id = user.id if user else None
    session.flush()
    return report


def return_report(
    session: Session,
    report: CollectionReport,
    user: User | None,
    comment: str,
    *,
    now: datetime | None = None,
) -> CollectionReport:
    """Send back for correction; the comment is required. Its facts are withdrawn until resubmitted."""
    _require_submitted(report)
    if not comment.strip():
        raise CollectionError.one(
            "comment",
            "请说明采集点需要修改的内容。",
            "Say what the collection point should correct.",
            code="required",
        )
    report.status = ReportStatus.RETURNED.value
    report.organiser_comment = comment.strip()[:4000]
    report.reviewed_at = now or utcnow()
    report.reviewed_by_id = user.id if user else None
    collection_facts.withdraw_report_facts(session, report)
    session.flush()
    emit(session, "report.returned", {**_report_event(report), "comment": report.organiser_comment},
         report.reviewed_at)  # fmt: skip
    return report


def put_report(
    session: Session,
    point: CollectionPoint,
    week: date,
    rows: Sequence[Mapping[str, Any]],
    user: User | None,
    *,
    submit: bool = False,
    append: bool = False,
    source: str = "api",
    now: datetime | None = None,
) -> CollectionReport:
    """Open the week's report, validate every row (all or nothing), store them and optionally submit.
    The single entry point for the JSON API and for teams' own tools."""
    report = open_report(session, point, week, user, now=now, source=source)
    _check_author(user, report)
    _require_editable(report)
    entries = parse_entries(session, rows, report.region_id, report.week_start)
    save_entries(session, report, entries, user, append=append)
    if source != "form":
        report.source = source
        record(
            session,
            "import",
            object_type="CollectionReport",
            object_id=report.id,
            region_id=report.region_id,
            summary=f"{len(entries)} entries for {point.code} week {report.week_start} via {source}",
        )
    if submit:
        submit_report(session, report, user, now=now)
    return report
