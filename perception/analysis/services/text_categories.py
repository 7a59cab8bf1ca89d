"""Categories out of the box: the built-in categories in the organisation's list, and the
category each text carries before anyone labels it (scoring.text.categories reads it).

What is known about a text: the feedback dimension of the field it was written in
(``TextEntry.dimension``: a weekly report's feedback entry, a survey question tagged with a
dimension); for a comment without one, the dimension its response rated low, when exactly one
dimension was rated low (the lowest two points of a scale of five or more, as
``text_ratings`` reads a rating); and for every text the seed words of one category.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.analysis.models import TextCategory
from perception.analysis.services.text_ratings import COMMENT_KINDS, RATED_KINDS, item_score
from perception.core.models.facts import ExperienceObservation as Obs
from perception.core.models.facts import TextKind
from scoring.text.categories import (
    NEED,
    VOICE,
    Category,
    DerivedLabel,
    SeedBlanker,
    default_categories,
    derived_category,
)


def ensure_builtin_categories(session: Session) -> int:
    """Add the built-in categories the organisation's list lacks (one a person retired stays
    retired: only missing codes are added). Returns how many were added."""
    have = set(session.scalars(select(TextCategory.code)))
    added = 0
    for category in default_categories():
        if category.code not in have:
            session.add(TextCategory(code=category.code, name_zh=category.name_zh, name_en=category.name_en))
            added += 1
    if added:
        session.flush()
    return added


def low_dimensions(session: Session, responses: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """(source, source id) -> the one feedback dimension its response rated low."""
    wanted = set(responses)
    if not wanted:
        return {}
    sources = sorted({s for s, _ in wanted})
    rows = session.execute(
        select(Obs.source, Obs.source_id, Obs.dimension)
        .where(
            Obs.source.in_(sources),
            Obs.kind.in_(RATED_KINDS),
            Obs.dimension.is_not(None),
            Obs.scale_max - Obs.scale_min >= 2,
            item_score() < 0,
        )
        .group_by(Obs.source, Obs.source_id, Obs.dimension)
    )
    found: dict[tuple[str, int], set[str]] = defaultdict(set)
    for source, source_id, dimension in rows:
        key = (str(source), int(source_id))
        if key in wanted:
            found[key].add(str(dimension))
    return {key: next(iter(dims)) for key, dims in found.items() if len(dims) == 1}


def active_builtin(session: Session) -> list[Category]:
    active = set(session.scalars(select(TextCategory.code).where(TextCategory.active.is_(True))))
    return [c for c in default_categories() if c.code in active]


def seed_blanker(session: Session) -> SeedBlanker:
    """The category model is scored on texts with the active seed words blanked out: its figures
    then say how it reads wordings no seed word names, not how well it re-finds the seeds."""
    return SeedBlanker(active_builtin(session))


def derived_categories(
    session: Session, entries: Iterable[tuple[int, str, int, str, str | None, str]]
) -> dict[int, DerivedLabel]:
    """Entry id -> the category it carries before anyone labels it, for ``entries`` given as
    (id, source, source id, kind, dimension, text); entries with none are left out. Only active
    categories are derived: an organisation that retires the built-in ones learns its own only."""
    rows = list(entries)
    unrated = [(s, sid) for _, s, sid, kind, dim, _ in rows if kind in COMMENT_KINDS and dim is None]
    low = low_dimensions(session, unrated)
    categories = active_builtin(session)
    out = {}
    # The seed words are searched once per distinct text and family (a third of a window's texts
    # repeat another's; the searches were a tenth of a full run).
    seeded: dict[tuple[str, str], DerivedLabel | None] = {}
    for entry_id, source, source_id, kind, dimension, text in rows:
        family = NEED if kind == TextKind.REQUIREMENT else VOICE
        low_dimension = low.get((source, source_id))
        if family == VOICE and (dimension is not None or low_dimension is not None):
            label = derived_category(
                text, family, field_dimension=dimension, low_dimension=low_dimension, categories=categories
            )
        else:  # what derived_category gives without a field or rated dimension: the seed words'
            key = (text, family)
            if key not in seeded:
                seeded[key] = derived_category(text, family, categories=categories)
            label = seeded[key]
        if label is not None:
            out[entry_id] = label
    return out
