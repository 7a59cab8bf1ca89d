"""The home panels of the analysis phase (perception.core.home): for managers and analysts the
perception index, CSAT and NPS of the last four weeks against the four before, and the alerts
nobody has acknowledged yet (evidenced watermelons and standards missed several periods first);
for the market department the opportunities waiting for a first contact.

Figures come from the analysis services (perception.analysis.services.facts: the same measures
as the overview page), scoped to the user's regions.

The headline (the measures of the two four-week windows and the evidenced watermelons) takes about
a second at 1,000,000 tickets and 300,000 responses, and every manager's home asks for it on every
load. It is kept (perception.core.kept: in the process and in the database, for every worker), keyed
by the week, the regions and the version of the data it is made from: a write counter
(kpi.services.data_version.HOME_HEADLINE) that every transaction writing the facts, KPI values,
standards and their versions, KPI definitions, regions, services, tiers or customers bumps as it
commits, so a load reads one row (issue 19: the previous key scanned eight weeks of facts on every
load). The organisation-wide headline is computed ahead with the managers' other default views
(perception.analysis.kept_pages): kept in each process alone, as it first was, every worker's
first manager after a late callback or a KPI value waited 1.3 s for it at a national provider's
size. A ticket KPI, a standard or an answer of a past week changes the key,
so a kept headline is never older than the data; the transaction that wrote them sees them at once
too. An answer of the current week does not: the headline's weeks are complete ones, and at a
national provider's size, where answers come every few seconds, every home load computed it again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.analysis.models import AlertKind, AlertStatus, Opportunity, OpportunityStatus
from perception.analysis.services.alerts import alerts_for
from perception.analysis.services.facts import aggregate, csat_measure, nps_measure
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.kpi_experience import WatermelonCell, kpi_vs_experience, watermelon_cells
from perception.analysis.services.overview import OVERVIEW_KINDS
from perception.analysis.services.perception_index import index_by
from perception.core.authz import Permission, can, region_scope, scoped
from perception.core.clock import Clock
from perception.core.home import HomeFigure, HomePanel, HomeTodo, direction, home_panel, signed
from perception.core.i18n import is_zh
from perception.core.kept import Kept
from perception.core.models.auth import Role, User
from perception.core.periods import week_start
from perception.kpi.services.data_version import HOME_HEADLINE, read_version
from scoring.results import GroupMeasure

WEEKS = 4  # the headline compares the last four complete weeks with the four before
ALERT_ORDER = (
    AlertKind.NEW_WATERMELON,
    AlertKind.STANDARD_MISSED,
    AlertKind.EXPERIENCE_DROP,
    AlertKind.MISSING_REPORTS,
)


def _measures(
    session: Session, start: date, end: date, regions: frozenset[int] | None
) -> dict[str, GroupMeasure | None]:
    filters = AnalysisFilters(start=start, end=end, region_ids=regions)
    # Totals only (by=()): a row per kind from the sums over services, not one per region x service
    # x week; the index from the cells' sums and products when they are current, as the overview
    # reads it, not a row per respondent (issue 19; both give the figures of the facts).
    table = aggregate(session, filters, kinds=OVERVIEW_KINDS, by=())
    parts = table.rollup(()).get((), {})
    # The index of customers' own answers, respondents as n (services.perception_index).
    index = index_by(session, filters, use_rollup=True).get(())
    return {"csat": csat_measure(parts), "nps": nps_measure(parts), "index": index.measure if index else None}


def _figure(label: str, now: GroupMeasure | None, before: GroupMeasure | None, kind: str) -> HomeFigure:
    if now is None:
        return HomeFigure(label, "—", note=_("no answers in the last four weeks"))
    scale = 100.0 if kind == "csat" else 1.0
    value = (
        f"{now.estimate * scale:.0f}%"
        if kind == "csat"
        else (f"{now.estimate:+.0f}" if kind == "nps" else f"{now.estimate:.1f}")
    )
    counted = _("%(n)s respondents", n=now.n) if kind == "index" else _("%(n)s answers", n=now.n)
    note = counted + (" · " + _("few answers: an indication") if now.low_sample else "")
    if before is None:
        return HomeFigure(label, value, note=note)
    delta = (now.estimate - before.estimate) * scale
    unit = _("pp") if kind == "csat" else _("points")
    change = _("%(delta)s %(unit)s against the four weeks before", delta=signed(delta), unit=unit)
    return HomeFigure(label, value, change=change, trend=direction(round(delta, 1)), note=note)


KEPT_HEADLINES = 64  # per process: (week, regions) pairs, the newest data version of each


@dataclass(frozen=True)
class Headline:
    now: dict[str, GroupMeasure | None]
    before: dict[str, GroupMeasure | None]
    cells: tuple[WatermelonCell, ...]  # evidenced watermelons of the last four weeks


_kept: Kept[Headline] = Kept("analysis_home_headline", Headline, entries=KEPT_HEADLINES, own_writes=True)


def headline(session: Session, end: date, regions: frozenset[int] | None) -> Headline:
    """The two windows' measures and the evidenced watermelons of the four weeks before ``end``
    in ``regions`` (None: all), kept while the data is the same (module docstring)."""
    params = {"week": end, "regions": sorted(regions) if regions is not None else None}
    return _kept.get(
        session, params, read_version(session, HOME_HEADLINE), lambda: _computed(session, end, regions)
    )


def _computed(session: Session, end: date, regions: frozenset[int] | None) -> Headline:
    # The headline counts region x service cells evidenced on both sides under the multiplicity
    # rule, the definition the KPI-vs-experience page and the review use (watermelon_cells).
    window = AnalysisFilters(start=end - timedelta(weeks=WEEKS), end=end, region_ids=regions)
    return Headline(
        now=_measures(session, end - timedelta(weeks=WEEKS), end, regions),
        before=_measures(session, end - timedelta(weeks=2 * WEEKS), end - timedelta(weeks=WEEKS), regions),
        cells=tuple(watermelon_cells(kpi_vs_experience(session, window, over_time=False)).evidenced),
    )


@home_panel(30)
def analysis_panel(session: Session, user: User, clock: Clock) -> HomePanel | None:
    if not (user.has_role(Role.MANAGER) or user.has_role(Role.ANALYST)) or not can(
        Permission.VIEW_ANALYSIS, user
    ):
        return None
    regions = region_scope(user)
    end = week_start(clock.today())  # the current week is not complete yet
    found = headline(session, end, regions)
    now, before, cells = found.now, found.before, found.cells
    alerts = alerts_for(session, regions, status=AlertStatus.OPEN, limit=200)
    alerts.sort(key=lambda a: (ALERT_ORDER.index(a.kind) if a.kind in ALERT_ORDER else 9, -a.id))
    zh = is_zh()
    melon_note = (
        "、".join(f"{c.service_name_zh}·{c.region_name_zh}" for c in cells[:3])
        if zh
        else "; ".join(f"{c.service_name_en} in {c.region_name_en}" for c in cells[:3])
    ) or None
    missed = [a for a in alerts if a.kind == AlertKind.STANDARD_MISSED]
    todos = [
        HomeTodo(
            key=f"alert:{a.id}",
            text=a.message_zh if zh else a.message_en,
            href=a.evidence_url or url_for("analysis.alerts"),
            detail=_("raised on %(day)s, not acknowledged", day=clock.local(a.raised_at).date().isoformat()),
        )
        for a in alerts[:8]
    ]
    return HomePanel(
        key="analysis",
        title=_("Perception of the last four weeks"),
        figures=[
            _figure(_("Perception index (customers)"), now["index"], before["index"], "index"),
            _figure(_("CSAT (share satisfied)"), now["csat"], before["csat"], "csat"),
            _figure(_("NPS"), now["nps"], before["nps"], "nps"),
            HomeFigure(
                _("Evidenced watermelons"),
                str(len(cells)),
                trend=-1 if cells else 0,
                note=melon_note,
                href=url_for("analysis.kpi_vs_experience"),
            ),
            HomeFigure(_("Standards missed several periods"), str(len(missed)), trend=-1 if missed else 0),
            HomeFigure(_("Alerts not acknowledged"), str(len(alerts)), href=url_for("analysis.alerts")),
        ],
        todos=todos,
        links=[(_("Overview"), url_for("analysis.overview")), (_("Alerts"), url_for("analysis.alerts"))],
    )


@home_panel(40)
def market_panel(session: Session, user: User, clock: Clock) -> HomePanel | None:
    if not user.has_role(Role.MARKET):
        return None
    stmt = scoped(select(Opportunity), Opportunity, user).order_by(Opportunity.created_at)
    rows = list(session.scalars(stmt))
    month_ago = datetime.combine(clock.today() - timedelta(days=30), time())
    new = [o for o in rows if o.created_at is not None and o.created_at >= month_ago]
    waiting = [o for o in rows if o.status == OpportunityStatus.NEW]
    zh = is_zh()
    todos = [
        HomeTodo(
            key=f"opportunity:{o.id}",
            text=_("Contact the customers about: %(title)s", title=o.title),
            href=url_for("analysis.opportunities"),
            detail=(o.summary_zh if zh else o.summary_en) or None,
            due=None,
        )
        for o in waiting[:8]
    ]
    return HomePanel(
        key="market",
        title=_("Market opportunities"),
        figures=[
            HomeFigure(_("New in the last 30 days"), str(len(new))),
            HomeFigure(_("Waiting for a first contact"), str(len(waiting)), trend=-1 if waiting else 0),
            HomeFigure(
                _("Being followed up"),
                str(
                    sum(
                        1
                        for o in rows
                        if o.status in (OpportunityStatus.CONTACTED, OpportunityStatus.OPPORTUNITY)
                    )
                ),
            ),
        ],
        todos=todos,
        links=[(_("Market opportunities"), url_for("analysis.opportunities"))],
    )
