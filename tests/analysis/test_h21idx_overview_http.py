"""The overview page after a survey answer of the current week (issue 19): its perception indices
are read from the index sums' past weeks and the facts from the split on (the current week's
respondents, and their earlier rows by respondent), not from every week of the period's facts; and
the page shows what it showed computed from the facts alone."""

from __future__ import annotations

import contextlib
import random
import re
from datetime import date
from typing import Any

from perception.analysis.services import overview
from perception.analysis.services.freshness import Freshness, split_week_now
from perception.analysis.services.rollup import refresh_rollup, rollup_reading
from tests.analysis.test_h19ovw_overview_kept import own_app  # noqa: F401 - the fixture (a manager "m")
from tests.analysis.test_h21idx_index_split import World, _declare, _rows, _seed, statements_read
from tests.analysis.test_lead_week_split import _this_monday

#: The index's query of the facts: a row per respondent.
INDEX_OF_FACTS = re.compile(r"GROUP BY experience_observation\.source, experience_observation\.source_id")


def _page(response: Any) -> str:
    """The page without its form tokens and the times it was computed at (two loads apart)."""
    page = re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))
    return re.sub(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?", "", page)


def _dates(parameters: Any) -> set[date]:
    values = parameters.values() if isinstance(parameters, dict) else parameters
    found = set()
    for v in values:
        if isinstance(v, date):
            found.add(v)
        elif isinstance(v, str):
            with contextlib.suppress(ValueError):
                found.add(date.fromisoformat(v))
    return found


def test_the_overview_after_an_answer_reads_the_index_of_the_past_weeks_from_the_sums(own_app, monkeypatch):  # noqa: F811
    from perception.core.extensions import db

    rng = random.Random(2123)
    split, current = split_week_now(), _this_monday()
    overview.forget_kept()  # another test's kept figures are not this database's
    with own_app.app_context():
        world: World = _seed(db.session, rng, current, split)
        refresh_rollup(db.session)
        db.session.commit()
    client = own_app.test_client()
    assert client.post("/login", data={"username": "m", "password": "pw-0123456789abc"}).status_code == 302
    path = "/analysis/overview"
    assert client.get(path).status_code == 200

    with own_app.app_context():
        rows = _rows(rng, current, "survey", world.new_id(), 1, 2, 1)
        _declare(db.session, current, rows)
        assert rollup_reading(db.session).freshness is Freshness.PARTIAL
        engine = db.engine
    overview.forget_kept()
    read: list[tuple[str, Any]] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        if INDEX_OF_FACTS.search(statement):
            read.append((statement, parameters))

    with statements_read(engine, monkeypatch, seen):
        after = client.get(path)
    assert after.status_code == 200
    assert read  # the current week's respondents
    for statement, parameters in read:
        bound = _dates(parameters)
        by_respondent = "source_id IN" in statement or "unnest" in statement  # (PostgreSQL: an array)
        assert split in bound and (min(bound) >= split or by_respondent), statement

    # The same page computed from the facts alone.
    own_app.config["ANALYSIS_ROLLUP"] = False
    overview.forget_kept()
    with own_app.app_context():
        from perception.core.models.kept import KeptResult

        db.session.query(KeptResult).delete()
        db.session.commit()
    facts = client.get(path)
    assert _page(facts) == _page(after)
