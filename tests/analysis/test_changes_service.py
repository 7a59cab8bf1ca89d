"""Change over time on the real database (issue 14): complete weeks only, a minimum n, exact
tests and Benjamini-Hochberg across every measure tested at once; the overview and the alert
state the same rule. References: scipy's Fisher test, statsmodels' BH, the pre-issue z test."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from perception.analysis.services.changes import change_view
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.overview import overview
from scoring import detect_drop_shares
from tests.analysis.conftest import MONDAY

# Weeks 0..11 complete; week 12 is the current, unfinished one.
TODAY = MONDAY + timedelta(weeks=12, days=1)
FILTERS = AnalysisFilters(start=MONDAY, end=MONDAY + timedelta(weeks=13))


def _stable(observe, region, service, weeks=range(12), top=31, low=7):
    for week in weeks:
        observe(region, service, "csat", [5] * top + [2] * low, week=week)


def test_the_quoted_current_week_blip_is_not_compared(db_session, org, catalog, observe):
    """Issue 14: two answers of "2" in one region's current week gave "81.6% -> 50%, p = 0.028"
    (n = 6) with the old one-sided pooled z test against the earlier weeks."""
    r1, desk = org["R1"]["region"], catalog["DESK"]
    _stable(observe, r1, desk, weeks=range(5), top=31, low=7)  # 155 of 190 = 81.6%
    observe(r1, desk, "csat", [5, 4, 4, 3, 2, 2], week=12)  # 3 of 6 in the unfinished week
    old = detect_drop_shares([155, 3], [190, 6], baseline_periods=1, adjust="none")
    assert old.checks[0].p_value == pytest.approx(0.028, abs=0.002) and old.any_drop  # reproduced

    view = change_view(db_session, FILTERS, today=TODAY)
    assert view.window.end == MONDAY + timedelta(weeks=12)  # the current week is left out
    assert not view.flags
    # Even once that week is complete, six answers are below the minimum n: not tested.
    later = change_view(db_session, FILTERS, today=TODAY + timedelta(weeks=1))
    r1_csat = next(t for t in later.look.tests if t.unit == ("region", r1.id) and t.measure == "csat")
    assert r1_csat.n_recent == 6 and not r1_csat.tested and r1_csat.reason == "low_n"
    assert not later.flags


def test_a_real_drop_is_flagged_with_fisher_p_and_bh_q(db_session, org, catalog, observe):
    r1, r2, desk = org["R1"]["region"], org["R2"]["region"], catalog["DESK"]
    _stable(observe, r1, desk, weeks=range(8), top=18, low=2)  # 90%
    _stable(observe, r1, desk, weeks=range(8, 12), top=4, low=6)  # 40%
    _stable(observe, r2, desk, weeks=range(12), top=8, low=2)  # 80% throughout
    view = change_view(db_session, FILTERS, today=TODAY)
    flagged = {(row.unit, row.measure) for row in view.flags}
    assert (("region", r1.id), "csat") in flagged
    assert not any(row.region_id == r2.id for row in view.flags)
    t = next(row.test for row in view.flags if row.unit == ("region", r1.id))
    ref = stats.fisher_exact([[16, 24], [144, 16]], alternative="less").pvalue
    assert t.p_value == pytest.approx(ref) and t.method == "fisher_exact"
    tested = [x for x in view.look.tests if x.tested]
    q = multipletests([x.p_value for x in tested], method="fdr_bh")[1]
    assert [x.q_value for x in tested] == pytest.approx(q)
    assert (t.baseline_estimate, t.recent_estimate, t.n_baseline, t.n_recent) == pytest.approx(
        (0.9, 0.4, 160, 40)
    )


def test_nps_collapse_and_ces_drop_are_detected(db_session, org, catalog, observe):
    """Issue 14: "a planted NPS collapse in one region (+53 to -38 in four weeks) cannot be
    flagged"; CES was shown nowhere."""
    r1, desk = org["R1"]["region"], catalog["DESK"]
    for week in range(8):
        observe(r1, desk, "nps", [10] * 9 + [8] * 5 + [3], week=week, scale=(0, 10))  # +53
        observe(r1, desk, "ces", [6] * 10 + [5] * 5, week=week, scale=(1, 7))
    for week in range(8, 12):
        observe(r1, desk, "nps", [10] * 2 + [8] * 4 + [5] * 7, week=week, scale=(0, 10))  # -38
        observe(r1, desk, "ces", [3] * 8 + [4] * 5, week=week, scale=(1, 7))
    view = change_view(db_session, FILTERS, today=TODAY)
    by = {(row.unit, row.measure): row.test for row in view.flags}
    nps = by[(("region", r1.id), "nps")]
    assert nps.baseline_estimate == pytest.approx(100 * 8 / 15)
    assert nps.recent_estimate == pytest.approx(100 * -5 / 13)
    assert (("region", r1.id), "ces") in by
    ces = by[(("region", r1.id), "ces")]
    assert ces.method == "exact_permutation"
    # CES is scored on 0..100 (as the index), so 1..7 answers of other surveys compare.
    assert ces.baseline_estimate == pytest.approx(100 * ((10 * 5 + 5 * 4) / 15) / 6)


def test_overview_carries_the_same_look_and_ces(db_session, org, catalog, observe):
    r1, desk = org["R1"]["region"], catalog["DESK"]
    _stable(observe, r1, desk, weeks=range(8), top=18, low=2)
    _stable(observe, r1, desk, weeks=range(8, 12), top=4, low=6)
    observe(r1, desk, "ces", [7, 6, 5, 2], week=3, scale=(1, 7))
    view = overview(db_session, FILTERS, today=TODAY)
    assert [(row.unit, row.measure) for row in view.changes.flags] == [
        (row.unit, row.measure) for row in change_view(db_session, FILTERS, today=TODAY).flags
    ]
    assert view.total.ces.estimate == pytest.approx(5.0) and view.total.ces.n == 4
    assert view.to_dict()["changes"]["look"]["correction"] == "benjamini_hochberg"


def test_the_headline_is_the_overviews_total_and_trend_without_the_rest(db_session, org, catalog, observe):
    from perception.analysis.services.overview import headline

    r1, desk = org["R1"]["region"], catalog["DESK"]
    _stable(observe, r1, desk, weeks=range(6), top=9, low=3)
    observe(r1, desk, "ces", [7, 6, 5, 2], week=3, scale=(1, 7))
    view = overview(db_session, FILTERS, today=TODAY)
    total, trend = headline(db_session, FILTERS)
    assert total == view.total and trend == view.trend
    assert total.csat.n == 72 and total.csat.estimate == pytest.approx(0.75)  # 9 top of 12 a week


def test_alert_follows_the_same_rule_and_skips_the_current_week(db_session, org, catalog, observe):
    from perception.analysis.services.alert_checks import check_experience_drops

    r1, desk = org["R1"]["region"], catalog["DESK"]
    _stable(observe, r1, desk, weeks=range(12), top=31, low=7)
    observe(r1, desk, "csat", [2] * 30, week=12)  # a collapse, but in the unfinished week
    last_complete = MONDAY + timedelta(weeks=11)
    assert check_experience_drops(db_session, last_complete) == []
    # The same data a week later (week 12 complete): the look flags, so does the alert.
    specs = check_experience_drops(db_session, last_complete + timedelta(weeks=1))
    view = change_view(db_session, FILTERS, today=TODAY + timedelta(weeks=1))
    assert {s.occurrence_key.rsplit(":", 1)[0] for s in specs} == {
        f"experience_drop:{'-'.join(map(str, row.unit))}:{row.measure}" for row in view.flags
    }
    assert any("BH" in s.message_en and "q=" in s.message_en for s in specs)


def _voices(observe, region, service, *, customers=(5, 4, 4, 3, 5, 4, 4, 3, 5, 4)):
    """Customers rate fault handling the same every week; the region's weekly reports rate it 5
    in the baseline weeks and 2 in the recent ones."""
    for week in range(12):
        observe(region, service, "rating", customers, week=week, dimension="fault_handling")
        rating = 5 if week < 8 else 2
        observe(
            region, service, "rating", [rating] * 5, week=week, dimension="fault_handling", source="feedback"
        )


def test_weekly_report_ratings_are_not_a_customer_drop(db_session, org, catalog, observe):
    """Issue 14: the look mixed collectors' weekly-report ratings with customers' answers, so a
    team marking its region's fault handling down from 5 to 2 was flagged as a drop of the
    customers' dimension and index, though customers answered the same every week."""
    r1, desk = org["R1"]["region"], catalog["DESK"]
    _voices(observe, r1, desk)
    view = change_view(db_session, FILTERS, today=TODAY)
    assert not view.flags, [(row.unit, row.measure) for row in view.flags]
    tests = {(t.unit, t.measure): t for t in view.look.tests}
    dim = tests[(("region", r1.id), "fault_handling")]
    assert dim.tested and (dim.n_baseline, dim.n_recent) == (80, 40)  # customers' answers only
    assert dim.difference == pytest.approx(0.0)
    index = tests[(("region", r1.id), "index")]
    assert (index.n_baseline, index.n_recent) == (80, 40) and index.difference == pytest.approx(0.0)
    # The customers' own drop is still found, whatever the reports say.
    for week in range(8, 12):
        observe(r1, desk, "rating", [2] * 10, week=week, dimension="fault_handling")
    again = change_view(db_session, FILTERS, today=TODAY)
    flagged = {(row.unit, row.measure) for row in again.flags}
    assert {(("region", r1.id), "fault_handling"), (("region", r1.id), "index")} <= flagged


def test_no_drop_alert_from_weekly_report_ratings(db_session, org, catalog, observe):
    from perception.analysis.services.alert_checks import check_experience_drops

    r1, desk = org["R1"]["region"], catalog["DESK"]
    _voices(observe, r1, desk)
    assert check_experience_drops(db_session, MONDAY + timedelta(weeks=11)) == []


def test_the_simulation_builds_the_look_the_product_builds():
    """bench/bench_drift.py's organisations are looked at with the product's inputs: the same
    simulated answers, written as the histogram rows services.changes reads, give the same
    (unit, measure) tests with the same n and p-values, dimensions and index included."""
    import numpy as np

    from perception.analysis.services.changes import build_inputs
    from scoring.drift import detect_drops
    from scoring.drift_power import CALLBACK_DIMENSIONS, OrgShape, _answers, look_inputs

    shape = OrgShape(regions=3, services=2)
    answers = _answers(np.random.default_rng(5), shape, None)
    counts: dict[tuple, int] = {}

    def add(i, kind, dimension, scale, value):
        key = (bool(answers["recent"][i]), int(answers["region"][i]), int(answers["service"][i]),
               kind, dimension, *scale, float(value))  # fmt: skip
        counts[key] = counts.get(key, 0) + 1

    for i in range(answers["region"].size):
        add(i, "csat", "", (1, 5), 5 if answers["csat"][i] else 1)
        add(i, "nps", "", (0, 10), (0, 7, 10)[answers["nps"][i]])
        add(i, "ces", "", (1, 7), answers["ces"][i] + 1)
        if answers["callback"][i]:
            for code in CALLBACK_DIMENSIONS:
                add(i, "rating", code, (1, 5), answers[code][i] + 1)
    product = detect_drops(*build_inputs([(*k, n) for k, n in counts.items()]))
    simulated = detect_drops(*look_inputs(answers, shape))

    def summary(look):
        return {(t.unit, t.measure): (t.n_baseline, t.n_recent, t.tested) for t in look.tests}

    assert summary(product) == summary(simulated)
    assert {t.measure for t in product.tests if t.tested} >= {
        "csat",
        "nps",
        "ces",
        "index",
        *CALLBACK_DIMENSIONS,
    }
    p_product = {(t.unit, t.measure): t.p_value for t in product.tests if t.tested}
    p_simulated = {(t.unit, t.measure): t.p_value for t in simulated.tests if t.tested}
    assert p_simulated == pytest.approx(p_product, rel=1e-9)


@pytest.fixture
def pinned_clock(app):
    """The organisation's clock stopped on TODAY (04:00 UTC, noon in Shanghai) for the request."""
    from datetime import datetime, time

    previous = app.config.get("CLOCK_NOW")
    app.config["CLOCK_NOW"] = datetime.combine(TODAY, time(4, 0))
    yield
    app.config["CLOCK_NOW"] = previous


@pytest.mark.parametrize(("language", "words"), [("en", "Benjamini-Hochberg"), ("zh-CN", "错误发现率")])
def test_overview_page_states_the_rule_and_names_the_drop(
    login_as, db_session, org, catalog, observe, pinned_clock, language, words
):
    r1, desk = org["R1"]["region"], catalog["DESK"]
    _stable(observe, r1, desk, weeks=range(8), top=18, low=2)
    _stable(observe, r1, desk, weeks=range(8, 12), top=4, low=6)
    observe(r1, desk, "csat", [1] * 40, week=12)  # the unfinished week: left out
    c = login_as("analyst")
    html = c.get(
        "/analysis/overview?from=2026-03-02&to=2026-05-31", headers={"Accept-Language": language}
    ).get_data(as_text=True)
    assert words in html
    voice = {
        "en": "Collectors' weekly-report ratings are not tested for drops",
        "zh-CN": "采集员每周报告中的评分不做下降检验",
    }
    assert voice[language] in html
    assert "90% → 40%" in html and "n=160 / 40" in html  # week 12's 40 answers of "1" not counted
    assert ("北京" if language == "zh-CN" else "Beijing") in html


def test_kpi_vs_experience_page_shows_the_kpi_interval_and_candidate_reasons(
    login_as, db_session, org, catalog, observe, link_kpi, kpi_value
):
    r1, r2, desk = org["R1"]["region"], org["R2"]["region"], catalog["DESK"]
    d = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    for week in range(4):
        kpi_value(d, desk, r1, 0.97, 0.95, week=week, n=1000)  # evidenced on both sides
        observe(r1, desk, "csat", [5] * 12 + [2] * 13, week=week)
        kpi_value(d, desk, r2, 0.974, 0.95, week=week, n=10)  # 38-40 tickets: KPI side not evidenced
        observe(r2, desk, "csat", [5] * 12 + [2] * 13, week=week)
    html = (
        login_as("analyst")
        .get("/analysis/kpi-vs-experience?from=2026-W10&to=2026-W13")
        .get_data(as_text=True)
    )
    assert (
        "the KPI&#39;s own interval includes its target" in html
        or "the KPI's own interval includes its target" in html
    )
    assert "0.97 [0.964–0.975]" in html


def _inputs_row_by_row(rows):
    """The change look's inputs built one row and one unit at a time (how build_inputs read them
    before issue 19 grouped them with NumPy): the reference the grouped build must equal."""
    from collections import defaultdict

    from perception.analysis.services.changes import DIMENSION_CODES, _category, _order
    from scoring.drift import DimensionSample, IndexInput, ScoredInput

    counts = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    sums = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for recent, region, service, kind, dimension, lo, hi, value, n in rows:
        units = [("all",), ("region", int(region))]
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
        for unit in units:
            counts[(unit, measure)][score][1 if recent else 0] += int(n)
            if measure in DIMENSION_CODES:
                acc = sums[(unit, bool(recent))][measure]
                acc[0] += int(n)
                acc[1] += y * int(n)
                acc[2] += y * y * int(n)
    scored_inputs = []
    for (unit, measure), table in sorted(counts.items(), key=lambda kv: _order(kv[0])):
        scores = tuple(sorted(table))
        scored_inputs.append(
            ScoredInput(unit, measure, scores, tuple(table[s][0] for s in scores),
                        tuple(table[s][1] for s in scores), 100.0 if measure == "nps" else 1.0)
        )  # fmt: skip
    index_inputs = []
    for unit in sorted({u for u, _ in sums}, key=lambda u: _order((u, "index"))):
        sides = [
            {d: DimensionSample(int(v[0]), v[1], v[2]) for d, v in sums.get((unit, recent), {}).items()}
            for recent in (False, True)
        ]
        index_inputs.append(IndexInput(unit, sides[0], sides[1]))
    return scored_inputs, index_inputs


def test_grouped_inputs_equal_the_row_by_row_build():
    """Issue 19: the look's inputs are grouped with NumPy; every count, score, order and sum
    equals the row-by-row build, exactly (the sums accumulate in the same order)."""
    import random

    from perception.analysis.services.changes import build_inputs

    rng = random.Random(19)
    kinds = [
        ("csat", None, 1, 5), ("nps", None, 0, 10), ("ces", None, 1, 7), ("likert", "staff_attitude", 1, 5),
        ("rating", "response_speed", 1, 7), ("likert", "unknown_code", 1, 5), ("rating", None, 1, 5),
        ("likert", "fault_handling", 3, 3),
    ]  # fmt: skip
    rows = []
    for _ in range(2000):
        kind, dim, lo, hi = rng.choice(kinds)
        value = rng.randint(lo, hi)
        rows.append(
            (rng.random() < 0.4, rng.choice([3, 7, 11]), rng.choice([-1, 2, 5]), kind, dim or "",
             float(lo), float(hi), float(value), rng.randint(1, 9))
        )  # fmt: skip
    got = build_inputs(rows)
    want = _inputs_row_by_row(rows)
    assert got[0].inputs() == want[0]
    assert [(i.unit, i.baseline, i.recent) for i in got[1].inputs()] == [
        (i.unit, i.baseline, i.recent) for i in want[1]
    ]
    assert len(got[0]) > 50 and len(got[1]) > 10
    for nothing in ([], [(True, 3, 2, "rating", "", 1.0, 5.0, 4.0, 2)]):
        scored, indices = build_inputs(nothing)
        assert scored.inputs() == [] and indices.inputs() == []
