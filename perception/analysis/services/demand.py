"""Demand analysis of the themed texts: theme sizes and examples within the filters, common needs
(共性需求) and emerging needs, computed with set-based SQL over TextEntry.theme_key.

Public API (also used by the review phase):
``common_and_emerging_needs(session, period_start, period_end, region_ids=None) -> NeedsView`` and
``demand(session, filters) -> DemandView``.

Common need: a theme raised in the period by at least ``min_customers`` distinct customers in at
least ``min_regions`` distinct regions (settings). Emerging need: a theme whose share of the
period's entries grew against the previous period of equal length, one-sided Fisher exact test
per theme, Benjamini-Hochberg q <= alpha, at least ``emerging_min_entries`` entries
(scoring.text.growth_p_value, benjamini_hochberg).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from perception.analysis.models import TextAnalysisRun, TextTheme
from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.analysis.services.text_settings import get_settings
from perception.core.models.facts import TextEntry, TextKind
from scoring.results import to_jsonable
from scoring.text import benjamini_hochberg, growth_p_value

EXAMPLES = 3
#: Texts whose themes count as needs: the personalised requirements (个性化需求) customers raise.
NEED_KINDS: tuple[str, ...] = (TextKind.REQUIREMENT,)


@dataclass(frozen=True)
class CommonNeedRow:
    theme_key: str
    label: str
    n_entries: int
    n_customers: int
    n_regions: int
    region_ids: tuple[int, ...]
    customer_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class EmergingNeedRow:
    theme_key: str
    label: str
    count: int
    total: int
    previous_count: int
    previous_total: int
    share: float
    previous_share: float
    rate_ratio: float
    p_value: float
    q_value: float
    region_ids: tuple[int, ...]


@dataclass(frozen=True)
class NeedsView:
    period_start: date
    period_end: date
    min_customers: int
    min_regions: int
    common: tuple[CommonNeedRow, ...]
    emerging: tuple[EmergingNeedRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return dict(to_jsonable(self))


@dataclass(frozen=True)
class ThemeRow:
    key: str
    name: str | None
    label: str
    top_terms: tuple[str, ...]
    size_total: int  # entries of the theme in the last run (all regions)
    n_entries: int  # within the filters and the user's scope
    examples: tuple[tuple[int, str], ...]  # (entry id, text) the user may see
    n_previous: int = 0  # within the scope, in the previous period of equal length


@dataclass(frozen=True)
class DemandView:
    filters: AnalysisFilters
    last_run: TextAnalysisRun | None
    themes: tuple[ThemeRow, ...]
    needs: NeedsView
    n_entries: int
    n_unthemed: int

    def to_dict(self) -> dict[str, Any]:
        run = self.last_run
        return {
            "filters": self.filters.to_dict(),
            "last_run": None
            if run is None
            else {
                "id": run.id,
                "started_at": run.started_at.isoformat(),
                "status": run.status,
                "n_entries": run.n_entries,
                "n_themes": run.n_themes,
                "seconds": run.seconds,
            },
            "themes": to_jsonable(self.themes),
            "needs": self.needs.to_dict(),
            "n_entries": self.n_entries,
            "n_unthemed": self.n_unthemed,
        }


def theme_labels(session: Session, language: str = "zh") -> dict[str, str]:
    """Theme key -> its name, or its distinguishing words in ``language`` ("zh" or "en")."""
    return {t.key: t.label_in(language) for t in session.scalars(select(TextTheme))}


def _period_clauses(start: date, end: date, region_ids: frozenset[int] | None) -> list[Any]:
    clauses = [TextEntry.period_start >= start, TextEntry.period_start < end]
    if region_ids is not None:
        clauses.append(TextEntry.region_id.in_(sorted(region_ids)))
    return clauses


def _theme_regions(
    session: Session, clauses: list[Any], column: Any = TextEntry.region_id
) -> dict[str, tuple[int, ...]]:
    rows = session.execute(
        select(TextEntry.theme_key, column)
        .where(*clauses, TextEntry.theme_key.is_not(None), column.is_not(None))
        .group_by(TextEntry.theme_key, column)
    )
    out: dict[str, list[int]] = defaultdict(list)
    for key, region in rows:
        out[str(key)].append(region)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def common_and_emerging_needs(
    session: Session,
    period_start: date,
    period_end: date,
    region_ids: frozenset[int] | None = None,
    *,
    extra_where: list[Any] | None = None,
    kinds: tuple[str, ...] | None = NEED_KINDS,
    language: str = "zh",
) -> NeedsView:
    """Common and emerging needs of [period_start, period_end) within ``region_ids`` (None: all),
    counted over the texts of ``kinds`` (default: personalised requirements; None: every text)."""
    settings = get_settings(session)
    labels = theme_labels(session, language)
    extra_where = list(extra_where or [])
    if kinds is not None:
        extra_where.append(TextEntry.kind.in_(kinds))
    clauses = _period_clauses(period_start, period_end, region_ids) + extra_where
    rows = session.execute(
        select(
            TextEntry.theme_key,
            func.count(),
            func.count(distinct(TextEntry.customer_id)),
            func.count(distinct(TextEntry.region_id)),
        )
        .where(*clauses, TextEntry.theme_key.is_not(None))
        .group_by(TextEntry.theme_key)
    ).all()
    regions = _theme_regions(session, clauses)
    customers = _theme_regions(session, clauses, TextEntry.customer_id)
    common = sorted(
        (
            CommonNeedRow(
                str(key),
                labels.get(str(key), str(key)),
                int(n),
                int(c),
                int(r),
                regions.get(str(key), ()),
                customers.get(str(key), ()),
            )
            for key, n, c, r in rows
            if c >= settings.min_customers and r >= settings.min_regions
        ),
        key=lambda row: (-row.n_customers, -row.n_regions, -row.n_entries, row.theme_key),
    )
    span = period_end - period_start
    prev_clauses = _period_clauses(period_start - span, period_start, region_ids) + extra_where
    emerging = _emerging(
        session,
        clauses,
        prev_clauses,
        labels,
        regions,
        settings.emerging_alpha,
        settings.emerging_min_entries,
    )
    return NeedsView(
        period_start, period_end, settings.min_customers, settings.min_regions, tuple(common), tuple(emerging)
    )


def _theme_counts(clauses: list[Any]) -> Any:
    return (
        select(TextEntry.theme_key, func.count())
        .where(*clauses, TextEntry.theme_key.is_not(None))
        .group_by(TextEntry.theme_key)
    )


def _counts(session: Session, clauses: list[Any]) -> tuple[dict[str, int], int]:
    total = session.scalar(select(func.count()).where(*clauses)) or 0
    rows = session.execute(
        select(TextEntry.theme_key, func.count())
        .where(*clauses, TextEntry.theme_key.is_not(None))
        .group_by(TextEntry.theme_key)
    )
    return {str(k): int(n) for k, n in rows}, int(total)


def _emerging(
    session: Session,
    clauses: list[Any],
    prev_clauses: list[Any],
    labels: dict[str, str],
    regions: dict[str, tuple[int, ...]],
    alpha: float,
    min_entries: int,
) -> list[EmergingNeedRow]:
    now, n1 = _counts(session, clauses)
    before, n0 = _counts(session, prev_clauses)
    if n1 == 0 or n0 == 0:
        return []
    keys = sorted(set(now) | set(before))
    p_values = [growth_p_value(now.get(k, 0), n1, before.get(k, 0), n0, "fisher") for k in keys]
    q_values = benjamini_hochberg(p_values)
    out = []
    for key, p, q in zip(keys, p_values, q_values, strict=True):
        x1, x0 = now.get(key, 0), before.get(key, 0)
        share, prev = x1 / n1, x0 / n0
        ratio = share / prev if prev > 0 else math.inf
        if q <= alpha and ratio > 1 and x1 >= min_entries:
            out.append(
                EmergingNeedRow(
                    key, labels.get(key, key), x1, n1, x0, n0, share, prev, ratio, p, q, regions.get(key, ())
                )
            )
    return sorted(out, key=lambda row: (row.p_value, row.theme_key))


def _examples(
    session: Session, themes: list[TextTheme], clauses: list[Any]
) -> dict[str, tuple[tuple[int, str], ...]]:
    """Per theme key: the run's typical entries the user may see (in the run's order), topped up
    with the theme's other visible entries, newest first. Two queries for all the themes."""
    ranks = {t.key: {int(i): n for n, i in enumerate(t.example_ids or [])} for t in themes}
    wanted = sorted({i for rank in ranks.values() for i in rank})
    texts: dict[int, str] = {}
    if wanted:
        stmt = select(TextEntry.id, TextEntry.text).where(TextEntry.id.in_(wanted), *clauses)
        texts = {int(i): str(t) for i, t in session.execute(stmt)}
    picked = {
        key: sorted((i for i in rank if i in texts), key=rank.__getitem__) for key, rank in ranks.items()
    }
    found_by_key = {key: [(i, texts[i]) for i in ids] for key, ids in picked.items()}
    short = sorted(key for key, found in found_by_key.items() if len(found) < EXAMPLES)
    if short:
        # The EXAMPLES newest entries of each short theme: however many of them were already
        # picked, the rest tops the theme up to EXAMPLES.
        newest = func.row_number().over(partition_by=TextEntry.theme_key, order_by=TextEntry.id.desc())
        ranked = (
            select(TextEntry.id, TextEntry.text, TextEntry.theme_key, newest.label("n"))
            .where(TextEntry.theme_key.in_(short), *clauses)
            .subquery()
        )
        top = select(ranked.c.id, ranked.c.text, ranked.c.theme_key).where(ranked.c.n <= EXAMPLES)
        for i, text, key in session.execute(top.order_by(ranked.c.theme_key, ranked.c.n)):
            found = found_by_key[key]
            if len(found) < EXAMPLES and all(int(i) != p for p, _ in found):
                found.append((int(i), str(text)))
    return {key: tuple(found[:EXAMPLES]) for key, found in found_by_key.items()}


def demand(session: Session, filters: AnalysisFilters, language: str = "zh") -> DemandView:
    """Themes with their size and examples inside the filters, and the needs of the period."""
    clauses = where_facts(TextEntry, filters)
    scope_only = where_facts(TextEntry, filters, period=False)
    sizes = dict(
        session.execute(
            select(TextEntry.theme_key, func.count())
            .where(*clauses, TextEntry.theme_key.is_not(None))
            .group_by(TextEntry.theme_key)
        ).all()
    )
    total = session.scalar(select(func.count()).where(*clauses)) or 0
    span = filters.end - filters.start
    previous = dict(
        session.execute(
            select(TextEntry.theme_key, func.count())
            .where(
                *scope_only,
                TextEntry.period_start >= filters.start - span,
                TextEntry.period_start < filters.start,
                TextEntry.theme_key.is_not(None),
            )
            .group_by(TextEntry.theme_key)
        ).all()
    )
    stored = list(session.scalars(select(TextTheme).order_by(TextTheme.size.desc(), TextTheme.key)))
    examples = _examples(session, stored, scope_only)
    themes = []
    for t in stored:
        themes.append(
            ThemeRow(
                key=t.key,
                name=t.name,
                label=t.label_in(language),
                top_terms=tuple(
                    (t.top_terms_en if language.startswith("en") and t.top_terms_en else t.top_terms)[:10]
                ),
                size_total=t.size,
                n_entries=int(sizes.get(t.key, 0)),
                examples=examples[t.key],
                n_previous=int(previous.get(t.key, 0)),
            )
        )
    needs = common_and_emerging_needs(
        session, filters.start, filters.end, None, extra_where=scope_only, language=language
    )
    last_run = session.scalar(select(TextAnalysisRun).order_by(TextAnalysisRun.id.desc()).limit(1))
    return DemandView(
        filters=filters,
        last_run=last_run,
        themes=tuple(themes),
        needs=needs,
        n_entries=int(total),
        n_unthemed=int(total) - int(sum(sizes.values())),
    )
