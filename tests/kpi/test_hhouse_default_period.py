"""The attainment page's default period (used by the page and by the hourly job that computes its
default view ahead, so both must give the same key): the four months before this one and this
one, [first day, first day of next month), worked by hand across the year's ends."""

from __future__ import annotations

from datetime import date

import pytest

from perception.kpi.services.attainment_kept import default_period


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 5, 17), (date(2026, 1, 1), date(2026, 6, 1))),
        (date(2026, 1, 1), (date(2025, 9, 1), date(2026, 2, 1))),
        (date(2026, 4, 30), (date(2025, 12, 1), date(2026, 5, 1))),
        (date(2026, 12, 31), (date(2026, 8, 1), date(2027, 1, 1))),
    ],
)
def test_the_default_period(today, expected):
    assert default_period(today) == expected
