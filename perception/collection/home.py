"""The home panels of the collection phase (perception.core.home): the collector's week (the
weekly report, the region's open follow-ups, the callback queue) and the organiser's (missing
and late reports, reports waiting to be accepted). Figures and to-dos come from the same services
as the pages they link to (the completeness board, the follow-up list)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.collection.models.fieldwork import CallbackTask
from perception.collection.models.reports import CollectionReport, ReportStatus
from perception.collection.services.board import DONE, Completeness, completeness
from perception.core.authz import Permission, can, region_scope, scoped
from perception.core.clock import Clock
from perception.core.home import HomeFigure, HomePanel, HomeTodo, home_panel, signed
from perception.core.i18n import localized
from perception.core.models.auth import Role, User
from perception.core.models.org import CollectionPoint, CustomerOrg, Region
from perception.core.periods import week_start
from perception.surveys.labels import reasons_label
from perception.surveys.services.followup import open_followups

FOLLOWUPS_SHOWN = 6


def _local_day(moment, timezone: str):  # type: ignore[no-untyped-def]
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(timezone)).date()


def _week_label(monday) -> str:  # type: ignore[no-untyped-def]
    year, week, _day = monday.isocalendar()
    return _("week %(week)s of %(year)s", week=week, year=year)


def _followup_todos(session: Session, user: User, clock: Clock) -> tuple[list[HomeTodo], int, int]:
    tasks = open_followups(session, user, limit=200)
    today = clock.today()
    names = {
        c.id: c
        for c in session.scalars(
            select(CustomerOrg).where(CustomerOrg.id.in_({t.customer_id for t in tasks}))
        )
    }
    overdue = sum(1 for t in tasks if t.due_on is not None and t.due_on < today)
    todos = [
        HomeTodo(
            key=f"followup:{t.id}",
            text=_(
                "Follow up %(customer)s: %(reasons)s",
                customer=localized(names[t.customer_id]) if t.customer_id in names else _("a respondent"),
                reasons=reasons_label(t.reasons),
            ),
            href=url_for("surveys.followup_task", task_id=t.id),
            due=t.due_on,
            overdue=t.due_on is not None and t.due_on < today,
        )
        for t in tasks[:FOLLOWUPS_SHOWN]
    ]
    return todos, len(tasks), overdue


@home_panel(10)
def collector_panel(session: Session, user: User, clock: Clock) -> HomePanel | None:
    if not user.has_role(Role.COLLECTOR) or user.collection_point_id is None:
        return None
    point = session.get(CollectionPoint, user.collection_point_id)
    if point is None:
        return None
    region = session.get(Region, point.region_id)
    this_week = week_start(clock.today())
    cells = completeness(
        session, this_week - timedelta(weeks=1), this_week, now=clock.now(), point_ids=[point.id]
    )
    todos: list[HomeTodo] = []
    state_text = {
        Completeness.NOT_STARTED: _("not started"),
        Completeness.DRAFT: _("draft, not submitted"),
        Completeness.MISSING: _("missing"),
    }
    for cell in sorted(cells, key=lambda c: c.week_start):
        if cell.state in DONE and cell.status != ReportStatus.RETURNED:
            continue
        due = _local_day(cell.deadline, region.timezone if region else clock.timezone)
        href = (
            url_for("collection.report", report_id=cell.report_id)
            if cell.report_id
            else url_for("collection.reports")
        )
        if cell.status == ReportStatus.RETURNED:
            report = session.get(CollectionReport, cell.report_id)
            text = _(
                "Weekly report %(week)s was returned: correct and resubmit it",
                week=_week_label(cell.week_start),
            )
            detail = report.organiser_comment if report else None
        else:
            text = _(
                "Weekly report %(week)s: %(state)s",
                week=_week_label(cell.week_start),
                state=state_text.get(cell.state, ""),
            )
            detail = None
        todos.append(
            HomeTodo(
                key=f"report:{cell.week_start.isoformat()}",
                text=text,
                href=href,
                due=due,
                overdue=cell.state == Completeness.MISSING,
                detail=detail,
            )
        )
    followups, n_open, n_overdue = _followup_todos(session, user, clock)
    todos += followups
    pending = (
        session.scalar(
            scoped(
                select(func.count(CallbackTask.id)).where(CallbackTask.status.in_(("pending", "no_answer"))),
                CallbackTask,
                user,
            )
        )
        or 0
    )
    if pending:
        todos.append(
            HomeTodo(
                key="callbacks",
                text=_("%(n)s customers wait for a callback", n=pending),
                href=url_for("collection.callbacks"),
            )
        )
    current = next((c for c in cells if c.week_start == this_week - timedelta(weeks=1)), None)
    return HomePanel(
        key="collector",
        title=_("My collection point: %(point)s", point=localized(point)),
        figures=[
            HomeFigure(_("Last week's report"), _label_of(current)),
            HomeFigure(
                _("Open follow-ups"),
                str(n_open),
                note=_("%(n)s overdue", n=n_overdue),
                trend=-1 if n_overdue else 0,
                href=url_for("surveys.followups"),
            ),
            HomeFigure(_("Callbacks waiting"), str(pending), href=url_for("collection.callbacks")),
        ],
        todos=todos,
    )


def _label_of(cell) -> str:  # type: ignore[no-untyped-def]
    if cell is None:
        return "—"
    return {
        Completeness.NOT_STARTED: _("not started"),
        Completeness.DRAFT: _("draft"),
        Completeness.SUBMITTED: _("submitted on time"),
        Completeness.LATE: _("submitted late"),
        Completeness.MISSING: _("missing"),
    }.get(cell.state, "—")


@home_panel(20)
def organiser_panel(session: Session, user: User, clock: Clock) -> HomePanel | None:
    if not can(Permission.ORGANISE_REPORTS, user) or not user.has_role(Role.ORGANISER):
        return None
    regions = region_scope(user)
    last_week = week_start(clock.today()) - timedelta(weeks=1)
    cells = completeness(
        session, last_week - timedelta(weeks=1), last_week, now=clock.now(), region_ids=regions
    )
    week = [c for c in cells if c.week_start == last_week]
    before = [c for c in cells if c.week_start < last_week]
    missing = [c for c in week if c.state == Completeness.MISSING]
    late = [c for c in week if c.state == Completeness.LATE]
    points = {
        p.id: p
        for p in session.scalars(
            select(CollectionPoint).where(CollectionPoint.id.in_({c.collection_point_id for c in missing}))
        )
    }
    waiting_stmt = (
        select(CollectionReport)
        .where(CollectionReport.status.in_((ReportStatus.SUBMITTED, ReportStatus.RESUBMITTED)))
        .order_by(CollectionReport.week_start, CollectionReport.id)
    )
    waiting = list(session.scalars(scoped(waiting_stmt, CollectionReport, user)))
    waiting_points = {
        p.id: p
        for p in session.scalars(
            select(CollectionPoint).where(CollectionPoint.id.in_({r.collection_point_id for r in waiting}))
        )
    }
    todos: list[HomeTodo] = []
    week_text = _week_label(last_week)
    for c in missing:
        point = localized(points[c.collection_point_id])
        todos.append(
            HomeTodo(
                key=f"missing:{c.collection_point_id}",
                text=_("%(point)s has not sent the report of %(week)s", point=point, week=week_text),
                href=url_for("collection.board"),
                due=_local_day(c.deadline, clock.timezone),
                overdue=True,
            )
        )
    for r in waiting[:10]:
        point = localized(waiting_points[r.collection_point_id])
        week_of = _week_label(r.week_start)
        todos.append(
            HomeTodo(
                key=f"accept:{r.id}",
                text=_("Accept or return the report of %(point)s for %(week)s", point=point, week=week_of),
                href=url_for("collection.report", report_id=r.id),
            )
        )
    done = sum(1 for c in week if c.state in DONE)
    done_before = sum(1 for c in before if c.state in DONE)
    share = 100 * done / len(week) if week else None
    share_before = 100 * done_before / len(before) if before else None
    change = None if share is None or share_before is None else share - share_before
    return HomePanel(
        key="organiser",
        title=_("Weekly reports of %(week)s", week=_week_label(last_week)),
        figures=[
            HomeFigure(
                _("Reports received"),
                "—" if share is None else f"{share:.0f}%",
                change=None if change is None else _("%(n)s pp against the week before", n=signed(change, 0)),
                trend=0 if not change else (1 if change > 0 else -1),
                href=url_for("collection.board"),
            ),
            HomeFigure(_("Missing"), str(len(missing)), trend=-1 if missing else 0),
            HomeFigure(_("Late"), str(len(late))),
            HomeFigure(_("Waiting to accept"), str(len(waiting))),
        ],
        todos=todos,
    )
