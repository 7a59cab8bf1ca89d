"""The plain, frozen inputs of the charts in ``charts``: series, markers, estimates, points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Quadrant = Literal["top_left", "top_right", "bottom_left", "bottom_right"]


@dataclass(frozen=True)
class TrendSeries:
    """One line of a trend chart: a value per period, optionally a CI band (``nan`` = gap)."""

    label: str
    values: Sequence[float]
    ci_low: Sequence[float] | None = None
    ci_high: Sequence[float] | None = None


@dataclass(frozen=True)
class EventMarker:
    """A labelled vertical line at one period, e.g. ``EventMarker("2024-H1", "系统升级")``."""

    period: str
    label: str


@dataclass(frozen=True)
class GroupEstimate:
    """A bar: point estimate, optional interval ``[low, high]`` and sample size ``n``."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None
    n: int | None = None


@dataclass(frozen=True)
class QuadrantPoint:
    """A labelled point: ``x`` = KPI attainment margin, ``y`` = experience gap."""

    label: str
    x: float
    y: float


@dataclass(frozen=True)
class QuadrantLabels:
    """The four quadrant captions, e.g. bottom_right = "西瓜 (KPI 达标, 体验差) / watermelon"."""

    top_left: str
    top_right: str
    bottom_left: str
    bottom_right: str
