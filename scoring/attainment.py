"""Attainment of a service standard over periods: met or not per period, the share of periods
met and the margin, with the target allowed to change between periods (the version in force).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scoring.results import JsonResult

__all__ = ["COMPARATORS", "AttainmentResult", "PeriodAttainment", "is_met", "margin", "standard_attainment"]

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
) -> AttainmentResult:
    """Attainment of one standard per period.

    For each period with a value and a target in force: met = value (comparator) target;
    margin = value - target (">=", ">") or target - value ("<=", "<"), so a positive margin is
    always better than target; relative margin = margin / |target|. Summary: share of measured
    periods met, mean / worst / best margin. Missing values (None/NaN) are reported but not
    counted. ``targets_per_period`` may be one number or one target per period (the version of
    the standard in force at that period, resolved by the caller).
    """
    if comparator not in COMPARATORS:
        raise ValueError(f"comparator must be one of {COMPARATORS}, got {comparator!r}")
    if isinstance(targets_per_period, (int, float)):
        targets: list[float | None] = [float(targets_per_period)] * len(periods)
    else:
        targets = list(targets_per_period)
    if not len(periods) == len(values) == len(targets):
        raise ValueError("periods, values and targets must have the same length")
    rows = []
    for period, value, target in zip(periods, values, targets, strict=True):
        if value is None or target is None or math.isnan(value) or math.isnan(target):
            rows.append(
                PeriodAttainment(
                    period, None if value is None or math.isnan(value) else value, target, None, None, None
                )
            )
            continue
        mg = margin(value, target, comparator)
        rel = mg / abs(target) if target != 0 else None
        rows.append(PeriodAttainment(period, value, target, is_met(value, target, comparator), mg, rel))
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
