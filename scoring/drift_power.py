"""Measured false-alarm and detection rates of :func:`scoring.drift.detect_drops` on simulated
organisations: the evidence behind "with nothing changed, at most 5% of looks flag anything" and
"a drop a manager cares about is found in at least 80% of looks".

An organisation of the demo's size: 12 regions x 5 services, 10 answers per region and week
spread over the services (each answer a CSAT 1..5, a CES 1..7 tied to it as in the demo, and an
NPS 0..10 class), a baseline of 8 complete weeks and a recent window of 4. About one answer in
five is a phone callback that also rates three feedback dimensions (response speed, fault
handling, staff attitude: the CSAT plus -1, 0, 0 or +1, as the demo's callbacks), so every look
also tests those dimensions and the perception index made of them, as the product does.
A stable organisation draws every week from the same distributions; a planted one changes ONE
region's recent weeks: CSAT top-2 from 78% to 35%, NPS from +25 to -45, or CES down by about 1.5
points on its 7-point scale (each answer one or two points lower).
Each look runs the product's own rule (services.changes.build_inputs then detect_drops: every
region, service, cell and the whole organisation; CSAT, NPS, CES, each dimension and the index;
minimum n; exact tests; Benjamini-Hochberg), exactly as the overview and the alert do. Only
customers' answers are simulated because only they are tested: the collectors' weekly-report
ratings are left out of the look (services.changes says why), so they add no test to its family.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from scoring.drift import ChangeLook, DimensionSample, IndexInput, ScoredInput, detect_drops
from scoring.results import JsonResult

__all__ = ["OrgShape", "PowerResult", "simulate_look", "simulate_rates"]

Planted = Literal["csat", "nps", "ces"] | None

CSAT_BASE = (0.03, 0.05, 0.14, 0.38, 0.40)  # the demo's CSAT distribution (top-2 78%)
CSAT_DROPPED = (0.15, 0.20, 0.30, 0.20, 0.15)  # top-2 35%
NPS_BASE = (0.20, 0.35, 0.45)  # detractor, passive, promoter: NPS +25
NPS_DROPPED = (0.60, 0.25, 0.15)  # NPS -45: a collapse like the +53 -> -38 seen in the field
#: The dimensions a demo phone callback rates, and the share of answers that are callbacks.
CALLBACK_DIMENSIONS = ("response_speed", "fault_handling", "staff_attitude")
CALLBACK_SHARE = 0.2
DIMENSION_SCORES = (0.0, 25.0, 50.0, 75.0, 100.0)  # a 1..5 rating rescaled to 0..100, as the index


@dataclass(frozen=True)
class OrgShape:
    regions: int = 12
    services: int = 5
    answers_per_region_week: int = 10
    baseline_weeks: int = 8
    recent_weeks: int = 4


@dataclass(frozen=True)
class PowerResult(JsonResult):
    planted: str  # "none" for stable organisations
    organisations: int
    looks_flagging: int  # stable: looks that flag anything; planted: looks that find the drop
    rate: float
    ci_high: float  # one-sided 95% Clopper-Pearson upper bound of the rate
    ci_low: float  # one-sided 95% Clopper-Pearson lower bound


def _answers(rng: np.random.Generator, shape: OrgShape, planted: Planted) -> dict[str, np.ndarray]:
    weeks = shape.baseline_weeks + shape.recent_weeks
    per = shape.answers_per_region_week
    region = np.repeat(np.arange(shape.regions), weeks * per)
    week = np.tile(np.repeat(np.arange(weeks), per), shape.regions)
    service = rng.integers(0, shape.services, region.size)
    hit = (region == 0) & (week >= shape.baseline_weeks)  # the planted region's recent answers
    csat_probs = np.where(hit[:, None] & (planted == "csat"), CSAT_DROPPED, CSAT_BASE)
    csat = 1 + (rng.random(region.size)[:, None] > np.cumsum(csat_probs, axis=1)).sum(axis=1)
    csat = np.minimum(csat, 5)
    ces = np.minimum(7, csat + rng.integers(0, 3, region.size))
    lower = 1 + (rng.random(region.size) < 0.5)  # one or two points less: -1.5 on average
    ces = np.where(hit & (planted == "ces"), np.maximum(1, ces - lower), ces)
    nps_probs = np.where(hit[:, None] & (planted == "nps"), NPS_DROPPED, NPS_BASE)
    nps = np.minimum(2, (rng.random(region.size)[:, None] > np.cumsum(nps_probs, axis=1)).sum(axis=1))
    callback = rng.random(region.size) < CALLBACK_SHARE
    out = {"region": region, "service": service, "recent": week >= shape.baseline_weeks,
           "csat": (csat >= 4).astype(int), "ces": ces - 1, "nps": nps, "callback": callback}  # fmt: skip
    for code in CALLBACK_DIMENSIONS:  # category 0..4 of the 1..5 rating
        shift = rng.choice(np.array([-1, 0, 0, 1]), region.size)
        out[code] = np.clip(csat + shift, 1, 5) - 1
    return out


MEASURES = (("csat", (0.0, 1.0), 1.0), ("nps", (-1.0, 0.0, 1.0), 100.0), ("ces", tuple(range(1, 8)), 1.0))


def look_inputs(
    answers: dict[str, np.ndarray], shape: OrgShape
) -> tuple[list[ScoredInput], list[IndexInput]]:
    """Per unit (organisation, region, service, region x service) and measure (CSAT, NPS, CES,
    each callback dimension): the category counts of the baseline and the recent weeks; per unit
    with dimension ratings, the dimension sums the index test uses (services.changes.build_inputs
    builds the same from the database)."""
    units: list[tuple[Hashable, np.ndarray]] = [(("all",), np.ones(answers["region"].size, dtype=bool))]
    units += [(("region", r), answers["region"] == r) for r in range(shape.regions)]
    units += [(("service", s), answers["service"] == s) for s in range(shape.services)]
    units += [
        (("cell", s, r), (answers["region"] == r) & (answers["service"] == s))
        for r in range(shape.regions)
        for s in range(shape.services)
    ]
    out = []
    indices = []
    rated = answers["callback"]
    y = np.asarray(DIMENSION_SCORES)
    for unit, mask in units:
        for measure, scores, factor in MEASURES:
            k = len(scores)
            base = np.bincount(answers[measure][mask & ~answers["recent"]], minlength=k)
            recent = np.bincount(answers[measure][mask & answers["recent"]], minlength=k)
            out.append(
                ScoredInput(unit, measure, scores, tuple(base.tolist()), tuple(recent.tolist()), factor)
            )
        if not (mask & rated).any():
            continue  # as the product: a unit without dimension ratings has no index row
        sides: list[dict[str, DimensionSample]] = [{}, {}]
        for code in CALLBACK_DIMENSIONS:
            counts = [
                np.bincount(answers[code][mask & rated & (answers["recent"] == side)], minlength=y.size)
                for side in (False, True)
            ]
            before, after = (tuple(int(k) for k in c) for c in counts)
            out.append(ScoredInput(unit, code, DIMENSION_SCORES, before, after))
            for side, c in enumerate(counts):
                if c.sum():
                    sides[side][code] = DimensionSample(int(c.sum()), float(c @ y), float(c @ (y * y)))
        indices.append(IndexInput(unit, sides[0], sides[1]))
    return out, indices


def simulate_look(
    rng: np.random.Generator, shape: OrgShape = OrgShape(), planted: Planted = None
) -> ChangeLook:
    scored, indices = look_inputs(_answers(rng, shape, planted), shape)
    return detect_drops(scored, indices)


def found(look: ChangeLook, planted: str) -> bool:
    """The planted drop is found when its measure flags on the planted region (region 0) or one
    of its cells."""
    for t in look.flags:
        unit = t.unit if isinstance(t.unit, tuple) else ()
        in_region = unit[:2] == ("region", 0) or (unit[:1] == ("cell",) and unit[2] == 0)
        if t.measure == planted and in_region:
            return True
    return False


def simulate_rates(
    organisations: int, *, seed: int = 0, shape: OrgShape = OrgShape(), planted: Planted = None
) -> PowerResult:
    """Share of ``organisations`` looks that flag anything (stable) or find the planted drop."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(organisations):
        look = simulate_look(rng, shape, planted)
        hits += found(look, planted) if planted else look.any_flag
    high = 1.0 if hits == organisations else float(stats.beta.ppf(0.95, hits + 1, organisations - hits))
    low = 0.0 if hits == 0 else float(stats.beta.ppf(0.05, hits, organisations - hits + 1))
    return PowerResult(planted or "none", organisations, hits, hits / organisations, high, low)
