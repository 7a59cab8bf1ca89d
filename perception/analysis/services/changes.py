"""Change over time, the way the overview and the experience-drop alert both state it: did CSAT,
NPS, CES, the perception index or a dimension fall in the last ``RECENT_WEEKS`` complete weeks
against the ``BASELINE_WEEKS`` complete weeks before, for the whole organisation, each region,
each service and each region x service cell?

Complete weeks only: the window ends at the filter's end or the Monday of the current week,
whichever is earlier, so an unfinished week (two answers of "2" on a Monday) is never compared.
The rule itself (minimum n per side, exact one-sided tests, Benjamini-Hochberg across every
measure tested in the look) is scoring.drift.detect_drops; its false-alarm and detection rates
are measured by scoring.drift_power (bench/bench_drift.py).

One voice: customers' own answers (surveys, phone callbacks, sampling; perception_index.VOICES
["customers"]), as the headline perception index. CSAT, NPS, CES, the index and every dimension are
tested on those answers only. The collectors' weekly-report ratings (the other voice, shown apart
beside the index on the overview) are not tested for drops at all, and the change card
(templates/analysis/_changes.html) says so. Why left out rather than tested as a measure of their
own: a manager reads a flagged drop, and the alert it raises, as "customers are telling us it got
worse". A weekly-report rating is the regional team's own summary of its customers, a few a week
chosen and scored by the team whose service is measured (the domain keeps measurement apart from
the people measured); its n counts the team's entries, not independent customers, so neither the
exact tests' error rate nor the simulated false-alarm rate (which models customers' answers) would
vouch for it. Mixed in (as before issue 14), a team marking its region down moved the customers'
index and dimensions; tested apart, it would put one team's judgement in the same list as
customers' evidence. It stays visible where it is labelled as what it is.

Public API: ``change_view(session, filters, *, today) -> ChangeView``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.analysis.services.facts import DIMENSION_CODES, DIMENSION_KINDS, tune_for_aggregation
from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.analysis.services.names import Names, load_names
from perception.analysis.services.perception_index import VOICES
from perception.core.models.facts import ExperienceObservation as Obs
from perception.core.periods import week_start
from scoring import FEEDBACK_DIMENSIONS
from scoring.drift import ChangeLook, ChangeTest, DimensionSample, IndexInput, ScoredInput, detect_drops

RECENT_WEEKS = 4
BASELINE_WEEKS = 8
CHANGE_KINDS = ("csat", "nps", "ces", *DIMENSION_KINDS)
MEASURE_ORDER = ("csat", "nps", "ces", "index", *DIMENSION_CODES)
#: (zh, en) names of the measures a look tests, for pages and alert messages.
MEASURE_NAMES: dict[str, tuple[str, str]] = {
    "csat": ("满意度（CSAT）", "CSAT"),
    "nps": ("净推荐值（NPS）", "NPS"),
    "ces": ("客户费力度（CES）", "CES"),
    "index": ("感知指数", "perception index"),
    **{code: (zh, en) for code, zh, en in FEEDBACK_DIMENSIONS},
}

#: The sources whose answers a look tests: customers' own (see the module docstring).
CHANGE_SOURCES = tuple(str(s) for s in VOICES["customers"])

Unit = tuple[Any, ...]  # ("all",) | ("region", id) | ("service", id) | ("cell", service, region)


@dataclass(frozen=True)
class ChangeWindow:
    baseline_start: date
    recent_start: date
    end: date  # Monday after the last complete week compared (exclusive)

    @property
    def last_week(self) -> date:
        return self.end - timedelta(weeks=1)


@dataclass(frozen=True)
class ChangeRow:
    """One tested (unit, measure) with the names a page shows."""

    unit: Unit
    region_id: int | None
    service_id: int | None
    region_zh: str
    region_en: str
    service_zh: str
    service_en: str
    test: ChangeTest

    @property
    def measure(self) -> str:
        return self.test.measure


@dataclass(frozen=True)
class ChangeView:
    window: ChangeWindow | None
    look: ChangeLook
    flags: tuple[ChangeRow, ...]

    @property
    def untested(self) -> int:
        return len(self.look.tests) - self.look.n_tested


def change_window(filters: AnalysisFilters, today: date | None) -> ChangeWindow | None:
    """The last RECENT_WEEKS complete weeks of the filter and the BASELINE_WEEKS before them."""
    end = filters.end if today is None else min(filters.end, week_start(today))
    if end <= filters.start:
        return None
    recent_start = end - timedelta(weeks=RECENT_WEEKS)
    return ChangeWindow(recent_start - timedelta(weeks=BASELINE_WEEKS), recent_start, end)


def _histogram(session: Session, filters: AnalysisFilters, window: ChangeWindow) -> list[Any]:
    f = replace(filters, start=window.baseline_start, end=window.end)
    columns = (
        Obs.period_start >= window.recent_start,
        Obs.region_id,
        func.coalesce(Obs.service_id, -1),
        Obs.kind,
        func.coalesce(Obs.dimension, ""),
        Obs.scale_min,
        Obs.scale_max,
        Obs.value,
    )
    stmt = (
        select(*columns, func.count())
        .where(*where_facts(Obs, f), Obs.kind.in_(CHANGE_KINDS), Obs.source.in_(CHANGE_SOURCES))
        .group_by(*columns)
    )
    tune_for_aggregation(session)
    return list(session.execute(stmt).all())


def _category(kind: str, lo: float, hi: float, value: float) -> tuple[str, float] | None:
    """The measure an answer counts in and its score."""
    if kind == "csat":
        return "csat", 1.0 if value >= hi - 1 else 0.0
    if kind == "nps":
        return "nps", 1.0 if value >= 9 else (-1.0 if value <= 6 else 0.0)
    return None


def build_inputs(rows: list[Any]) -> tuple[list[ScoredInput], list[IndexInput]]:
    """Category counts per (unit, measure, side) from the histogram rows; CES and dimensions are
    scored on 0..100 (as the index) so answers on different scales compare."""
    counts: dict[tuple[Unit, str], dict[float, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    sums: dict[tuple[Unit, bool], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0, 0])
    )
    for recent, region, service, kind, dimension, lo, hi, value, n in rows:
        units: list[Unit] = [("all",), ("region", int(region))]
        if int(service) >= 0:
            units += [("service", int(service)), ("cell", int(service), int(region))]
        scored = _category(kind, float(lo), float(hi), float(value))
        y = 100.0 * (float(value) - float(lo)) / (float(hi) - float(lo)) if hi > lo else 0.0
        if scored is None and kind == "ces":
            scored = ("ces", y)
        elif scored is None and dimension:
            scored = (str(dimension), y)
        if scored is None:
            continue
        measure, score = scored
        side = 1 if recent else 0
        for unit in units:
            counts[(unit, measure)][score][side] += int(n)
            if measure in DIMENSION_CODES:
                acc = sums[(unit, bool(recent))][measure]
                acc[0] += int(n)
                acc[1] += y * int(n)
                acc[2] += y * y * int(n)
    scored_inputs = []
    for (unit, measure), table in sorted(counts.items(), key=lambda kv: _order(kv[0])):
        scores = tuple(sorted(table))
        scored_inputs.append(
            ScoredInput(
                unit, measure, scores,
                tuple(table[s][0] for s in scores), tuple(table[s][1] for s in scores),
                100.0 if measure == "nps" else 1.0,
            )
        )  # fmt: skip
    index_inputs = []
    for unit in sorted({u for u, _ in sums}, key=lambda u: _order((u, "index"))):
        sides = [
            {d: DimensionSample(int(v[0]), v[1], v[2]) for d, v in sums.get((unit, recent), {}).items()}
            for recent in (False, True)
        ]
        index_inputs.append(IndexInput(unit, sides[0], sides[1]))
    return scored_inputs, index_inputs


def _order(key: tuple[Unit, str]) -> tuple[Any, ...]:
    unit, measure = key
    rank = ("all", "region", "service", "cell").index(unit[0])
    m = MEASURE_ORDER.index(measure) if measure in MEASURE_ORDER else len(MEASURE_ORDER)
    return (rank, unit[1:], m)


def _row(test: ChangeTest, names: Names) -> ChangeRow:
    unit: Unit = test.unit if isinstance(test.unit, tuple) else (test.unit,)
    region_id = unit[1] if unit[0] == "region" else (unit[2] if unit[0] == "cell" else None)
    service_id = unit[1] if unit[0] in ("service", "cell") else None
    region = names.region(region_id) if region_id is not None else None
    service = names.service(service_id) if service_id is not None else None
    return ChangeRow(
        unit, region_id, service_id,
        region.name_zh if region else "", region.name_en if region else "",
        service.name_zh if service else "", service.name_en if service else "",
        test,
    )  # fmt: skip


def change_view(session: Session, filters: AnalysisFilters, *, today: date | None) -> ChangeView:
    """The look of the filter's last complete weeks (``today`` decides which week is unfinished;
    None trusts the filter's end)."""
    window = change_window(filters, today)
    if window is None:
        return ChangeView(None, detect_drops([]), ())
    scored, indices = build_inputs(_histogram(session, filters, window))
    look = detect_drops(scored, indices)
    names = load_names(session, customers=False)
    flags = tuple(_row(t, names) for t in look.flags)
    return ChangeView(window, look, flags)


def shown_value(measure: str, value: float) -> str:
    """A measure's value as pages and alerts print it: CSAT in %, NPS signed, means to 3 digits."""
    if value != value:
        return "—"
    if measure == "csat":
        return f"{100 * value:.0f}%"
    return f"{value:+.0f}" if measure == "nps" else f"{value:.3g}"


def unit_key(unit: Hashable) -> str:
    """A stable text key of a unit, for alert occurrence keys and page anchors."""
    parts = unit if isinstance(unit, tuple) else (unit,)
    return "-".join(str(p) for p in parts)
