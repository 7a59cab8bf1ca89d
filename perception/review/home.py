"""The home panels of the review phase (perception.core.home): for the reviewer and the system
owner the state of the current review and what blocks its sign-off, and the standards waiting for
confirmation; for a customer representative the portal's summary (perception.review.services.portal)."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from perception.core.clock import Clock
from perception.core.home import HomeFigure, HomePanel, HomeTodo, home_panel
from perception.core.i18n import localized
from perception.core.models.auth import Role, User
from perception.review.models import Review, ReviewStatus
from perception.review.services import portal as review_portal
from perception.setup.models.standards import ServiceStandard, StandardVersion, VersionStatus
from perception.setup.services.confirm import bound_customers, confirmed_customers

SIGN_WITHIN_DAYS = 14  # the owner signs a review within two weeks of its period's end


def _waiting_standards(session: Session, user: User) -> list[HomeTodo]:
    stmt = (
        select(StandardVersion)
        .join(ServiceStandard, ServiceStandard.id == StandardVersion.standard_id)
        .where(StandardVersion.status.in_((VersionStatus.PROPOSED, VersionStatus.DRAFT)))
        .options(selectinload(StandardVersion.events))
        .order_by(ServiceStandard.code)
    )
    todos = []
    for v in session.scalars(stmt):
        href = url_for("setup.standard_detail", standard_id=v.standard_id)
        code = v.standard.code
        if v.status == VersionStatus.DRAFT:
            if user.has_role(Role.SYSTEM_OWNER):
                text = _("Propose standard %(code)s (draft v%(n)s) for confirmation", code=code, n=v.version)
                todos.append(HomeTodo(key=f"standard:{code}", text=text, href=href))
            continue
        missing = len(set(bound_customers(session, v.standard)) - confirmed_customers(v))
        waits = []
        if v.provider_confirmed_at is None:
            waits.append(_("the provider"))
        if missing:
            waits.append(_("%(n)s customers", n=missing))
        text = _(
            "Standard %(code)s v%(n)s waits for %(who)s", code=code, n=v.version, who=_(" and ").join(waits)
        )
        todos.append(HomeTodo(key=f"standard:{code}", text=text, href=href))
    return todos


@home_panel(50)
def review_panel(session: Session, user: User, clock: Clock) -> HomePanel | None:
    if not (user.has_role(Role.REVIEWER) or user.has_role(Role.SYSTEM_OWNER)):
        return None
    today = clock.today()
    reviews = list(session.scalars(select(Review).order_by(Review.period_start.desc()).limit(4)))
    todos: list[HomeTodo] = []
    figures: list[HomeFigure] = []
    current = next((r for r in reviews if r.period_start <= today < r.period_end), None)
    for r in reviews:
        if r.signed:
            continue
        href = url_for("review.review", review_id=r.id)
        label = localized(r, "label")
        last_day = r.period_end - timedelta(days=1)
        if today < r.period_end:
            if not r.findings:
                text = _("Write the findings of review %(label)s as the period runs", label=label)
                todos.append(HomeTodo(key=f"review:{r.code}", text=text, href=href, due=last_day))
            continue
        due = r.period_end + timedelta(days=SIGN_WITHIN_DAYS)
        if user.has_role(Role.SYSTEM_OWNER):
            text = _(
                "Sign review %(label)s: its period ended on %(day)s", label=label, day=last_day.isoformat()
            )
        else:
            text = _(
                "Prepare review %(label)s for sign-off: its period ended on %(day)s",
                label=label,
                day=last_day.isoformat(),
            )
        detail = _("No finding or decision recorded yet.") if not r.findings else None
        todos.append(
            HomeTodo(
                key=f"review:{r.code}", text=text, href=href, due=due, overdue=today > due, detail=detail
            )
        )
    if current is not None:
        days_left = (current.period_end - today).days
        figures.append(
            HomeFigure(
                _("Current review"),
                localized(current, "label"),
                note=_(
                    "open, %(n)s days until the period ends; %(f)s findings",
                    n=days_left,
                    f=len(current.findings),
                ),
                href=url_for("review.review", review_id=current.id),
            )
        )
    last_signed = next((r for r in reviews if r.status == ReviewStatus.SIGNED), None)
    if last_signed is not None:
        figures.append(
            HomeFigure(
                _("Last signed review"),
                localized(last_signed, "label"),
                note=_("%(n)s customers countersigned", n=len(last_signed.countersignatures)),
                href=url_for("review.review", review_id=last_signed.id),
            )
        )
    standards = _waiting_standards(session, user)
    figures.append(
        HomeFigure(
            _("Standards waiting for confirmation"), str(len(standards)), href=url_for("setup.standards")
        )
    )
    return HomePanel(
        key="review",
        title=_("Review and standards"),
        figures=figures,
        todos=todos + standards[:10],
        links=[
            (_("Reviews"), url_for("review.reviews")),
            (_("Improvement register"), url_for("review.register")),
        ],
    )


@home_panel(5)
def representative_panel(session: Session, user: User, clock: Clock) -> HomePanel | None:
    if not user.has_role(Role.CUSTOMER_REP) or user.customer_id is None:
        return None
    data = review_portal.portal(session, user.customer_id, today=clock.today())
    r = data.results
    todos = [
        HomeTodo(
            key=f"standard:{v.standard.code}",
            text=_("Confirm service standard %(code)s", code=v.standard.code),
            href=url_for("review.portal", _anchor="todo"),
        )
        for v in data.to_confirm
    ] + [
        HomeTodo(
            key=f"review:{review.code}",
            text=_("Countersign the review %(label)s", label=localized(review, "label")),
            href=url_for("review.review", review_id=review.id),
        )
        for review in data.reviews_to_countersign
    ]
    csat = "—" if r.csat is None else f"{r.csat.estimate * 100:.0f}%"
    nps = "—" if r.nps is None else f"{r.nps.estimate:+.0f}"
    return HomePanel(
        key="representative",
        title=_("Customer portal") + " · " + localized(data.customer),
        figures=[
            HomeFigure(
                _("CSAT (share satisfied)"), csat, note=_("%(n)s answers", n=r.csat.n if r.csat else 0)
            ),
            HomeFigure(_("NPS"), nps, note=_("%(n)s answers", n=r.nps.n if r.nps else 0)),
            HomeFigure(_("Open complaints"), str(r.open_complaints)),
        ],
        todos=todos,
        links=[(_("Customer portal"), url_for("review.portal"))],
    )
