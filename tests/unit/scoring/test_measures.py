"""Grouped measures against per-group references computed independently (Python counting plus
statsmodels / scipy intervals)."""

import json
from collections import defaultdict

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from scoring.grouping import group_index
from scoring.intervals import nps_interval
from scoring.measures import (
    bottom_box_by_group,
    ces_by_group,
    csat,
    csat_by_group,
    mean_by_group,
    mean_from_stats,
    nps,
    nps_by_group,
    nps_from_counts,
    share_from_counts,
    top_box_by_group,
)


@pytest.fixture
def survey():
    rng = np.random.default_rng(3)
    n = 600
    region = rng.choice(["east", "north", "west"], n)
    service = rng.integers(1, 4, n)
    csat_scores = rng.integers(1, 6, n).astype(float)
    csat_scores[rng.random(n) < 0.05] = np.nan
    ltr = rng.integers(0, 11, n).astype(float)
    return region, service, csat_scores, ltr


def _by_key(keys_a, keys_b, values):
    out = defaultdict(list)
    for a, b, v in zip(keys_a, keys_b, values, strict=True):
        if not np.isnan(v):
            out[(a.item() if hasattr(a, "item") else a, int(b))].append(v)
    return out


def test_csat_by_two_keys_matches_statsmodels(survey):
    region, service, scores, _ = survey
    results = csat_by_group(scores, (region, service))
    ref = _by_key(region, service, scores)
    assert [r.key for r in results] == sorted(ref)
    for r in results:
        values = ref[r.key]
        hits = sum(v >= 4 for v in values)
        assert r.n == len(values) and r.successes == hits
        assert r.estimate == pytest.approx(hits / len(values))
        assert (r.ci_low, r.ci_high) == pytest.approx(proportion_confint(hits, len(values), method="wilson"))
        assert r.low_sample == (len(values) < 30)


def test_top_and_bottom_box(survey):
    region, _, scores, _ = survey
    top = {r.key: r for r in top_box_by_group(scores, region)}
    bottom = {r.key: r for r in bottom_box_by_group(scores, region, boxes=2)}
    for key in ("east", "north", "west"):
        values = scores[(region == key) & ~np.isnan(scores)]
        assert top[(key,)].successes == int(np.sum(values == 5))
        assert bottom[(key,)].successes == int(np.sum(values <= 2))


def test_nps_by_group_counts_and_interval(survey):
    region, _, _, ltr = survey
    for r in nps_by_group(ltr, region):
        values = ltr[region == r.key[0]]
        prom, det = int(np.sum(values >= 9)), int(np.sum(values <= 6))
        assert r.estimate == pytest.approx(100 * (prom - det) / values.size)
        assert (r.promoters, r.detractors, r.n) == (prom, det, values.size)
        low, high = nps_interval([prom], [det], [values.size])
        assert (r.ci_low, r.ci_high) == pytest.approx((100 * low[0], 100 * high[0]))


def test_nps_worked_example():
    # 10 answers: 9, 10, 10 promoters; 7, 8 passives; 0, 3, 5, 6, 6 detractors -> 30% - 50% = -20
    r = nps([9, 10, 10, 7, 8, 0, 3, 5, 6, 6])
    assert r.estimate == pytest.approx(-20.0)
    assert r.low_sample and r.n == 10
    assert nps_from_counts(3, 2, 5).estimate == pytest.approx(-20.0)


def test_mean_and_ces_match_scipy(survey):
    region, _, scores, _ = survey
    for r in mean_by_group(scores, region):
        values = scores[(region == r.key[0]) & ~np.isnan(scores)]
        assert r.estimate == pytest.approx(values.mean())
        assert r.sd == pytest.approx(values.std(ddof=1))
        ref = stats.t.interval(0.95, values.size - 1, loc=values.mean(), scale=stats.sem(values))
        assert (r.ci_low, r.ci_high) == pytest.approx(ref)
    ces = ces_by_group([1, 2, 7, 6, 5], None)[0]
    assert ces.measure == "ces" and ces.estimate == pytest.approx(4.2)
    m = mean_from_stats(4.2, 1.0, 25)
    assert (m.ci_low, m.ci_high) == pytest.approx(stats.t.interval(0.95, 24, loc=4.2, scale=0.2))


def test_share_from_counts_and_overall_csat():
    r = share_from_counts(45, 60, key=("east",), measure="csat")
    assert (r.ci_low, r.ci_high) == pytest.approx(proportion_confint(45, 60, method="wilson"))
    assert csat([5, 4, 3, 2, 1]).estimate == pytest.approx(0.4)


def test_scores_outside_scale_are_rejected():
    with pytest.raises(ValueError):
        csat_by_group([1, 6])
    with pytest.raises(ValueError):
        nps_by_group([11])


def test_low_sample_threshold_is_configurable():
    r = csat_by_group([5] * 10, min_n=10)[0]
    assert not r.low_sample
    assert csat_by_group([5] * 9, min_n=10)[0].low_sample


def test_group_index_reused_and_json_serialisable(survey):
    region, service, scores, ltr = survey
    index = group_index((region, service), scores.size)
    assert len(csat_by_group(scores, index)) == len(nps_by_group(ltr, index)) == index.n_groups
    payload = json.loads(csat_by_group(scores, index)[0].to_json())
    assert payload["key"] == ["east", 1] and payload["measure"] == "csat"


def test_all_missing_group_serialises_nan_as_null():
    r = mean_by_group([np.nan, 4.0], ["a", "b"])[0]
    assert r.n == 0
    assert json.loads(r.to_json())["estimate"] is None


def test_null_tier_from_sql_is_its_own_group():
    tier = np.array(["gold", None, "silver", None, "gold"], dtype=object)
    region = np.array(["a", "a", "a", "b", "b"])
    results = csat_by_group([5, 4, 1, 2, 5], (region, tier))
    assert [r.key for r in results] == [
        ("a", "gold"),
        ("a", "silver"),
        ("a", None),
        ("b", "gold"),
        ("b", None),
    ]
    assert [r.successes for r in results] == [1, 0, 1, 1, 0]
