"""Market opportunities: common and emerging needs sent to the market-expansion department
(市场拓展部门), who follow them up with the customers (status new -> contacted -> opportunity ->
closed, with an owner). The market role sees its queue: what it owns and what nobody owns yet.

Public API (also used by the review phase):
``opportunities(session, *, region_ids=None, status=None, owner_id=None, queue_for=None)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from perception.analysis.models import (
    Opportunity,
    OpportunityKind,
    OpportunityRegion,
    OpportunityStatus,
    TextTheme,
)
from perception.analysis.services.demand import (
    NEED_KINDS,
    CommonNeedRow,
    EmergingNeedRow,
    common_and_emerging_needs,
)
from perception.analysis.services.text_settings import TextAnalysisError
from perception.core.models.auth import Role, User, UserRole
from perception.core.models.facts import TextEntry
from perception.core.webhooks import emit


def market_users(session: Session) -> list[User]:
    """People who may own an opportunity: active users with the market role."""
    stmt = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.MARKET.value, User.active.is_(True))
        .order_by(User.username)
    )
    return list(session.scalars(stmt).unique())


def _check_owner(session: Session, owner_id: int | None) -> None:
    if owner_id is not None and owner_id not in {u.id for u in market_users(session)}:
        raise TextAnalysisError.one(
            "owner_id",
            "负责人必须是市场拓展人员",
            "the owner must be a market-expansion user",
            code="not_market_user",
        )


def need_summary(
    kind: str, row: CommonNeedRow | EmergingNeedRow, label_en: str | None = None
) -> tuple[str, str]:
    """Bilingual one-line summary of the need behind an opportunity (``label_en``: the theme's
    label in English, where it differs from the Chinese one)."""
    en = label_en or row.label
    if isinstance(row, CommonNeedRow):
        return (
            f"共性需求「{row.label}」：{row.n_customers} 个客户在 {row.n_regions} 个地区提出，"
            f"共 {row.n_entries} 条。",
            f"Common need '{en}': raised by {row.n_customers} customers in {row.n_regions} regions "
            f"({row.n_entries} entries).",
        )
    before, now = 100 * row.previous_share, 100 * row.share
    return (
        f"新兴需求「{row.label}」：占比由 {before:.1f}% 升至 {now:.1f}%（q = {row.q_value:.3f}）。",
        f"Emerging need '{en}': share rose from {before:.1f}% to {now:.1f}% (q = {row.q_value:.3f}).",
    )


def create_from_need(
    session: Session,
    *,
    kind: str,
    theme_key: str,
    period_start: date,
    period_end: date,
    region_ids: frozenset[int] | None,
    created_by_id: int | None,
    owner_id: int | None = None,
) -> Opportunity:
    """Send the common or emerging need of ``theme_key`` in the period to the market department.

    The need is recomputed inside the caller's region scope, so nobody can send (or learn of) a
    need from regions they may not see; a theme that is not a need in the period is refused.
    """
    if kind not in (OpportunityKind.COMMON, OpportunityKind.EMERGING):
        raise TextAnalysisError.one(
            "kind", "类型必须是共性需求或新兴需求", "kind must be common or emerging", code="invalid_kind"
        )
    theme = session.scalar(select(TextTheme).where(TextTheme.key == theme_key))
    if theme is None:
        raise TextAnalysisError.one(
            "theme_key",
            f"没有主题 {theme_key}",
            f"no theme {theme_key!r}",
            code="unknown_theme",
            value=theme_key[:80],
        )
    _check_owner(session, owner_id)
    needs = common_and_emerging_needs(session, period_start, period_end, region_ids)
    rows: Iterable[CommonNeedRow | EmergingNeedRow] = (
        needs.common if kind == OpportunityKind.COMMON else needs.emerging
    )
    row = next((r for r in rows if r.theme_key == theme_key), None)
    if row is None:
        raise TextAnalysisError.one(
            "theme_key",
            "该主题在此期间不是共性需求或新兴需求",
            "this theme is not a common or emerging need in the period",
            code="not_a_need",
        )
    zh, en = need_summary(kind, row, theme.label_in("en"))
    n_entries = row.n_entries if isinstance(row, CommonNeedRow) else row.count
    n_customers = row.n_customers if isinstance(row, CommonNeedRow) else 0
    opp = Opportunity(
        kind=kind,
        theme_key=theme_key,
        title=row.label[:200],
        summary_zh=zh,
        summary_en=en,
        period_start=period_start,
        period_end=period_end,
        n_entries=n_entries,
        n_customers=n_customers,
        status=OpportunityStatus.NEW,
        owner_id=owner_id,
        created_by_id=created_by_id,
    )
    opp.regions = [OpportunityRegion(region_id=r) for r in row.region_ids]
    opp.entry_refs = _need_texts(session, theme_key, period_start, period_end, region_ids)
    session.add(opp)
    session.flush()
    event = {"opportunity_id": opp.id, "kind": kind, "title": opp.title, "region_ids": list(row.region_ids)}
    emit(session, "opportunity.handed_over", {**event, "n_entries": n_entries, "n_customers": n_customers})
    return opp


def _need_texts(
    session: Session, theme_key: str, start: date, end: date, region_ids: frozenset[int] | None
) -> list[list[Any]]:
    """The (source, source_id) of the texts behind the need, kept with the opportunity."""
    stmt = select(TextEntry.source, TextEntry.source_id).where(
        TextEntry.theme_key == theme_key,
        TextEntry.period_start >= start,
        TextEntry.period_start < end,
        TextEntry.kind.in_(NEED_KINDS),
    )
    if region_ids is not None:
        stmt = stmt.where(TextEntry.region_id.in_(sorted(region_ids)))
    return [[source, int(source_id)] for source, source_id in session.execute(stmt.order_by(TextEntry.id))]


@dataclass(frozen=True)
class OpportunityUpdate:
    status: str | None = None
    owner_id: int | None = None
    clear_owner: bool = False
    notes: str | None = None


def update_opportunity(session: Session, opp: Opportunity, change: OpportunityUpdate) -> Opportunity:
    if change.status is not None:
        if change.status not in tuple(OpportunityStatus):
            raise TextAnalysisError.one(
                "status",
                f"未知状态“{change.status}”",
                f"unknown status {change.status!r}",
                code="unknown_status",
            )
        opp.status = change.status
    if change.clear_owner:
        opp.owner_id = None
    elif change.owner_id is not None:
        _check_owner(session, change.owner_id)
        opp.owner_id = change.owner_id
    if change.notes is not None:
        if len(change.notes) > 10_000:
            raise TextAnalysisError.one(
                "notes", "最多 10000 个字符", "at most 10,000 characters", code="too_long"
            )
        opp.notes = change.notes
    session.flush()
    return opp


def opportunities(
    session: Session,
    *,
    region_ids: frozenset[int] | None = None,
    status: str | None = None,
    owner_id: int | None = None,
    queue_for: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[Opportunity]:
    """Opportunities visible in ``region_ids`` (None: all), newest first. ``queue_for``: the
    user's queue (owned by them or by nobody, and not closed)."""
    stmt = select(Opportunity).options(selectinload(Opportunity.regions)).order_by(Opportunity.id.desc())
    if region_ids is not None:
        stmt = stmt.where(Opportunity.region_clause(region_ids))
    if status is not None:
        stmt = stmt.where(Opportunity.status == status)
    if owner_id is not None:
        stmt = stmt.where(Opportunity.owner_id == owner_id)
    if queue_for is not None:
        stmt = stmt.where(
            or_(Opportunity.owner_id == queue_for, Opportunity.owner_id.is_(None)),
            Opportunity.status != OpportunityStatus.CLOSED,
        )
    if since is not None:
        stmt = stmt.where(Opportunity.created_at >= since)
    if until is not None:
        stmt = stmt.where(Opportunity.created_at < until)
    return list(session.scalars(stmt))


__all__ = [
    "OpportunityUpdate",
    "create_from_need",
    "market_users",
    "need_summary",
    "opportunities",
    "update_opportunity",
]


def titles_in(session: Session, opportunities: Iterable[Opportunity], language: str) -> dict[int, str]:
    """Each opportunity's title in the reader's language. The title is the theme's Chinese label
    when the need was sent; an English reader sees the English part of a bilingual name, else the
    theme's English label words (its concept-dictionary words) while the theme exists; a title
    with no English words anywhere stays as written."""
    import re

    from scoring.text.themes import name_in

    han = re.compile(r"[\u3400-\u9fff]")
    opps = list(opportunities)
    keys = {o.theme_key for o in opps if o.theme_key}
    themes = (
        {t.key: t for t in session.scalars(select(TextTheme).where(TextTheme.key.in_(keys)))} if keys else {}
    )
    out = {}
    for o in opps:
        title = name_in(o.title, language) or o.title
        theme = themes.get(o.theme_key or "")
        if language.startswith("en") and han.search(title) and theme is not None:
            english = theme.label_in("en")
            title = english if not han.search(english) else title
        out[o.id] = title
    return out
