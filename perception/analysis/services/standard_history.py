"""Feasibility of a proposed experience standard (XLA): the rule replayed on the experience history
it speaks of, registered with the setup phase as a measured-history provider.

"90% of the desk's customers satisfied" is replayed on the CSAT answers about that service (its
customer's or tier's only where the standard names one), per period of the standard's window (a day
window replays per week), over the complete periods of the last half year (a year for quarters):
the share of 4-5 answers (top-2 box of the answer's own scale), the mean (CSAT, CES or the named
dimension's ratings) or the NPS, with each period's n. Nothing answered: no history (never feasible).
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.analysis.services.facts import DIMENSION_KINDS
from perception.core.models.base import utcnow
from perception.core.models.facts import ExperienceObservation as Obs
from perception.kpi.services.feasibility import replay_bounds
from perception.kpi.services.ticket_time import period_starts
from perception.setup.models.standards import StandardVersion
from perception.setup.services.standards import ReplayScope, register_history_provider
from scoring import FEEDBACK_DIMENSIONS
from scoring.feasibility import ReplayedHistory, period_values

#: metric -> (observation kinds, measure, zh name, en name)
EXPERIENCE_REPLAY = {
    "csat_share": (("csat",), "top2", "满意（4-5 分）比例", "share of satisfied (top-2) answers"),
    "csat_mean": (("csat",), "mean", "CSAT 平均分", "mean CSAT"),
    "nps": (("nps",), "nps", "NPS", "NPS"),
    "ces_mean": (("ces",), "mean", "CES 平均分", "mean CES"),
    "dimension_rating_mean": (DIMENSION_KINDS, "mean", "维度平均评分", "mean rating of the dimension"),
}
_WINDOW = {"day": "week", "week": "week", "month": "month", "quarter": "quarter"}
_PER = {"week": ("按周", "per week"), "month": ("按月", "per month"), "quarter": ("按季度", "per quarter")}


def replay_experience(
    session: Session, version: StandardVersion, scope: ReplayScope | None = None
) -> ReplayedHistory | None:
    """The experience rule replayed on its answers (module docstring) over the periods of ``scope``
    (kpi_feasibility.replay_bounds); None for another metric."""
    if version.metric not in EXPERIENCE_REPLAY or version.target is None or not version.comparator:
        return None
    kinds, measure, name_zh, name_en = EXPERIENCE_REPLAY[version.metric]
    standard = version.standard
    granularity = _WINDOW.get(version.window or "", "week")
    start, end = replay_bounds(granularity, scope, utcnow().date())
    stmt = select(Obs.observed_on, Obs.value, Obs.scale_max).where(
        Obs.kind.in_(kinds),
        Obs.service_id == standard.service_id,
        Obs.observed_on >= start,
        Obs.observed_on < end,
    )
    zh, en = [f"{standard.service.code} 的客户回答"], [f"the answers about {standard.service.code}"]
    if version.metric == "dimension_rating_mean":
        stmt = stmt.where(Obs.dimension == version.dimension)
        # The dimension's name, never its code: the review shows this text (issue 17, words not codes).
        dim_zh, dim_en = next(
            ((z, e) for c, z, e in FEEDBACK_DIMENSIONS if c == version.dimension),
            (str(version.dimension), str(version.dimension)),
        )
        zh.append(dim_zh)
        en.append(dim_en)
    if standard.tier_id is not None:
        stmt = stmt.where(Obs.tier_id == standard.tier_id)
        zh.append(f"等级 {standard.tier.code}" if standard.tier else "")
        en.append(f"tier {standard.tier.code}" if standard.tier else "")
    if standard.customer_id is not None:
        stmt = stmt.where(Obs.customer_id == standard.customer_id)
        zh.append(f"客户 {standard.customer.code}" if standard.customer else "")
        en.append(f"customer {standard.customer.code}" if standard.customer else "")
    if scope is not None and scope.customer_id is not None and scope.customer_id != standard.customer_id:
        stmt = stmt.where(Obs.customer_id == scope.customer_id)  # one customer's view: its own answers
        zh.append("贵单位")
        en.append("your organisation's")
    rows = session.execute(stmt).all()
    days = np.array([r[0] for r in rows], dtype="datetime64[D]")
    values = np.array([r[1] for r in rows], dtype=float)
    top = np.array([r[2] for r in rows], dtype=float) - 2.0
    labels_days, codes = np.unique(period_starts(days, granularity), return_inverse=True)
    labels = [str(d) for d in labels_days.astype("datetime64[D]").tolist()]
    target = float(version.target)
    percent = measure == "top2" and (target > 1.0 or (version.unit or "") in ("%", "％", "percent"))
    scale = 100.0 if percent else 1.0
    if measure == "top2":
        numerator = values > top
    elif measure == "nps":
        numerator = (values >= 9).astype(float) - (values <= 6).astype(float)
        scale = 100.0
    else:
        numerator = values
    per_zh, per_en = _PER[granularity]
    what_zh = zh[0] + (f"（{'，'.join(zh[1:])}）" if len(zh) > 1 else "") + f"，{per_zh}统计{name_zh}"
    what_en = en[0] + (f" ({', '.join(en[1:])})" if len(en) > 1 else "") + f", the {name_en} {per_en}"
    return ReplayedHistory(
        what_zh=what_zh,
        what_en=what_en,
        periods=period_values(codes, labels, numerator, np.ones(len(rows), dtype=bool), scale=scale),
        target=target,
        comparator=version.comparator,
        unit="%" if percent else "",
    )


@register_history_provider
def replayed_experience(
    session: Session, version: StandardVersion, scope: ReplayScope | None = None
) -> ReplayedHistory | None:
    return replay_experience(session, version, scope)
