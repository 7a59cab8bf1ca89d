"""Feasibility (可行性) of a proposed standard, replayed on the raw history it speaks of.

A proposed rule such as "99% of desk incidents resolved within 1 hour" is replayed on the tickets it
would have judged: per period, the share of measured tickets within the proposed limit (a ticket still
open whose covered time already exceeds the limit counts as measured and missed; one still open
within it is not measured yet). The result carries each period's share and n, the best, median and
latest period, and the threshold the history supports:

- at the proposed limit: the best period's share ("44% within 1 h");
- at the proposed share: the smallest limit that the best period met, i.e. the lowest over periods of
  the per-period inverse-ECDF quantile (Hyndman & Fan type 1, numpy ``method="inverted_cdf"``) of the
  durations at the required share, a still-open overdue ticket counting as +inf ("99% within 4.6 h").
  Type 1 is used because it is an observed duration: the share within it is at least the required one.

Rates (first-contact resolution, reopen) and experience measures replay as per-period values with n
(:func:`period_values`). Data crosses in as NumPy arrays; no Flask, no database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from scoring.results import JsonResult

__all__ = [
    "PeriodValue",
    "ReplayedHistory",
    "format_minutes",
    "period_values",
    "replay_time_share",
    "supported_thresholds",
]


@dataclass(frozen=True)
class PeriodValue(JsonResult):
    period: str  # ISO date of the period's first day
    value: float
    n: int


@dataclass(frozen=True)
class ReplayedHistory(JsonResult):
    """Per-period values of a proposed rule replayed on history, in the units of ``target``.

    ``what_zh``/``what_en`` say what was replayed ("the service's tickets, P2, tier Gold, per week").
    ``limit_minutes``/``supported_limit_minutes``: time-share rules only. An empty ``periods`` means
    no history: the rule cannot be shown feasible."""

    what_zh: str
    what_en: str
    periods: tuple[PeriodValue, ...]
    target: float
    comparator: str
    unit: str
    limit_minutes: float | None = None
    supported_limit_minutes: float | None = None

    @property
    def higher_is_better(self) -> bool:
        return self.comparator in (">=", ">")

    def best(self) -> PeriodValue | None:
        if not self.periods:
            return None
        key = (lambda p: p.value) if self.higher_is_better else (lambda p: -p.value)
        return max(self.periods, key=key)  # the first of equals (oldest)

    def median(self) -> PeriodValue | None:
        """The period holding the median value (the lower middle one for an even count), so it has an n."""
        if not self.periods:
            return None
        ordered = sorted(self.periods, key=lambda p: (p.value, p.period))
        return ordered[(len(ordered) - 1) // 2]

    def latest(self) -> PeriodValue | None:
        return self.periods[-1] if self.periods else None


def format_minutes(minutes: float, lang: str = "en") -> str:
    """'45 min' / '4.6 h' / '2.5 d' (zh: 分钟 / 小时 / 天), two significant figures above an hour."""
    if not math.isfinite(minutes):
        return "∞"
    if minutes < 90:
        value, unit = f"{minutes:.3g}", ("分钟" if lang == "zh" else "min")
    elif minutes < 48 * 60:
        value, unit = f"{minutes / 60:.2g}", ("小时" if lang == "zh" else "h")
    else:
        value, unit = f"{minutes / 1440:.2g}", ("天" if lang == "zh" else "d")
    return f"{value}{unit}" if lang == "zh" else f"{value} {unit}"


def supported_thresholds(h: ReplayedHistory, lang: str = "en") -> tuple[str, ...]:
    """The thresholds the replayed history supports, each reached in at least one real period: for a
    time-share rule the best period's share at the proposed limit and, when some period reached the
    proposed share, the smallest limit that did ("44% within 1 h", "99% within 3.6 h"); for another
    rule the best period's value (">= 87%"). Empty without history."""
    best = h.best()
    if best is None:
        return ()
    unit = "%" if h.unit in ("%", "％") else (f" {h.unit}" if h.unit else "")
    if h.limit_minutes is None:
        return (f"{h.comparator} {best.value:.3g}{unit}",)
    within = "内" if lang == "zh" else " within "
    parts = [f"{best.value:.3g}%{within}{format_minutes(h.limit_minutes, lang)}"]
    if h.supported_limit_minutes is not None:
        parts.append(f"{h.target:.3g}%{within}{format_minutes(h.supported_limit_minutes, lang)}")
    return tuple(parts)


def _labels(period_codes: ArrayLike, labels: list[str]) -> tuple[np.ndarray, int]:
    codes = np.asarray(period_codes, dtype=np.intp)
    if codes.ndim != 1 or (codes.size and (codes.min() < 0 or codes.max() >= len(labels))):
        raise ValueError("period codes must index the labels")
    return codes, len(labels)


def replay_time_share(
    period_codes: ArrayLike,
    labels: list[str],
    duration_s: ArrayLike,
    elapsed_s: ArrayLike,
    limit_s: float,
    required_share: float,
) -> tuple[tuple[PeriodValue, ...], float | None]:
    """Per period (``labels[code]``, oldest first) the % of measured tickets within ``limit_s``, and
    the smallest limit in seconds that reached ``required_share`` (%) in some period (None if none).

    ``duration_s``: covered seconds to the event, NaN while it has not happened; ``elapsed_s``:
    covered seconds until now for those (ignored otherwise). Periods with no measured ticket are left out.
    """
    codes, size = _labels(period_codes, labels)
    d = np.asarray(duration_s, dtype=float)
    e = np.asarray(elapsed_s, dtype=float)
    if not (d.shape == e.shape == codes.shape):
        raise ValueError("codes, durations and elapsed times must have the same length")
    if not (0.0 < required_share <= 100.0) or not limit_s >= 0:
        raise ValueError("required share must lie in (0, 100] and the limit must be >= 0")
    done = ~np.isnan(d)
    with np.errstate(invalid="ignore"):
        overdue = ~done & (e > limit_s)
        hit = done & (d <= limit_s)
    measured = done | overdue
    out: list[PeriodValue] = []
    supported: float | None = None
    for g in range(size):
        in_g = (codes == g) & measured
        n = int(in_g.sum())
        if n == 0:
            continue
        out.append(PeriodValue(labels[g], 100.0 * float((hit & (codes == g)).sum()) / n, n))
        # Every measured ticket with its duration; an overdue open one is at least +inf for this purpose.
        times = np.where(done[in_g], d[in_g], np.inf)
        k = math.ceil(required_share / 100.0 * n - 1e-9)  # the k-th smallest reaches the share
        q = float(np.sort(times)[max(k, 1) - 1])
        if math.isfinite(q) and (supported is None or q < supported):
            supported = q
    return tuple(out), supported


def period_values(
    period_codes: ArrayLike,
    labels: list[str],
    numerator: ArrayLike,
    measured: ArrayLike,
    *,
    scale: float = 100.0,
) -> tuple[PeriodValue, ...]:
    """Per period ``scale`` x (sum of numerator over measured rows) / (measured rows): a rate per period
    (first-contact resolution, reopen, a CSAT share). Periods with nothing measured are left out."""
    codes, size = _labels(period_codes, labels)
    num = np.asarray(numerator, dtype=float)
    m = np.asarray(measured, dtype=bool)
    n = np.bincount(codes[m], minlength=size)
    s = np.bincount(codes[m], weights=num[m], minlength=size)
    return tuple(
        PeriodValue(labels[g], scale * float(s[g]) / int(n[g]), int(n[g])) for g in range(size) if n[g]
    )
