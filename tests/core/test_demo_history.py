"""The demo's thinner history weeks (issue 17, "a demo that tells the truth"): enough of them that
the data starts on the Monday on or before the day a phase asks the demo to cover."""

from __future__ import annotations

from datetime import date

from perception.core.demo import HISTORY_DENSITY, DemoContext, history_weeks

TODAY = date(2026, 12, 5)  # a Saturday; its week starts on Monday 30 November


def test_history_reaches_back_to_the_monday_before_the_covered_day():
    # 1 January 2026 is a Thursday: its week starts on Monday 29 December 2025, 48 weeks before
    # 30 November 2026; 26 of them are the full weeks, 22 the history.
    assert history_weeks(TODAY, 26, date(2026, 1, 1)) == 22
    ctx = DemoContext(weeks=26, today=TODAY, history_weeks=22)
    assert ctx.first_week_start == date(2025, 12, 29) and ctx.total_weeks == 48
    assert history_weeks(TODAY, 60, date(2026, 1, 1)) == 0  # the full weeks already cover it
    assert history_weeks(TODAY, 26, None) == 0


def test_history_weeks_are_thinner_never_empty():
    ctx = DemoContext(weeks=26, today=TODAY, history_weeks=22)
    assert [ctx.count(w, 10) for w in (0, 21, 22, 47)] == [round(10 * HISTORY_DENSITY), 2, 10, 10]
    assert ctx.count(0, 1) == 1 and ctx.share(21) == HISTORY_DENSITY and ctx.share(22) == 1.0
