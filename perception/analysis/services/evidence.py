"""Drill-down: the responses and comments behind any number on the analysis pages.

Every figure links here with the same filters (period, region, service, tier, customer, always
within the user's region scope) plus what the figure counts (``kind``: csat, nps, rating, ...;
``dimension``). The page lists the observations newest first, each with the comments written in
the same response or report entry, and the texts matching the filters.

A link about texts (a theme's texts, a need's texts: ``theme_key``, ``text_kind``) lists exactly
those texts and no rating rows. "Low ratings" are the lowest points of the scale that was asked
(the bottom two of five or more points, the bottom one of three or four, NPS 0-6); yes/no
confirmations (0/1 scales, as sampling comparison records them) are never low ratings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, false, func, or_, select, tuple_
from sqlalchemy.orm import Session

from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.core.models.facts import ExperienceObservation as Obs
from perception.core.models.facts import TextEntry

PAGE = 50
KINDS = (
    "csat",
    "nps",
    "ces",
    "rating",
    "likert",
    "servqual_perception",
    "servqual_expectation",
    "importance",
)


@dataclass(frozen=True)
class EvidenceRow:
    source: str
    source_id: int
    observed_on: date
    region_id: int
    service_id: int | None
    customer_id: int | None
    kind: str
    dimension: str | None
    item: str | None
    value: float
    scale_max: float
    comments: tuple[str, ...]


@dataclass(frozen=True)
class CommentRow:
    id: int
    source: str
    source_id: int
    kind: str
    observed_on: date
    region_id: int
    customer_id: int | None
    dimension: str | None
    text: str
    theme_key: str | None
    category: str | None
    sentiment: str | None


@dataclass(frozen=True)
class Evidence:
    filters: AnalysisFilters
    kind: str | None
    dimension: str | None
    low_only: bool
    total: int
    page: int
    rows: tuple[EvidenceRow, ...]
    comments: tuple[CommentRow, ...]
    comments_total: int
    about_texts: bool = False  # a link about texts: no answers table, the texts first
    theme_key: str | None = None
    text_kind: str | None = None


def low_rating_clause() -> Any:
    """The answers that pull a figure down: the lowest points of the scale that was asked.

    Five or more points (1-5, 1-7): the bottom two; three or four points: the bottom one; NPS
    (0-10): detractors 0-6. A scale of fewer than three points is a yes/no confirmation: never low.
    """
    span = Obs.scale_max - Obs.scale_min
    return or_(
        and_(Obs.kind == "nps", Obs.value <= Obs.scale_min + 6),
        and_(Obs.kind != "nps", span >= 4, Obs.value <= Obs.scale_min + 1),
        and_(Obs.kind != "nps", span >= 2, span < 4, Obs.value <= Obs.scale_min),
    )


def evidence(
    session: Session,
    filters: AnalysisFilters,
    *,
    kind: str | None = None,
    dimension: str | None = None,
    low_only: bool = False,
    theme_key: str | None = None,
    text_kind: str | None = None,
    text_refs: Sequence[Sequence[Any]] | None = None,
    page: int = 1,
) -> Evidence:
    """One page of the observations (and the comments) behind a figure, inside the filters.

    ``text_refs`` ((source, source_id) pairs, e.g. an opportunity's texts) lists exactly those
    texts, whatever theme they carry now."""
    about_texts = bool(theme_key or text_kind) or text_refs is not None
    kind = kind if kind in KINDS else None
    page = max(page, 1)
    where = where_facts(Obs, filters)
    if kind is not None:
        where.append(Obs.kind == kind)
    if dimension:
        where.append(Obs.dimension == dimension)
    if low_only:
        where.append(low_rating_clause())
    total = 0 if about_texts else session.scalar(select(func.count()).where(*where)) or 0
    obs = (
        []
        if about_texts
        else session.execute(
            select(
                Obs.source,
                Obs.source_id,
                Obs.observed_on,
                Obs.region_id,
                Obs.service_id,
                Obs.customer_id,
                Obs.kind,
                Obs.dimension,
                Obs.item,
                Obs.value,
                Obs.scale_max,
            )
            .where(*where)
            .order_by(Obs.observed_on.desc(), Obs.id.desc())
            .limit(PAGE)
            .offset((page - 1) * PAGE)
        ).all()
    )
    keys = {(o.source, o.source_id) for o in obs}
    said: dict[tuple[str, int], list[str]] = {}
    if keys:
        for source, sid, text in session.execute(
            select(TextEntry.source, TextEntry.source_id, TextEntry.text)
            .where(tuple_(TextEntry.source, TextEntry.source_id).in_(sorted(keys)))
            .order_by(TextEntry.id)
        ):
            said.setdefault((source, sid), []).append(text)
    rows = tuple(EvidenceRow(*o, comments=tuple(said.get((o.source, o.source_id), ()))) for o in obs)
    text_where = where_facts(TextEntry, filters)
    if dimension:
        text_where.append(TextEntry.dimension == dimension)
    if theme_key:
        text_where.append(TextEntry.theme_key == theme_key)
    if text_kind:
        text_where.append(TextEntry.kind == text_kind)
    if text_refs is not None:
        pairs = sorted({(str(source), int(sid)) for source, sid in text_refs})
        text_where.append(tuple_(TextEntry.source, TextEntry.source_id).in_(pairs) if pairs else false())
    comments_total = session.scalar(select(func.count()).where(*text_where)) or 0
    comments = tuple(
        CommentRow(*c)  # type: ignore[call-arg]
        for c in session.execute(
            select(
                TextEntry.id,
                TextEntry.source,
                TextEntry.source_id,
                TextEntry.kind,
                TextEntry.observed_on,
                TextEntry.region_id,
                TextEntry.customer_id,
                TextEntry.dimension,
                TextEntry.text,
                TextEntry.theme_key,
                TextEntry.category,
                TextEntry.sentiment,
            )
            .where(*text_where)
            .order_by(TextEntry.observed_on.desc(), TextEntry.id.desc())
            .limit(PAGE)
            .offset((page - 1) * PAGE)
        )
    )
    return Evidence(
        filters,
        kind,
        dimension,
        low_only,
        int(total),
        page,
        rows,
        comments,
        int(comments_total),
        about_texts,
        theme_key,
        text_kind,
    )
