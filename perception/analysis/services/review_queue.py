"""The review queue: model predictions below the confidence threshold, duplicates grouped so a
sentence repeated forty times is one row, the least certain first, labelled in bulk.

Texts are the same for the queue when they are equal after Unicode normalisation, lower casing and
dropping punctuation and spaces ("工程师到场及时。" and "工程师到场及时！"). A group's confidence is
its least confident member's. Labelling a group stores one TextLabel per entry (each is training
data and keeps its own source), within the entries the caller may see.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.analysis.models import LabelSource, TextLabel
from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.analysis.services.text_labels import label_entry
from perception.analysis.services.text_settings import TextAnalysisError, get_settings
from perception.core.models.facts import TextEntry
from scoring.text import normalise_text

MAX_GROUP_IDS = 500  # entries one bulk label may change at once (the form carries their ids)


@dataclass(frozen=True)
class ReviewGroup:
    text: str
    entry_ids: tuple[int, ...]
    category: str | None
    sentiment: str | None
    confidence: float

    @property
    def size(self) -> int:
        return len(self.entry_ids)


def duplicate_key(text: str) -> str:
    return re.sub(r"[\W_]+", "", normalise_text(text))


def review_groups(session: Session, filters: AnalysisFilters) -> list[ReviewGroup]:
    """Every group of the queue inside the filters, least confident first."""
    threshold = get_settings(session).review_threshold
    rows = session.execute(
        select(TextEntry.id, TextEntry.text, TextEntry.category, TextEntry.sentiment, TextEntry.confidence)
        .where(
            *where_facts(TextEntry, filters),
            TextEntry.label_source == LabelSource.MODEL,
            TextEntry.confidence < threshold,
        )
        .order_by(TextEntry.confidence, TextEntry.id)
    )
    groups: dict[str, list[tuple[int, str, str | None, str | None, float]]] = {}
    for entry_id, text, category, sentiment, confidence in rows:
        groups.setdefault(duplicate_key(text), []).append(
            (entry_id, text, category, sentiment, confidence or 0.0)
        )
    out = [
        ReviewGroup(
            text=members[0][1],
            entry_ids=tuple(m[0] for m in members[:MAX_GROUP_IDS]),
            category=members[0][2],
            sentiment=members[0][3],
            confidence=float(members[0][4]),
        )
        for members in groups.values()
    ]
    return sorted(out, key=lambda g: (g.confidence, -g.size, g.entry_ids[0]))


def label_entries(
    session: Session,
    entry_ids: Sequence[int],
    *,
    category: str | None,
    sentiment: str | None,
    user_id: int | None,
    region_ids: frozenset[int] | None,
) -> list[TextLabel]:
    """Give every entry of ``entry_ids`` the same label (those outside ``region_ids`` are refused)."""
    ids = sorted({int(i) for i in entry_ids})
    if not ids or len(ids) > MAX_GROUP_IDS:
        raise TextAnalysisError.one(
            "entry_ids",
            f"请选择 1 到 {MAX_GROUP_IDS} 条文本",
            f"choose between 1 and {MAX_GROUP_IDS} texts",
            code="out_of_range",
        )
    stmt = select(TextEntry).where(TextEntry.id.in_(ids))
    if region_ids is not None:
        stmt = stmt.where(TextEntry.region_id.in_(sorted(region_ids)))
    entries = list(session.scalars(stmt.order_by(TextEntry.id)))
    if len(entries) != len(ids):
        raise TextAnalysisError.one(
            "entry_ids",
            "部分文本不存在或不在您的范围内",
            "some texts do not exist or are outside your regions",
            code="unknown_entry",
        )
    return [label_entry(session, e, category=category, sentiment=sentiment, user_id=user_id) for e in entries]
