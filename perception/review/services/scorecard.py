"""The review's headline scorecard: CSAT, NPS and the perception index of the period beside the
previous period, with their n, and their month-by-month trend, for the report's executive page.

A director reads the executive page first; three findings on a two-thirds empty page did not
say how the period went. The figures come from the analysis phase's overview (the same numbers
as the overview page, over the review period's complete weeks); the change is stated only as a
difference of the two estimates, and a figure resting on a low sample says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perception.review.services.blocks import chart, column, t, table
from perception.review.services.section_kpi import previous_bounds
from perception.review.services.sections import SectionContext, monday_on_or_after

MEASURES = (
    ("csat", t("满意度（CSAT）", "CSAT"), "pct"),
    ("nps", t("净推荐值（NPS）", "NPS"), "num1"),
    ("index", t("感知指数", "Perception index"), "num1"),
)


@dataclass(frozen=True)
class _Totals:
    total: Any
    trend: Any


def _totals(ctx: SectionContext, start: Any, end: Any, grain: str) -> _Totals:
    from perception.analysis.services.filters import AnalysisFilters
    from perception.analysis.services.overview import headline

    return _Totals(*headline(ctx.session, AnalysisFilters(start=start, end=end, grain=grain)))


def _value(measure: Any, fmt: str) -> Any:
    if measure is None or not measure.n:
        return None
    return measure.estimate


def scorecard(ctx: SectionContext) -> dict[str, Any]:
    """``{"blocks": [table, trend chart]}`` for the executive page (JSON, frozen at sign-off)."""
    now = _totals(ctx, ctx.week_start, ctx.week_end, "month")
    before_start, before_end = previous_bounds(ctx)
    before = _totals(ctx, monday_on_or_after(before_start), monday_on_or_after(before_end), "month")
    rows = []
    for key, label, fmt in MEASURES:
        current, earlier = getattr(now.total, key), getattr(before.total, key)
        value, previous = _value(current, fmt), _value(earlier, fmt)
        change = value - previous if value is not None and previous is not None else None
        rows.append(
            {
                "_key": f"scorecard:{key}",
                "measure": label,
                "now": value,
                "n": current.n if current is not None else 0,
                "before": previous,
                "change": change,
                "low_sample": bool(current is not None and current.low_sample),
                "_format": fmt,
            }
        )
    blocks = [
        table(
            "scorecard",
            t("本期主要指标", "Headline figures of the period"),
            [
                column("measure", t("指标", "Measure")),
                column("now", t("本期", "This period"), "text", "right"),
                column("n", t("样本数", "n"), "int", "right"),
                column("before", t("上期", "Previous period"), "text", "right"),
                column("change", t("变化", "Change"), "text", "right"),
                column("low_sample", t("样本不足", "Low sample"), "text", "center"),
            ],
            [_formatted(row) for row in rows],
            weights=[2.2, 1.2, 0.8, 1.2, 1.2, 1],
        )
    ]
    periods = [p.label for p in now.trend]
    series = [
        {"label": label, "values": [_trend_value(getattr(p, key), key) for p in now.trend]}
        for key, label, _fmt in MEASURES
    ]
    if len(periods) >= 2:
        blocks.append(
            chart(
                "scorecard_trend",
                "trend",
                t("逐月趋势（CSAT 为百分比）", "Month by month (CSAT as a percentage)"),
                {"periods": periods, "series": series},
            )
        )
    return {"blocks": blocks}


def _trend_value(measure: Any, key: str) -> float | None:
    if measure is None or not measure.n:
        return None
    return float(measure.estimate * 100 if key == "csat" else measure.estimate)


def _formatted(row: dict[str, Any]) -> dict[str, Any]:
    """Shares as percentages, NPS and the index with one decimal, the change signed."""
    fmt = row.pop("_format")

    def show(value: Any, signed: bool = False) -> Any:
        if value is None:
            return None
        if fmt == "pct":
            points = value * 100
            return f"{points:+.1f} pp" if signed else f"{points:.1f}%"
        return f"{value:+.1f}" if signed else f"{value:.1f}"

    return {
        **row,
        "now": show(row["now"]),
        "before": show(row["before"]),
        "change": show(row["change"], True),
    }
