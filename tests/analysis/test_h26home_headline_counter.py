"""The manager home's headline is kept under a counter of its own (data_version.HOME_HEADLINE), which
a survey answer of the current week leaves alone: the headline compares the last four complete
weeks with the four before, so such an answer is in neither (issue 19).

Observed before: the home read the HEADLINE counter, which every answer moves (the overview's
figures include the current week), so at a national provider's size, where answers come every few
seconds, nearly every manager's first screen computed the headline again: about a second.

Own SQLite files: the counters move at commits, which the rolled-back fixture never makes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert

from perception.kpi.models import KpiDefinition
from perception.kpi.services.data_version import HEADLINE, HOME_HEADLINE
from perception.setup.models import catalog  # noqa: F401 - the tables the facts refer to, for create_all
from tests.analysis.test_lead_change_look_counter import (
    WRITES,
    _moved,
    _this_monday,
    engine,  # noqa: F401 - the fixture
)
from tests.surveys.conftest import answer_page, seed_personal_link
from tests.surveys.test_race import INVITED, _app

pytestmark = pytest.mark.own_sqlite


def _kpi_definition(conn: Any, _monday: Any) -> None:
    conn.execute(
        insert(KpiDefinition.__table__),
        {"code": "K1", "name_zh": "一", "name_en": "One", "unit": "%", "direction": "higher"},
    )


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("this week, declared", (1, 0)),
        ("next week, declared", (1, 0)),
        ("last week, declared", (1, 1)),
        ("last week, declared, of a source the look does not test", (1, 1)),  # reports count here
        ("this week, not declared", (1, 1)),  # an import, a correction: any week
        ("this week declared, and a region renamed", (1, 1)),
        ("a KPI definition", (1, 1)),
    ],
)
def test_only_declared_answers_of_a_begun_week_leave_the_headline_current(engine, case, expected):  # noqa: F811
    monday = _this_monday()
    write = {**WRITES, "a KPI definition": _kpi_definition}[case]
    assert _moved(engine, lambda conn: write(conn, monday), (HEADLINE, HOME_HEADLINE)) == expected


def test_an_answer_of_the_current_week_leaves_the_home_s_headline_kept(tmp_path, monkeypatch):
    from perception.analysis import home
    from perception.core.clock import current_clock
    from perception.core.extensions import db
    from perception.core.periods import week_start

    app = _app(f"sqlite:///{tmp_path / 'home.sqlite'}", tmp_path, monkeypatch, {})
    token = seed_personal_link(app, *INVITED, days=1)
    computed: list[Any] = []
    measures = home._measures
    monkeypatch.setattr(home, "_measures", lambda *a, **k: computed.append(a[1:3]) or measures(*a, **k))
    home._kept.forget()

    def headline() -> Any:
        with app.app_context():
            found = home.headline(db.session, week_start(current_clock().today()), None)
            db.session.remove()
            return found

    first = headline()
    assert len(computed) == 2  # the last four weeks and the four before
    client = app.test_client()
    assert client.get(f"/s/t/{token}").status_code == 303
    assert answer_page(client, "/s/r", {"csat": "5"}, action="submit").status_code == 303
    assert headline() is first and len(computed) == 2  # kept: the answer is of the current week
    home._kept.forget()
