"""The overview's change look computed beside its figures (issue 19; core.transaction.computed_beside):
on PostgreSQL in a thread of its own, on SQLite in the request's transaction; the page the same
either way; and a transaction that wrote answers not yet committed still sees them in its look."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

from perception.analysis.services import changes, overview
from perception.core import transaction
from tests.analysis.test_h19ovw2_change_look import FILTERS, TODAY
from tests.analysis.test_h19ovw_overview_kept import _answers, own_app  # noqa: F401 - the fixture


def _page(response: Any) -> str:
    """The page without its form tokens and the times it was computed at (two loads apart)."""
    page = re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))
    return re.sub(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?", "", page)


def _weeks_of_answers(app: Any) -> None:
    """Twelve weeks of R1's CSAT, the last four lower: the look flags a drop."""
    for week in range(12):
        good = 18 if week < 8 else 4
        _answers(app, [5] * good + [2] * 6, week, 100 * week + 1)


def _threads_of_the_look(monkeypatch) -> list[int]:
    seen: list[int] = []
    computed = changes.computed_summary

    def watched(*args, **kwargs):
        seen.append(threading.get_ident())
        return computed(*args, **kwargs)

    monkeypatch.setattr(changes, "computed_summary", watched)
    return seen


def test_the_look_is_computed_beside_the_figures_on_postgresql_and_the_page_is_the_same(own_app, monkeypatch):  # noqa: F811
    from perception.core.extensions import db

    overview.forget_kept()
    _weeks_of_answers(own_app)
    client = own_app.test_client()
    assert client.post("/login", data={"username": "m", "password": "pw-0123456789abc"}).status_code == 302
    last = FILTERS.end - timedelta(days=1)
    path = f"/analysis/overview?from={FILTERS.start.isoformat()}&to={last.isoformat()}"
    threads = _threads_of_the_look(monkeypatch)
    beside = client.get(path)
    assert beside.status_code == 200
    postgres = own_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    assert len(threads) == 1 and (threads[0] != threading.get_ident()) is postgres
    assert "R1" in beside.get_data(as_text=True)

    # The same page computed in the request's transaction, one after the other.
    overview.forget_kept()
    with own_app.app_context():
        from perception.core.models.kept import KeptResult

        db.session.query(KeptResult).delete()
        db.session.commit()
    monkeypatch.setattr(
        transaction, "computed_beside", lambda session, compute, alone: lambda: compute(session)
    )
    in_turn = client.get(path)
    assert len(threads) == 2 and threads[1] == threading.get_ident()
    assert _page(in_turn) == _page(beside)


def test_a_transaction_s_own_answers_reach_its_look(own_app, monkeypatch):  # noqa: F811
    from perception.core.extensions import db

    overview.forget_kept()
    _weeks_of_answers(own_app)
    with own_app.app_context():
        before = overview.overview(db.session, FILTERS, today=TODAY, whole_look=True).changes
        db.session.commit()
    threads = _threads_of_the_look(monkeypatch)
    overview.forget_kept()
    from perception.core.models.org import Region
    from perception.setup.models.catalog import Service
    from tests.analysis.conftest import MONDAY
    from tests.facts import insert_observations

    with own_app.app_context():
        region = db.session.query(Region).filter_by(code="R1").one()
        service = db.session.query(Service).filter_by(code="DESK").one()
        insert_observations(
            db.session, region, service, "csat", [1] * 9, day=MONDAY + timedelta(weeks=11),
            source_ids=range(9001, 9010),
        )  # fmt: skip
        own = overview.overview(db.session, FILTERS, today=TODAY, whole_look=True).changes
        db.session.rollback()
    assert threads == []  # the whole look: the summary is not computed for it

    def recent_n(look: Any) -> int:
        return next(t.n_recent for t in look.look.tests if t.unit == ("all",) and t.measure == "csat")

    assert recent_n(own) == recent_n(before) + 9
