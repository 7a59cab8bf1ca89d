"""Grouped ticket KPIs checked against statistics.quantiles(method="inclusive") and numpy.percentile
(both Hyndman & Fan type 7), pandas groupby, and hand-computed cases."""

from __future__ import annotations

import statistics

import numpy as np
import pandas as pd
import pytest

from scoring.ticket_kpis import grouped_percentiles, ticket_kpis

nan = np.nan


def _random_tickets(n: int, groups: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n)
    v = rng.lognormal(8, 1.2, n).round(1)  # rounding creates ties
    v[rng.random(n) < 0.15] = nan
    return g, v


def test_percentiles_match_statistics_inclusive_and_numpy() -> None:
    g, v = _random_tickets(3000, 40, seed=1)
    got = grouped_percentiles(g, v, (50, 90), n_groups=42)  # groups 40 and 41 have no tickets
    for group in range(40):
        values = v[(g == group) & ~np.isnan(v)]
        deciles = statistics.quantiles(values.tolist(), n=10, method="inclusive")
        assert got[group, 0] == pytest.approx(deciles[4], rel=1e-12)
        assert got[group, 1] == pytest.approx(deciles[8], rel=1e-12)
        np.testing.assert_allclose(got[group], np.percentile(values, [50, 90]), rtol=1e-12)
    assert np.isnan(got[40:]).all()


def test_percentiles_small_groups_and_extremes() -> None:
    g = np.array([0, 1, 1, 2, 2, 2, 3])
    v = np.array([5.0, 1.0, 3.0, 10.0, nan, 20.0, nan])
    got = grouped_percentiles(g, v, (0, 50, 90, 100))
    # Group 0, one value: every percentile is that value. Group 1 {1, 3}: p90 = 1 + 0.9 * 2 = 2.8.
    # Group 2 {10, 20} (NaN ignored): p50 = 15, p90 = 19. Group 3 only NaN: NaN.
    np.testing.assert_allclose(
        got[:3], np.array([[5, 5, 5, 5], [1, 2, 2.8, 3], [10, 15, 19, 20]], dtype=float)
    )
    assert np.isnan(got[3]).all()
    assert grouped_percentiles(np.array([], dtype=int), np.array([]), (50,)).shape == (0, 1)


@pytest.mark.parametrize("n_groups", [7, 70_000])
def test_percentiles_with_a_value_order_are_the_same(n_groups: int) -> None:
    """Values sorted once and grouped several ways (kpi_pooled): the same bits as the lexsort,
    with ties and NaN, for few groups (radix sort of uint16 codes) and many (int codes)."""
    g, v = _random_tickets(5000, n_groups, seed=3)
    order = np.argsort(v, kind="stable")
    for groups in (g, g // 3, np.zeros_like(g)):
        size = int(groups.max()) + 1
        plain = grouped_percentiles(groups, v, (0, 50, 90, 100), size)
        ordered = grouped_percentiles(groups, v, (0, 50, 90, 100), size, value_order=order)
        np.testing.assert_array_equal(ordered, plain)
    for group in range(5):
        values = v[(g == group) & ~np.isnan(v)]
        if values.size:
            np.testing.assert_allclose(
                grouped_percentiles(g, v, (50, 90), value_order=order)[group],
                np.percentile(values, [50, 90], method="linear"),
                rtol=1e-12,
            )
    with pytest.raises(ValueError):
        grouped_percentiles(g, v, (50,), value_order=order[:-1])


def test_kpis_hand_computed() -> None:
    # Group 0 (target response 1 h, resolution 8 h), group 1 (targets 30 min and 4 h), group 2 unused.
    groups = np.array([0, 0, 0, 0, 1, 1, 1])
    response = np.array([600, 3600, 4000, nan, 1000, 2000, 100.0])
    resolution = np.array([7200, 30000, nan, nan, 14400, 3600, nan])
    reopens = np.array([0, 1, 2, 0, 0, 0, 1])
    first_contact = np.array([True, True, False, True, False, True, True])
    k = ticket_kpis(
        groups,
        response,
        resolution,
        reopens,
        n_groups=3,
        first_contact=first_contact,
        response_target_s=np.array([3600, 1800, 60.0]),
        resolution_target_s=np.array([28800, 14400, 60.0]),
    )
    np.testing.assert_array_equal(k.n, [4, 3, 0])
    np.testing.assert_array_equal(k.n_responded, [3, 3, 0])
    np.testing.assert_array_equal(k.n_resolved, [2, 2, 0])
    # Response within target: group 0 {600, 3600} of {600, 3600, 4000} = 2/3 (<= target counts as met);
    # group 1 {1000, 100} of 3 = 2/3. Resolution: group 0 {7200} of 2 = 1/2; group 1 both = 1.
    np.testing.assert_allclose(k.response_within_target, [2 / 3, 2 / 3, nan])
    np.testing.assert_allclose(k.resolution_within_target, [0.5, 1.0, nan])
    # FCR: group 0 resolved {t0 (no reopen, first contact), t1 (reopened)} -> 1/2; group 1 resolved
    # {t4 (flag False), t5 (ok)} -> 1/2.
    np.testing.assert_allclose(k.fcr_rate, [0.5, 0.5, nan])
    # Reopen: group 0 ever resolved {t0, t1, t2 (reopened, now open)}, reopened {t1, t2} -> 2/3;
    # group 1 ever resolved {t4, t5, t6}, reopened {t6} -> 1/3.
    np.testing.assert_allclose(k.reopen_rate, [2 / 3, 1 / 3, nan])
    np.testing.assert_array_equal(k.backlog, [2, 1, 0])
    np.testing.assert_allclose(k.response_p50, [3600, 1000, nan])
    np.testing.assert_allclose(k.resolution_p90, [7200 + 0.9 * 22800, 3600 + 0.9 * 10800, nan])


def test_kpis_match_pandas_groupby() -> None:
    g, response = _random_tickets(5000, 60, seed=2)
    rng = np.random.default_rng(3)
    resolution = np.where(rng.random(g.size) < 0.2, nan, rng.gamma(2, 20000, g.size))
    reopens = rng.poisson(0.2, g.size)
    is_open = np.isnan(resolution) | (rng.random(g.size) < 0.05)
    target = rng.uniform(1000, 5000, 60)
    k = ticket_kpis(g, response, resolution, reopens, is_open=is_open, response_target_s=target)
    frame = pd.DataFrame({"g": g, "resp": response, "res": resolution, "reopen": reopens, "open": is_open})
    by = frame.groupby("g")
    np.testing.assert_allclose(k.response_p90, by["resp"].quantile(0.9).to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(k.resolution_p50, by["res"].median().to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(k.backlog, by["open"].sum().to_numpy())
    met = frame.assign(met=frame["resp"] <= target[g]).groupby("g")["met"].sum() / by["resp"].count()
    np.testing.assert_allclose(k.response_within_target, met.to_numpy(), rtol=1e-12)
    fcr = (
        frame.assign(f=frame["res"].notna() & (frame["reopen"] == 0)).groupby("g")["f"].sum()
        / by["res"].count()
    )
    np.testing.assert_allclose(k.fcr_rate, fcr.to_numpy(), rtol=1e-12)
    assert np.isnan(k.resolution_within_target).all()


def test_results_are_read_only_and_inputs_validated() -> None:
    k = ticket_kpis(np.array([0, 1]), np.array([1.0, 2.0]), np.array([nan, 3.0]), np.array([0, 0]))
    with pytest.raises(ValueError, match="read-only"):
        k.n[0] = 5
    with pytest.raises(ValueError, match="group codes must lie in 0..1"):
        ticket_kpis(np.array([0, 2]), np.ones(2), np.ones(2), np.zeros(2), n_groups=2)
    with pytest.raises(ValueError, match="1-D integer"):
        grouped_percentiles(np.array([0.5]), np.ones(1), (50,))
    with pytest.raises(ValueError, match="resolution_s must have the same length"):
        ticket_kpis(np.array([0, 1]), np.ones(2), np.ones(3), np.zeros(2))
    with pytest.raises(ValueError, match="one value per group"):
        ticket_kpis(np.array([0, 1]), np.ones(2), np.ones(2), np.zeros(2), response_target_s=np.ones(3))
    with pytest.raises(ValueError, match="0..100"):
        grouped_percentiles(np.array([0]), np.ones(1), (150,))
