"""The overview page's change summary computed without the whole look (issue 19): every p-value
enters the Benjamini-Hochberg correction as before, the tests are built for the flags alone.
The summary must be the whole look's (same flags with the same n, estimates to the bit, p and q,
same counts), and both must equal the one-by-one reference (scipy / statsmodels based, from
before issue 19) on realistic histogram rows: small and large regions, ties, empty and
under-minimum cells, mixed scales, an unknown dimension."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from statsmodels.stats.multitest import multipletests

from perception.analysis.services import changes
from perception.analysis.services.alert_checks import check_experience_drops
from perception.analysis.services.changes import ChangeSummary, build_inputs, change_summary, change_view
from perception.analysis.services.overview import overview
from scoring.drift import detect_drops, drop_tests
from tests.analysis.conftest import MONDAY
from tests.analysis.test_changes_service import FILTERS, TODAY, _inputs_row_by_row
from tests.unit.scoring.test_h19chg_look_equality import _old_index, _old_test

SCALES = [
    ("csat", "", 1, 5), ("nps", "", 0, 10), ("ces", "", 1, 7), ("likert", "staff_attitude", 1, 5),
    ("rating", "response_speed", 1, 5), ("rating", "response_speed", 1, 7),
    ("likert", "fault_handling", 1, 5),
    ("rating", "communication", 1, 5), ("likert", "unknown_code", 1, 5), ("rating", "", 1, 5),
]  # fmt: skip


def _rows(seed: int, regions: int = 30, services: int = 12) -> list[tuple]:
    """Histogram rows as services.changes._histogram reads them: a few large regions (every
    measure tested, some dropping), many small ones (cells under the minimum), empty cells,
    answers without a service, all answers at one value in some cells (no variation)."""
    rng = random.Random(seed)
    counts: dict[tuple, int] = {}
    for region in range(1, regions + 1):
        size = 60 if region <= 4 else (8 if region <= 12 else 1)  # answers per service and side
        dropping = region in (1, 3)
        for service in [-1, *range(1, services + 1)]:
            if rng.random() < 0.25:
                continue  # an empty cell
            flat = rng.random() < 0.05
            for recent in (False, True):
                n = rng.randint(size // 2, size * (2 if not recent else 1))
                for kind, dimension, lo, hi in SCALES:
                    if rng.random() < 0.2:
                        continue
                    for _ in range(n):
                        top = hi if not (recent and dropping) else (lo + hi) // 2
                        value = hi if flat else rng.randint(lo, top)
                        key = (recent, region, service, kind, dimension, float(lo), float(hi), float(value))
                        counts[key] = counts.get(key, 0) + 1
    rows = [(*k, n) for k, n in counts.items()]
    rng.shuffle(rows)  # the database's GROUP BY order is not the key's
    return rows


def _same_number(got: float, want: float) -> bool:
    return got == want or (math.isnan(got) and math.isnan(want))


@pytest.mark.parametrize("seed", [20, 21])
def test_the_summary_of_the_tests_is_the_whole_look_and_the_reference(seed):
    rows = _rows(seed)
    scored, indices = build_inputs(rows)
    # The inputs equal the row-by-row build (the reference before issue 19 grouped them).
    ref_scored, ref_indices = _inputs_row_by_row(rows)
    assert scored.inputs() == ref_scored
    assert indices.inputs() == ref_indices

    tests = drop_tests(scored, indices)
    look = detect_drops(scored, indices)
    assert tests.flags() == look.flags and len(look.flags) >= 5
    assert (len(tests), tests.n_tested) == (len(look.tests), look.n_tested)
    assert 0 < look.n_tested < len(look.tests)
    assert {t.reason for t in look.tests} == {"", "low_n", "no_variation"}

    # The one-by-one reference: estimates to the bit, p to 1e-12, q from statsmodels' BH.
    old = [_old_test(x) for x in ref_scored]
    old_index = [_old_index(x) for x in ref_indices]
    p_all = [o[7] for o in old] + [o[6] for o in old_index]
    at = [j for j, p in enumerate(p_all) if not math.isnan(p)]
    q_all = [math.nan] * len(p_all)
    for j, q in zip(at, multipletests([p_all[j] for j in at], method="fdr_bh")[1].tolist(), strict=True):
        q_all[j] = q
    flagged = [j for j in at if q_all[j] <= 0.05]
    assert [(t.unit, t.measure) for t in tests.flags()] == [
        (look.tests[j].unit, look.tests[j].measure) for j in flagged
    ]
    for j, t in zip(flagged, tests.flags(), strict=True):
        if j < len(old):
            ok, reason, method, n_a, n_b, ea, eb, p = old[j]
            assert t.method == method
        else:
            ok, reason, n_a, n_b, ea, eb, p = old_index[j - len(old)]
        assert (t.tested, t.reason, t.n_baseline, t.n_recent) == (ok, reason, n_a, n_b)
        assert _same_number(t.baseline_estimate, ea) and _same_number(t.recent_estimate, eb)
        assert t.p_value == pytest.approx(p, rel=1e-12, abs=1e-18)
        assert t.q_value == pytest.approx(q_all[j], rel=1e-12, abs=1e-18)
    assert tests.n_tested == len(at)


def test_no_answers_and_answers_of_no_measure():
    for rows in (
        [],
        [(True, 1, 2, "rating", "", 1.0, 5.0, 3.0, 40), (False, 1, 2, "rating", "", 1.0, 5.0, 3.0, 40)],
    ):
        tests = drop_tests(*build_inputs(rows))
        assert (len(tests), tests.n_tested, tests.flags()) == (0, 0, ())


def _drop(observe, org, catalog):
    r1, r2, desk = org["R1"]["region"], org["R2"]["region"], catalog["DESK"]
    for week in range(12):
        top, low = (18, 2) if week < 8 else (4, 6)
        observe(r1, desk, "csat", [5] * top + [2] * low, week=week)
        observe(r1, desk, "nps", [10] * top + [3] * low, week=week, scale=(0, 10))
        observe(r2, desk, "csat", [5] * 8 + [2] * 2, week=week)
        observe(r2, desk, "csat", [4] * 3, week=week)  # ties at the top-2 box
    observe(r2, catalog["NET"], "csat", [5, 2], week=11)  # a cell under the minimum


def test_the_page_summary_equals_the_whole_look_on_the_database(db_session, org, catalog, observe):
    _drop(observe, org, catalog)
    summary = change_summary(db_session, FILTERS, today=TODAY)
    changes.forget_kept()
    whole = ChangeSummary.of(change_view(db_session, FILTERS, today=TODAY))
    assert summary.flags and summary.untested > 0
    for name in ("window", "flags", "n_tests", "n_tested", "alpha", "min_n_recent", "min_n_baseline"):
        assert getattr(summary, name) == getattr(whole, name), name
    # The page reads the summary; the API the whole look, with the same flags.
    page = overview(db_session, FILTERS, today=TODAY, whole_look=False).changes
    api = overview(db_session, FILTERS, today=TODAY).changes
    assert page.flags == api.flags == summary.flags


def test_the_alert_raises_the_flags_of_the_look(db_session, org, catalog, observe):
    _drop(observe, org, catalog)
    whole = change_view(db_session, FILTERS, today=TODAY)
    changes.forget_kept()
    specs = check_experience_drops(db_session, MONDAY + timedelta(weeks=11))
    assert whole.flags and len(specs) == len(whole.flags)
    for spec, row in zip(specs, whole.flags, strict=True):
        t = row.test
        assert spec.occurrence_key.startswith(f"experience_drop:{changes.unit_key(row.unit)}:{t.measure}:")
        assert f"p={t.p_value:.2g}, q={t.q_value:.2g}" in spec.message_en
