"""IPA and key drivers against scipy / statsmodels regressions and the Shapley definition."""

import itertools
import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.outliers_influence import variance_inflation_factor

from scoring.drivers import importance_performance, key_drivers, relative_weights, shapley_r2

NAMES = ["speed", "fix", "quality", "attitude"]


@pytest.fixture
def data():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(250, 4))
    x[:, 1] += 0.6 * x[:, 0]
    y = x @ np.array([0.9, 0.5, 0.25, 0.0]) + rng.normal(size=250)
    return x, y


def _r2(x, y, cols):
    if not cols:
        return 0.0
    return sm.OLS(y, sm.add_constant(x[:, list(cols)])).fit().rsquared


def test_ipa_correlation_importance_matches_scipy(data):
    x, y = data
    r = importance_performance(x, y, NAMES)
    for d, point in enumerate(r.points):
        assert point.importance == pytest.approx(stats.pearsonr(x[:, d], y).statistic)
        assert point.performance == pytest.approx(x[:, d].mean())


def test_ipa_regression_importance_matches_standardised_ols(data):
    x, y = data
    r = importance_performance(x, y, NAMES, method="regression")
    zx = (x - x.mean(0)) / x.std(0, ddof=1)
    zy = (y - y.mean()) / y.std(ddof=1)
    beta = sm.OLS(zy, sm.add_constant(zx)).fit().params[1:]
    assert [p.importance for p in r.points] == pytest.approx(beta.tolist())


def test_ipa_quadrants_follow_martilla_james():
    # importance via correlation; performance by construction
    rng = np.random.default_rng(1)
    n = 400
    base = rng.normal(size=(n, 4))
    y = base[:, 0] + base[:, 1] + 0.05 * rng.normal(size=n)
    x = base + np.array([-1.0, 1.0, -1.0, 1.0])  # dims 0 and 2 perform low, 1 and 3 high
    quads = {p.dimension: p.quadrant for p in importance_performance(x, y, NAMES).points}
    assert quads == {
        "speed": "concentrate_here",
        "fix": "keep_up",
        "quality": "low_priority",
        "attitude": "possible_overkill",
    }


def test_shapley_equals_average_over_orderings_with_statsmodels_r2(data):
    x, y = data
    r = key_drivers(x, y, NAMES, method="shapley")
    k = x.shape[1]
    expected = np.zeros(k)
    for order in itertools.permutations(range(k)):
        for pos, j in enumerate(order):
            expected[j] += _r2(x, y, order[: pos + 1]) - _r2(x, y, order[:pos])
    expected /= math.factorial(k)
    assert [d.weight for d in r.drivers] == pytest.approx(expected.tolist(), abs=1e-10)
    assert r.r_squared == pytest.approx(_r2(x, y, range(k)))


def test_shapley_two_predictors_closed_form(data):
    # Two predictors: phi_1 = (r_1^2 + R^2 - r_2^2) / 2 (Lindeman, Merenda & Gold 1980).
    x, y = data
    r12 = _r2(x, y, [0, 1])
    r1, r2 = _r2(x, y, [0]), _r2(x, y, [1])
    rxx = np.corrcoef(x[:, :2], rowvar=False)
    rxy = np.array([np.corrcoef(x[:, j], y)[0, 1] for j in range(2)])
    assert shapley_r2(rxx, rxy) == pytest.approx([(r1 + r12 - r2) / 2, (r2 + r12 - r1) / 2])


def test_relative_weights_orthogonal_predictors_equal_squared_correlations():
    rng = np.random.default_rng(4)
    q, _ = np.linalg.qr(rng.normal(size=(200, 3)) - 0.0)
    x = q - q.mean(0)  # exactly uncorrelated columns after centring
    x, _ = np.linalg.qr(x)
    y = x @ [3.0, 2.0, 1.0] + rng.normal(size=200) * 0.1
    r = key_drivers(x, y, ["a", "b", "c"])
    for j, d in enumerate(r.drivers):
        assert d.weight == pytest.approx(stats.pearsonr(x[:, j], y).statistic ** 2, abs=1e-6)


def test_relative_weights_sum_to_r2_and_rank(data):
    x, y = data
    r = key_drivers(x, y, NAMES, n_boot=100)
    assert sum(d.weight for d in r.drivers) == pytest.approx(_r2(x, y, range(4)))
    assert sum(d.share for d in r.drivers) == pytest.approx(1.0)
    assert [d.rank for d in r.drivers] == [1, 2, 3, 4]
    for d in r.drivers:
        assert d.ci_low is not None and d.ci_high is not None
        assert d.ci_low <= d.weight <= d.ci_high
    rxx = np.corrcoef(x, rowvar=False)
    rxy = np.array([np.corrcoef(x[:, j], y)[0, 1] for j in range(4)])
    assert relative_weights(rxx, rxy) == pytest.approx([d.weight for d in r.drivers])


def test_collinearity_warning_and_vif_match_statsmodels():
    rng = np.random.default_rng(9)
    a = rng.normal(size=300)
    x = np.column_stack([a, a + 0.1 * rng.normal(size=300), rng.normal(size=300)])
    y = x.sum(axis=1) + rng.normal(size=300)
    r = key_drivers(x, y, ["a", "a_twin", "c"])
    assert r.collinear and r.warnings[0].code == "drivers_collinear"
    assert r.warnings[0].zh and r.warnings[0].en
    exog = sm.add_constant(x)
    for j, d in enumerate(r.drivers):
        assert d.vif == pytest.approx(variance_inflation_factor(exog, j + 1), rel=1e-8)
    calm = key_drivers(rng.normal(size=(300, 3)), rng.normal(size=300), ["a", "b", "c"])
    assert not calm.collinear and calm.warnings == ()
