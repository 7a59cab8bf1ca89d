"""The experience page after a survey answer of the current week (issue 19): the answer path
declares its week, so the per-respondent table's past weeks stay current; the manager's page reads
the key drivers' and the reliability's samples from the table for the weeks before its split and
from the facts after it, and shows what the facts give.

Own SQLite file: the counters move at commits, which the rolled-back fixture never makes.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from perception.core.models.facts import ExperienceObservation
from tests.conftest import PASSWORD, login
from tests.facts import assert_same_figures
from tests.surveys.conftest import answer_page, seed_personal_link
from tests.surveys.test_race import INVITED, _app

pytestmark = pytest.mark.own_sqlite


def _past_answers(region: int, monday: Any) -> list[dict[str, Any]]:
    """Twelve weeks of customers' answers before the current one: ratings of three dimensions (as
    the anonymous form asks them) and CSAT."""
    from perception.analysis.services.facts import DIMENSION_CODES

    rng = random.Random(215)
    rows = []
    for back in range(1, 13):
        week = monday - timedelta(weeks=back)
        for n in range(25):
            base = {
                "source": rng.choice(["survey", "callback"]),
                "source_id": 10_000 + back * 100 + n,
                "observed_on": week,
                "period_start": week,
                "region_id": region,
                "dimension": None,
                "scale_min": 1.0,
                "scale_max": 5.0,
            }
            for dim in DIMENSION_CODES[:3]:
                rows.append({**base, "kind": "likert", "dimension": dim, "value": float(rng.randint(1, 5))})
            rows.append({**base, "kind": "csat", "value": float(rng.randint(1, 5))})
    return rows


def test_the_page_reads_the_respondents_table_for_the_past_weeks_after_an_answer(tmp_path, monkeypatch):
    from perception.analysis.services import experience as experience_service
    from perception.analysis.services import respondents
    from perception.analysis.services.freshness import Freshness
    from perception.analysis.services.rollup import refresh_rollup
    from perception.analysis.views import dashboards
    from perception.core import users
    from perception.core.clock import current_clock
    from perception.core.extensions import db
    from perception.core.models.auth import Role
    from perception.core.models.org import Region

    app = _app(f"sqlite:///{tmp_path / 'page.sqlite'}", tmp_path, monkeypatch, {})
    token = seed_personal_link(app, *INVITED, days=1)
    with app.app_context():
        today = current_clock().today()
        monday = today - timedelta(days=today.weekday())
        region = db.session.scalar(select(Region.id).where(Region.code == INVITED[0][0]))
        db.session.execute(insert(ExperienceObservation), _past_answers(region, monday))
        users.create_user(
            db.session,
            users.UserSpec(
                username="boss", display_name="Boss", roles=frozenset({Role.MANAGER}), password=PASSWORD
            ),
        )
        db.session.commit()
        refresh_rollup(db.session)
        db.session.commit()
        db.session.remove()

    answering = app.test_client()
    assert answering.get(f"/s/t/{token}").status_code == 303
    assert answer_page(answering, "/s/r", {"csat": "5"}, action="submit").status_code == 303
    with app.app_context():
        found = respondents.respondents_reading(db.session)
        assert found.freshness is Freshness.PARTIAL and found.facts_from is not None
        assert found.facts_from <= monday
        db.session.remove()

    reads = {"_table_rows": 0, "_facts_rows": 0}
    for name in reads:
        original = getattr(respondents, name)

        def counted(*a: Any, name: str = name, original: Any = original, **k: Any) -> Any:
            reads[name] += 1
            return original(*a, **k)

        monkeypatch.setattr(respondents, name, counted)
    shown: list[Any] = []
    keep = dashboards.experience_service
    monkeypatch.setattr(
        dashboards, "experience_service", lambda *a, **k: shown.append(keep(*a, **k)) or shown[-1]
    )
    manager = app.test_client()
    assert login(manager, "boss").status_code == 302
    experience_service.forget_kept()
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def seen(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    page = manager.get("/analysis/experience")
    event.remove(engine, "before_cursor_execute", seen)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    # Each pre-aggregate's reading is taken once for the page (freshness.once_per_transaction), not
    # by each part that reads it.
    for state in ("analysis_rollup_state", "experience_respondent_state"):
        assert sum(f"FROM {state}" in s for s in statements) == 1, state
    # CSAT and NPS drivers and the reliability: the table's rows before the split, the facts' after.
    assert reads == {"_table_rows": 3, "_facts_rows": 3}

    # The page shows what the facts give.
    (view,) = shown
    with app.app_context():
        want = experience_service.computed_experience(db.session, view.filters, use_rollup=False).to_dict()
        db.session.remove()
    assert view.driver_respondents > 100  # the past weeks' respondents are in the sample
    assert_same_figures(view.to_dict(), want, rel=1e-9)
