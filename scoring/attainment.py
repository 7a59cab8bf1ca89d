"""Attainment of a service standard over periods: met or not per period, the share of periods
met and the margin, with the target allowed to change between periods (the version in force).

Pooling groups (tiers, regions) that each have their own target: one rule, :func:`pooled_met`, used by
the KPI page, the KPI-versus-experience page and the "standard missed" alert: a pooled period is met
only when every group judged against its own target met it (issue 14: a week counted as met on the
pooled mean while the Platinum tier missed its 95%, and the alert said the opposite).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from scoring.results import JsonResult

__all__ = [
    "COMPARATORS",
    "AttainmentResult",
    "PeriodAttainment",
    "is_met",
    "margin",
    "pooled_met",
    "standard_attainment",
]

COMPARATORS = (">=", "<=", ">", "<")


def margin(value: float, target: float, comparator: str) -> float:
    """Signed margin, positive = better than target: value - target for ">=" and ">",
    target - value for "<=" and "<"."""
    if comparator not in COMPARATORS:
        raise ValueError(f"comparator must be one of {COMPARATORS}, got {comparator!r}")
    return value - target if comparator in (">=", ">") else target - value


def is_met(value: float, target: float, comparator: str) -> bool:
    """Whether ``value comparator target`` holds (e.g. 96.5 >= 95)."""
    m = margin(value, target, comparator)
    return m > 0 if comparator in (">", "<") else m >= 0


def pooled_met(groups_met: Iterable[bool | None]) -> bool | None:
    """Met for a period pooling several groups, each judged against its own target: False when any
    group missed, True when every judged group met, None when no group was judged."""
    judged = [m for m in groups_met if m is not None]
    if not judged:
        return None
    return all(judged)


@dataclass(frozen=True)
class PeriodAttainment(JsonResult):
    period: Any
    value: float | None
    target: float | None
    met: bool | None  # None when there is no value or no target in force
    margin: float | None
    relative_margin: float | None  # margin / |target|


@dataclass(frozen=True)
class AttainmentResult(JsonResult):
    comparator: str
    periods: tuple[PeriodAttainment, ...]
    n_measured: int
    n_met: int
    share_met: float | None
    mean_margin: float | None
    worst_margin: float | None
    best_margin: float | None


def standard_attainment(
    periods: Sequence[Any],
    values: Sequence[float | None],
    comparator: str,
    targets_per_period: Sequence[float | None] | float,
    met_per_period: Sequence[bool | None] | None = None,
) -> AttainmentResult:
    """Attainment of one standard per period.

    For each period with a value and a target in force: met = value (comparator) target;
    margin = value - target (">=", ">") or target - value ("<=", "<"), so a positive margin is
    always better than target; relative margin = margin / |target|. Summary: share of measured
    periods met, mean / worst / best margin. Missing values (None/NaN) are reported but not
    counted. ``targets_per_period`` may be one number or one target per period (the version of
    the standard in force at that period, resolved by the caller). ``met_per_period`` (pooled
    groups, see :func:`pooled_met`): where not None it decides "met" instead of value vs target.
    """
    if comparator not in COMPARATORS:
        raise ValueError(f"comparator must be one of {COMPARATORS}, got {comparator!r}")
    if isinstance(targets_per_period, (int, float)):
        targets: list[float | None] = [float(targets_per_period)] * len(periods)
    else:
        targets = list(targets_per_period)
    mets = list(met_per_period) if met_per_period is not None else [None] * len(periods)
    if not len(periods) == len(values) == len(targets) == len(mets):
        raise ValueError("periods, values, targets and met must have the same length")
    rows = []
    for period, value, target, given in zip(periods, values, targets, mets, strict=True):
        if value is None or target is None or math.isnan(value) or math.isnan(target):
            rows.append(
                PeriodAttainment(
                    period, None if value is None or math.isnan(value) else value, target, None, None, None
                )
            )
            continue
        mg = margin(value, target, comparator)
        rel = mg / abs(target) if target != 0 else None
        met = is_met(value, target, comparator) if given is None else bool(given)
        rows.append(PeriodAttainment(period, value, target, met, mg, rel))
    measured = [r for r in rows if r.met is not None]
    margins = [r.margin for r in measured if r.margin is not None]
    n_met = sum(1 for r in measured if r.met)
    return AttainmentResult(
        comparator=comparator,
        periods=tuple(rows),
        n_measured=len(measured),
        n_met=n_met,
        share_met=n_met / len(measured) if measured else None,
        mean_margin=sum(margins) / len(margins) if margins else None,
        worst_margin=min(margins) if margins else None,
        best_margin=max(margins) if margins else None,
    )
