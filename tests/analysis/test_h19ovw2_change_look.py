"""The overview's change look at a national provider's size (issue 19): kept per process while the
answers and names are unchanged, so the 14- and 52-week overviews (one window) and every warm
load read no histogram; computed again as soon as an answer is written; a regional team's look is
its own; the page states when the look was computed. The kept look equals the look computed from
the facts, test for test."""

from __future__ import annotations

from datetime import timedelta

import pytest

from perception.analysis.services import changes
from perception.analysis.services.changes import change_view, change_window
from perception.analysis.services.filters import AnalysisFilters
from tests.analysis.conftest import MONDAY

TODAY = MONDAY + timedelta(weeks=12, days=1)
FILTERS = AnalysisFilters(start=MONDAY, end=MONDAY + timedelta(weeks=13))


@pytest.fixture(autouse=True)
def _empty_keep():
    changes._kept.forget()
    yield
    changes._kept.forget()


def _data(observe, org, catalog):
    r1, r2, desk = org["R1"]["region"], org["R2"]["region"], catalog["DESK"]
    for week in range(12):
        top = 18 if week < 8 else 4
        observe(r1, desk, "csat", [5] * top + [2] * 6, week=week)
        observe(r2, desk, "csat", [5] * 8 + [2] * 2, week=week)
        observe(r1, desk, "nps", [10] * 5 + [7] * 3 + [2] * 2, week=week, scale=(0, 10))
        observe(r2, None, "likert", [5, 4, 4, 3, 2, 5, 1], week=week, dimension="staff_attitude")
        observe(r2, None, "ces", [7, 6, 3], week=week, scale=(1, 7))
    return r1, r2


def _histograms(monkeypatch):
    """A counter of the reads of the facts' histogram (changes._histogram_statement, made for
    each read whichever way its rows come back)."""
    seen: list[object] = []
    read = changes._histogram_statement

    def counted(*args, **kwargs):
        seen.append(args[2])
        return read(*args, **kwargs)

    monkeypatch.setattr(changes, "_histogram_statement", counted)
    return seen, lambda: monkeypatch.setattr(changes, "_histogram_statement", read)


def test_the_look_is_kept_until_an_answer_changes(db_session, org, catalog, observe, monkeypatch):
    r1, _ = _data(observe, org, catalog)
    first = change_view(db_session, FILTERS, today=TODAY)
    assert first.computed_at is not None and first.flags
    seen, stop = _histograms(monkeypatch)
    try:
        # The 52-week overview has the same window: the same look, no histogram read again.
        year = AnalysisFilters(start=FILTERS.end - timedelta(weeks=52), end=FILTERS.end, grain="month")
        assert change_view(db_session, year, today=TODAY) is first
        assert change_view(db_session, FILTERS, today=TODAY) is first
        assert seen == []
        # A new answer: computed again, and the answer counts.
        observe(r1, catalog["DESK"], "csat", [1] * 30, week=11)
        again = change_view(db_session, FILTERS, today=TODAY)
        assert len(seen) == 1
    finally:
        stop()
    assert again is not first
    csat = {t.unit: t for t in again.look.tests if t.measure == "csat"}
    before = {t.unit: t for t in first.look.tests if t.measure == "csat"}
    assert csat[("region", r1.id)].n_recent == before[("region", r1.id)].n_recent + 30


def test_the_kept_look_equals_the_computed_one_and_keeps_the_scope(db_session, org, catalog, observe):
    r1, r2 = _data(observe, org, catalog)
    everyone = change_view(db_session, FILTERS, today=TODAY)
    window = change_window(FILTERS, TODAY)
    assert everyone.look == changes.computed_view(db_session, FILTERS, window).look
    # A regional team: its own look, never the organisation's kept one.
    team = AnalysisFilters(start=FILTERS.start, end=FILTERS.end, region_ids=frozenset({r2.id}))
    own = change_view(db_session, team, today=TODAY)
    assert own is not everyone
    assert own.look == changes.computed_view(db_session, team, window).look
    units = {t.unit for t in own.look.tests}
    regions = {u[1] for u in units if u[0] == "region"} | {u[2] for u in units if u[0] == "cell"}
    assert regions == {r2.id}
    assert not any(row.region_id == r1.id for row in own.flags)
    assert change_view(db_session, team, today=TODAY) is own
    assert change_view(db_session, FILTERS, today=TODAY) is everyone


@pytest.fixture
def pinned_clock(app):
    from datetime import datetime, time

    previous = app.config.get("CLOCK_NOW")
    app.config["CLOCK_NOW"] = datetime.combine(TODAY, time(4, 0))
    yield
    app.config["CLOCK_NOW"] = previous


@pytest.mark.parametrize(("language", "words"), [("en", "Computed at "), ("zh-CN", "（UTC）时的回答计算")])
def test_the_page_says_when_the_look_was_computed(
    login_as, db_session, org, catalog, observe, pinned_clock, language, words
):
    _data(observe, org, catalog)
    c = login_as("analyst")
    html = c.get(
        "/analysis/overview?from=2026-03-02&to=2026-05-31", headers={"Accept-Language": language}
    ).get_data(as_text=True)
    assert 'data-testid="change-computed"' in html and words in html
