"""The experience page's newest-respondents samples (key drivers, scale reliability) from the
per-respondent table (issue 19): the same rows in the same order as grouping the facts, for every
filter a page takes (period, region, service, tier, customer; a regional team's scope), with
respondents whose answers span weeks, regions and services, answers naming no dimension or
another one, and samples smaller and larger than the selection; the page then reads no fact for
them, and reads the facts again as soon as they change."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import event, select

from perception.analysis.services.filters import parse_filters
from tests.analysis.conftest import MONDAY
from tests.analysis.test_h19agg_rollup import FIFTY_FIVE, FILTERS, FOURTEEN, _args, national  # noqa: F401
from tests.facts import assert_same_figures


@pytest.fixture
def spanning(db_session, national, observe):  # noqa: F811 - the fixture imported above
    """The national answers and respondents the per-respondent rows must group like the facts: an
    old rating with a recent overall answer, an overall answer in one region and ratings in the
    other, NPS in one service and CSAT in another, a Likert answer naming no dimension (it dates
    the respondent for the drivers, not for the reliability), one naming a dimension outside the
    six (a reliability row of nothing rated), and a respondent of two cells with one of them
    outside the period."""
    org, catalog, extra = national
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    desk, net = catalog["DESK"], catalog["NET"]
    observe(r1, desk, "likert", [2], week=2, dimension="fault_handling", respondents=[77_777])
    observe(r1, desk, "csat", [4], week=13, respondents=[77_777])
    observe(r2, net, "csat", [5], week=12, respondents=[77_778])
    observe(r1, desk, "likert", [3], week=12, dimension="staff_attitude", respondents=[77_778])
    observe(r1, desk, "rating", [6], week=11, dimension="staff_attitude", scale=(1, 7), respondents=[77_778])
    observe(r1, net, "nps", [9], week=10, scale=(0, 10), respondents=[77_779])
    observe(r1, desk, "csat", [2], week=10, respondents=[77_779])
    observe(r2, desk, "likert", [1], week=13, respondents=[77_780])
    observe(r2, desk, "csat", [3], week=9, respondents=[77_780])
    observe(r2, desk, "likert", [4], week=13, dimension="not_one_of_the_six", respondents=[77_781])
    observe(r1, desk, "likert", [5], week=-60, dimension="response_speed", respondents=[77_782])
    observe(r1, desk, "csat", [1], week=8, respondents=[77_782])
    observe(r2, net, "likert", [2], week=8, dimension="response_speed", respondents=[77_782])
    return org, catalog, extra


def _rows(x, y=None):
    cols = x if y is None else np.column_stack([x, y])
    return [tuple(None if np.isnan(v) else float(v) for v in row) for row in cols]


def _samples(db_session, f, limit, use_rollup):
    from perception.analysis.services.experience import driver_matrix
    from perception.analysis.services.reliability import dimension_matrix

    out = []
    for kind in ("csat", "nps"):
        x, y, capped = driver_matrix(db_session, f, limit=limit, overall_kind=kind, use_rollup=use_rollup)
        out.append((_rows(x, y), capped))
    out.append(_rows(dimension_matrix(db_session, f, limit=limit, use_rollup=use_rollup)))
    return out


@pytest.mark.parametrize("period", [FOURTEEN, FIFTY_FIVE], ids=["14w", "55w"])
@pytest.mark.parametrize("limit", [1, 3, 10, 40, 500])
def test_samples_from_the_respondent_table_equal_the_facts(db_session, spanning, period, limit):
    from perception.analysis.services.respondents import respondents_usable
    from perception.analysis.services.rollup import refresh_rollup

    org, catalog, extra = spanning
    filters = [
        parse_filters(db_session, _args(org, catalog, extra, p, period), None, today=MONDAY) for p in FILTERS
    ]
    # A regional team: its scope, whatever it asks.
    filters.append(parse_filters(db_session, dict(period), frozenset({org["R2"]["region"].id}), today=MONDAY))
    want = [_samples(db_session, f, limit, False) for f in filters]
    refresh_rollup(db_session, force=True)
    assert respondents_usable(db_session)
    for f, expected in zip(filters, want, strict=True):
        assert _samples(db_session, f, limit, True) == expected, f
    if limit == 500:  # every respondent: the spanning ones are in, whole
        whole = want[0]
        assert any(row[1] == 2.0 and row[-1] == 4.0 for row in whole[0][0])  # 77_777, old rating
        assert any(row[3] == 6.0 and row[-1] == 5.0 for row in whole[0][0])  # 77_778, two regions
        assert any(all(v is None for v in row) for row in whole[2])  # 77_781, outside the six


def test_the_page_reads_no_fact_for_its_samples(db_session, spanning):
    """With current sums and a selection without SERVQUAL answers, the experience page reads no
    fact row at all, and shows what it shows from the facts."""
    from perception.analysis.services.experience import experience
    from perception.analysis.services.rollup import refresh_rollup

    org, catalog, extra = spanning
    for period in (FOURTEEN, FIFTY_FIVE):
        args = _args(org, catalog, extra, {"region": "R1"}, period)
        f = parse_filters(db_session, args, None, today=MONDAY)
        want = experience(db_session, f, use_rollup=False).to_dict()
        refresh_rollup(db_session, force=True)
        statements: list[str] = []
        engine = db_session.get_bind()

        def seen(conn, cursor, statement, parameters, context, executemany, statements=statements):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", seen)
        try:
            got = experience(db_session, f, use_rollup=True).to_dict()
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert_same_figures(got, want, path=str(period))
        assert got["driver_left_out"] and any(n > 0 for n in (d["n"] for d in got["driver_left_out"]))
        assert not [s for s in statements if "FROM experience_observation" in s]


def test_changed_facts_are_read_until_the_table_is_rebuilt(db_session, spanning, observe):
    """A fact written after the refresh: the samples read the facts (the table is never read
    stale), and after the next refresh the table again, with the new respondent."""
    from perception.analysis.models import ExperienceRespondentState
    from perception.analysis.services.respondents import respondents_usable
    from perception.analysis.services.rollup import refresh_rollup

    org, catalog, extra = spanning
    f = parse_filters(db_session, FOURTEEN, None, today=MONDAY)
    refresh_rollup(db_session, force=True)
    before = _samples(db_session, f, 10, True)
    observe(org["R1"]["region"], catalog["DESK"], "csat", [5], week=13, respondents=[99_999])
    observe(org["R1"]["region"], catalog["DESK"], "likert", [5], week=13, dimension="staff_attitude",
            respondents=[99_999])  # fmt: skip
    db_session.scalar(select(ExperienceRespondentState)).signature = "stale"  # as the counters would say
    db_session.flush()
    assert not respondents_usable(db_session)
    after = _samples(db_session, f, 10, True)
    assert after == _samples(db_session, f, 10, False) and after != before
    refresh_rollup(db_session)
    assert respondents_usable(db_session)
    assert _samples(db_session, f, 10, True) == after


def test_an_unknown_overall_answer_is_refused(db_session):
    from perception.analysis.services.respondents import newest_respondents

    f = parse_filters(db_session, FOURTEEN, None, today=MONDAY)
    with pytest.raises(ValueError, match="overall must be one of"):
        newest_respondents(db_session, f, 10, overall="ces")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_answer_patterns_as_counting_rows(seed):
    """The reliability's sets of dimensions rated, counted with NumPy: the counts and the order of
    ``Counter.most_common`` over the rows (ties in order of first occurrence)."""
    from collections import Counter

    from perception.analysis.services.reliability import answer_patterns

    rng = np.random.default_rng(seed)
    forms = rng.random((5, 6)) < 0.6
    x = np.where(forms[rng.integers(0, 5, 400)], rng.integers(1, 6, (400, 6)).astype(float), np.nan)
    x[rng.random((400, 6)) < 0.05] = np.nan  # some skip one
    want = Counter(tuple(bool(v) for v in row) for row in ~np.isnan(x)).most_common()
    assert answer_patterns(x) == want
    assert answer_patterns(np.empty((0, 6))) == []
    assert answer_patterns(x[:1]) == Counter([tuple(bool(v) for v in ~np.isnan(x[0]))]).most_common()
