"""Issue 19: compare_kpi_experience computes every interval and test over all cells at once. The
numbers must be those of the per-cell code (compare_one, then the BH judgement and the ranking,
kept here as the reference) to 1e-12, and the exact binomial test scipy's binomtest."""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Any

import numpy as np
import pytest
from scipy import stats

from scoring.comparison import (
    QUADRANTS,
    CellComparison,
    ComparisonCell,
    KpiGroup,
    _judged,
    _measurement,
    binomtest_two_sided,
    compare_kpi_experience,
    compare_one,
)
from scoring.exact_tests import benjamini_hochberg


def _per_cell(cells: list[ComparisonCell], confidence: float = 0.95, min_n: int = 30) -> Any:
    """The per-cell compare_kpi_experience as it was before issue 19 (the reference)."""
    compared = [compare_one(c, confidence=confidence, min_n=min_n) for c in cells]
    family: dict[tuple[Any, ...], int] = {}
    slot = [family.setdefault(_measurement(c), len(family)) for c in cells]
    p_once = [1.0] * len(family)
    for c, i in zip(compared, slot, strict=True):
        p_once[i] = c.p_value
    q_once = benjamini_hochberg(p_once).tolist() if family else []
    compared = [
        _judged(c, float(q_once[i]), 1.0 - confidence, min_n) for c, i in zip(compared, slot, strict=True)
    ]

    def key(c: CellComparison) -> tuple[bool, float, float]:
        rel = c.experience_gap / abs(c.experience_target) if c.experience_target else c.experience_gap
        return (not c.evidenced, rel, c.p_value if np.isfinite(c.p_value) else 1.0)

    melons = sorted((c for c in compared if c.quadrant == "watermelon"), key=key)
    rank = {id(c): i + 1 for i, c in enumerate(melons)}
    compared = [replace(c, watermelon_rank=rank[id(c)]) if id(c) in rank else c for c in compared]
    counts = tuple((q, sum(1 for c in compared if c.quadrant == q)) for q in QUADRANTS)
    return compared, counts


def _random_cells(seed: int, size: int) -> list[ComparisonCell]:
    """Every kind of experience (share, NPS counts, bounded mean, t mean), share and non-share
    KPIs, pooled tiers, edge targets (0, 1, +-100), small and large n, shared measurements."""
    rng = np.random.default_rng(seed)
    out: list[ComparisonCell] = []
    for i in range(size):
        n = int(rng.choice([1, 2, 5, 29, 30, 31, 100, 1000, 25000]))
        kind = i % 4
        kpi_n = None if rng.random() < 0.2 else int(rng.integers(0, 5000))
        scale = 100.0 if rng.random() < 0.3 else 1.0
        kpi_value = float(rng.uniform(0.7, 1.0)) * scale
        comparator = str(rng.choice([">=", ">", "<=", "<"]))
        groups: tuple[KpiGroup, ...] = ()
        if rng.random() < 0.25:
            groups = tuple(
                KpiGroup(
                    f"T{j}",
                    float(rng.uniform(0.8, 1.0)) * scale,
                    0.9 * scale,
                    ">=",
                    None if rng.random() < 0.3 else int(rng.integers(1, 3000)),
                )
                for j in range(int(rng.integers(2, 4)))
            )
        base: dict[str, Any] = {
            "service": f"S{i % 7}:K{i % 3}", "region": f"R{i % 11}", "period": "2026-01-05/2026-04-06",
            "kpi_value": kpi_value, "kpi_target": 0.9 * scale, "kpi_comparator": comparator, "kpi_n": kpi_n,
            "kpi_share_scale": scale, "kpi_groups": groups, "experience_n": n,
            "experience_comparator": str(rng.choice([">=", "<="])),
        }  # fmt: skip
        if kind == 0:
            target = float(rng.choice([0.0, 1.0, 0.85, 0.5, float(rng.uniform(0.01, 0.99))]))
            x = int(rng.choice([0, n, int(rng.integers(0, n + 1)), round(target * n)]))
            out.append(ComparisonCell(**base, experience_target=target, experience_successes=x))
        elif kind == 1:
            b = int(rng.integers(0, n + 1))
            c = int(rng.integers(0, n - b + 1))
            target = float(rng.choice([-100.0, 100.0, 30.0, float(rng.uniform(-99, 99))]))
            out.append(
                ComparisonCell(
                    **base,
                    experience_target=target,
                    experience_mean=100.0 * (b - c) / n,
                    experience_sd=10.0,
                    experience_promoters=b,
                    experience_detractors=c,
                )
            )
        elif kind == 2:
            lo, hi = (1.0, 7.0) if rng.random() < 0.3 else (1.0, 5.0)
            target = float(rng.choice([lo, hi, float(rng.uniform(lo, hi))]))
            out.append(
                ComparisonCell(
                    **base,
                    experience_target=target,
                    experience_mean=float(rng.uniform(lo, hi)),
                    experience_sd=float(rng.uniform(0, 1.5)),
                    experience_scale=(lo, hi),
                )
            )
        else:
            sd = 0.0 if rng.random() < 0.1 else float(rng.uniform(0.1, 2.0))
            out.append(
                ComparisonCell(
                    **base,
                    experience_target=float(rng.uniform(1, 5)),
                    experience_mean=float(rng.uniform(1, 5)),
                    experience_sd=sd,
                )
            )
    # The same experience measurement under two KPIs (one test in the BH family).
    out.append(replace(out[0], service=out[0].service.split(":")[0] + ":OTHER"))
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "__dataclass_fields__"):
        return type(a) is type(b) and all(_same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    return bool(a == b)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorised_report_equals_the_per_cell_code(seed):
    cells = _random_cells(seed, 400)
    expected, counts = _per_cell(cells)
    report = compare_kpi_experience(cells)
    assert len(report.cells) == len(expected)
    for got, want in zip(report.cells, expected, strict=True):
        assert _same(got, want), (got, want)
    assert report.quadrant_counts == counts
    ranked = sorted((c for c in expected if c.watermelon_rank), key=lambda c: c.watermelon_rank)
    assert [(c.service, c.region) for c in report.watermelons] == [(c.service, c.region) for c in ranked]


def test_vectorised_report_at_another_confidence():
    cells = _random_cells(7, 200)
    expected, _ = _per_cell(cells, confidence=0.9, min_n=10)
    report = compare_kpi_experience(cells, confidence=0.9, min_n=10)
    assert all(_same(g, w) for g, w in zip(report.cells, expected, strict=True))


def test_binomtest_two_sided_is_scipys():
    rng = np.random.default_rng(11)
    ns = rng.choice([1, 2, 3, 10, 30, 31, 200, 5000, 100000], size=600)
    ks = np.array([int(rng.integers(0, n + 1)) for n in ns])
    ps = rng.choice([0.5, 0.85, 0.1, 1 / 3, 0.999], size=600)
    ps = np.where(rng.random(600) < 0.5, ps, rng.uniform(0.001, 0.999, 600))
    ks[:20] = np.round(ps[:20] * ns[:20])  # at the mode
    got = binomtest_two_sided(ks, ns, ps)
    want = np.array(
        [stats.binomtest(int(k), int(n), float(p)).pvalue for k, n, p in zip(ks, ns, ps, strict=True)]
    )
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_the_errors_of_the_per_cell_code_are_kept():
    good = _random_cells(5, 4)
    with pytest.raises(ValueError, match="no experience responses"):
        compare_kpi_experience([*good, replace(good[0], experience_n=0)])
    with pytest.raises(ValueError, match="proportion in 0..1"):
        compare_kpi_experience([replace(good[0], experience_target=85.0)])
    with pytest.raises(ValueError, match="within experience_n"):
        compare_kpi_experience([replace(good[1], experience_promoters=10**9)])
    assert compare_kpi_experience([]).cells == ()


def test_rank_correlations_equal_the_one_at_a_time_function_and_scipy():
    from scoring.association import rank_correlation, rank_correlations

    rng = np.random.default_rng(4)
    pairs = []
    for i in range(300):
        n = int(rng.choice([2, 3, 4, 5, 9, 14, 52]))
        x = np.round(rng.normal(size=n), 1)  # ties
        y = x * (i % 3 - 1) if i % 10 == 0 else rng.normal(size=n)  # rho = +-1 and 0/0
        if i % 7 == 0:
            x[0] = np.nan
        pairs.append((x, y))
    pairs.append((np.ones(5), np.arange(5.0)))  # no spread
    got = rank_correlations(pairs)
    for (x, y), r in zip(pairs, got, strict=True):
        want = rank_correlation(x, y)
        for name in ("rho", "ci_low", "ci_high", "p_value"):
            a, b = getattr(r, name), getattr(want, name)
            assert (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-12, (name, a, b)
        assert (r.n, r.low_sample) == (want.n, want.low_sample)
        ok = ~np.isnan(x)
        if r.rho == r.rho and abs(r.rho) < 1:
            ref = stats.spearmanr(x[ok], y[ok])
            assert r.rho == pytest.approx(ref.statistic, abs=1e-12)
            assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
