"""The rating a comment came with, as the sentiment label it gives (so a new organisation has
sentiment before anyone labels a text), and the stratum the theme discovery keeps texts apart by.

A feedback entry of a weekly report carries a 1-5 rating; a survey or callback response carries
scored items (CSAT, rating, Likert, NPS) next to its free text. Each is matched to its comments by
(source, source_id). Each item scores -1, 0 or +1 as scoring.text.rating_sentiment reads it (the
lowest two points of a scale of five to ten points negative, the top two positive; on 0-10 (NPS)
0-6 negative, 9-10 positive; on three or four points the ends), over scales of three or more
points only: yes/no confirmations (0/1) say nothing about how a comment feels. The comment's
label is negative when the mean item score is <= -1/2, positive when >= 1/2, neutral between (a
single item: its own).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from perception.core.models.facts import ExperienceObservation as Obs
from perception.core.models.facts import TextEntry, TextKind

RATED_KINDS = ("csat", "rating", "likert", "nps")
COMMENT_KINDS = (TextKind.FEEDBACK, TextKind.SURVEY_COMMENT, TextKind.CALLBACK_COMMENT)
NEGATIVE_AT_MOST = -0.5
POSITIVE_AT_LEAST = 0.5


def item_score() -> Any:
    """-1 / 0 / +1 per scored item, in SQL, as scoring.text.rating_sentiment reads one rating."""
    span = Obs.scale_max - Obs.scale_min
    nps = span >= 10  # an eleven-point scale (NPS and the like)
    wide = span >= 4
    return case(
        (nps & (Obs.value <= Obs.scale_min + 6), -1.0),
        (nps & (Obs.value >= Obs.scale_max - 1), 1.0),
        (nps, 0.0),
        (wide & (Obs.value <= Obs.scale_min + 1), -1.0),
        (wide & (Obs.value >= Obs.scale_max - 1), 1.0),
        (wide, 0.0),
        (Obs.value <= Obs.scale_min, -1.0),
        (Obs.value >= Obs.scale_max, 1.0),
        else_=0.0,
    )


def band(score: float) -> str:
    if score <= NEGATIVE_AT_MOST:
        return "negative"
    if score >= POSITIVE_AT_LEAST:
        return "positive"
    return "neutral"


def comment_ratings(session: Session, entries: Iterable[tuple[int, str, int, str]]) -> dict[int, str]:
    """Entry id -> the sentiment its rating gives, for the comments among ``entries``
    ((id, source, source_id, kind) each) that came with a rating."""
    comments = [(i, s, sid) for i, s, sid, kind in entries if kind in COMMENT_KINDS]
    if not comments:
        return {}
    sources = sorted({s for _, s, _ in comments})
    ids = {sid for _, _, sid in comments}
    since = session.scalar(select(func.min(TextEntry.period_start)).where(TextEntry.kind.in_(COMMENT_KINDS)))
    span = Obs.scale_max - Obs.scale_min
    rows = session.execute(
        select(Obs.source, Obs.source_id, func.avg(item_score()))
        .where(
            Obs.source.in_(sources),
            Obs.kind.in_(RATED_KINDS),
            span >= 2,
            Obs.period_start >= (since or date.min),
        )
        .group_by(Obs.source, Obs.source_id)
    )
    scores = {(s, int(sid)): float(avg) for s, sid, avg in rows if int(sid) in ids and avg is not None}
    return {i: band(scores[(s, sid)]) for i, s, sid in comments if (s, sid) in scores}


#: Cosine-distance cut of the theme clustering per stratum. Comments (praise, complaints) are
#: phrased far more freely than requirements, which name concrete things: on the labelled set
#: (bench/bench_text_quality.py) requirements group best at 0.92, comments at 0.95; at 0.93 the
#: demo's report and backup-drill needs already merge over the one word 报告.
NEED_THRESHOLD = 0.92
VOICE_THRESHOLD = 0.95


def thresholds(strata: Iterable[str]) -> dict[str, float]:
    return {s: NEED_THRESHOLD if s.startswith("need:") else VOICE_THRESHOLD for s in set(strata)}


def stratum(kind: str, rating_band: str | None) -> str:
    """Requirements form themes among themselves; comments among comments of the same rating band."""
    family = "need" if kind == TextKind.REQUIREMENT else "voice"
    return f"{family}:{rating_band or '-'}"
