"""A page takes each pre-aggregate's reading once per transaction (analysis.services.freshness.
once_per_transaction), and a partial refresh counts its rows without counting the table (issue 19).

A page asked the weekly sums' and the respondents' table's readings several times (each part of
the experience page, three small statements each); the reading is now kept for the transaction
while it writes nothing, and taken again after a flush (a refresh writes the state row) or while
the transaction holds uncommitted writes to the facts, so a reader never trusts a reading its own
writes have changed.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session

from perception.analysis.models import AnalysisRollupState, ExperienceRollup
from perception.analysis.services.freshness import Freshness
from perception.analysis.services.respondents import respondents_reading
from perception.analysis.services.rollup import refresh_rollup, rollup_reading
from perception.core.models.facts import ExperienceObservation as Obs
from perception.kpi.services.data_version import current_week_write
from tests.analysis.test_lead_week_split import ZONE, _answer, _built, _fact, _this_monday


def _statements(engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    return seen


def test_a_reading_is_taken_once_until_the_transaction_writes(engine):
    rng = random.Random(22)
    current = _this_monday()
    with Session(engine) as session:
        _built(session, rng, current)
        _answer(session, rng, current, declared=True)

        seen = _statements(engine)
        first = rollup_reading(session)
        taken = len(seen)
        assert first.freshness is Freshness.PARTIAL and taken >= 2
        assert rollup_reading(session) == first and respondents_reading(session).usable
        after_both = len(seen)
        assert rollup_reading(session) == first and respondents_reading(session).usable
        assert len(seen) == after_both, seen[after_both:]  # neither reading asked the database again

        # The transaction's own declared write of an earlier week: read anew, the split moves.
        back = first.facts_from - timedelta(weeks=2)
        conn = session.connection()
        with current_week_write(conn, "experience_observation", back, ZONE):
            session.execute(insert(Obs), [_fact(rng, back, 7, 1, 1, 1)])
        assert rollup_reading(session).facts_from == back
        session.rollback()

        # A refresh in the transaction writes the state row (a flush): the reading after it is
        # the refreshed one.
        assert rollup_reading(session).freshness is Freshness.PARTIAL
        refresh_rollup(session)
        assert rollup_reading(session).freshness is Freshness.CURRENT
        session.commit()


def test_a_partial_refresh_records_the_rows_the_table_holds(engine):
    rng = random.Random(23)
    current = _this_monday()
    with Session(engine) as session:
        _built(session, rng, current)
        for _ in range(3):
            _answer(session, rng, current, declared=True)
            assert rollup_reading(session).freshness is Freshness.PARTIAL
            assert refresh_rollup(session) is not None
            session.commit()
            state = session.scalar(select(AnalysisRollupState))
            assert state.rows == session.scalar(select(func.count()).select_from(ExperienceRollup))
