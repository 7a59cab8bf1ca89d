"""Issue 19: the SLA attainment page's default view is computed again before it expires.

Its kept result expires ten minutes after it was computed (attainment_kept.MAX_AGE: unanswered
tickets turn overdue without any write). Observed before: the job that computes the default views
ahead ran hourly (and after writes), so fifty minutes of every hour the first manager to open the
page found it expired and computed it: at a national provider's size its five months took 12 s.
Now the scheduler sends the job every five minutes (kept_pages.ATTAINMENT_AHEAD), and the job
computes the view again once it is four minutes old."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from perception.analysis import kept_pages
from perception.kpi.services import attainment_kept
from tests.analysis.test_h19kept_pages import _forget, own_app  # noqa: F401 - the fixture

T0 = datetime(2026, 12, 7, 9, 0, 0)


def _clock(monkeypatch: Any, at: list[datetime]) -> None:
    """Every kept result's clock reads ``at[0]``."""
    monkeypatch.setattr(attainment_kept, "utcnow", lambda: at[0])
    monkeypatch.setattr("perception.core.kept.utcnow", lambda: at[0])


def test_the_job_computes_the_attainment_view_again_before_it_expires(own_app, monkeypatch):  # noqa: F811
    from perception.core.jobs import run_now
    from perception.core.transaction import unit_of_work

    at = [T0]
    _clock(monkeypatch, at)
    computed: list[datetime] = []
    real = attainment_kept.attainment_and_breaches
    monkeypatch.setattr(
        attainment_kept,
        "attainment_and_breaches",
        lambda *a, **kw: computed.append(at[0]) or real(*a, **kw),
    )
    _forget()

    def job() -> None:
        with own_app.app_context(), unit_of_work() as session:
            run_now(session, "refresh_kept_pages")

    job()
    at[0] = T0 + timedelta(minutes=3)
    job()  # three minutes old: kept
    at[0] = T0 + timedelta(minutes=5, seconds=2)
    job()  # the scheduler's next interval: computed again
    assert computed == [T0, T0 + timedelta(minutes=5, seconds=2)]

    # A manager twelve minutes after the first computation (expired on main) computes nothing.
    at[0] = T0 + timedelta(minutes=12)
    _forget()  # another process: the stored row only

    def refuse(*_a: Any, **_kw: Any) -> Any:
        raise AssertionError("computed in the manager's request")

    monkeypatch.setattr(attainment_kept, "attainment_and_breaches", refuse)
    client = own_app.test_client()
    assert client.post("/login", data={"username": "m", "password": "pw-0123456789abc"}).status_code == 302
    response = client.get("/kpi/attainment")
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    assert "Computed at" in response.get_data(as_text=True)
    _forget()


def test_the_scheduler_sends_the_job_every_interval(own_app, monkeypatch):  # noqa: F811
    from perception.core.extensions import db

    seconds = kept_pages.ATTAINMENT_AHEAD.total_seconds()
    clock = [1_000_000 * seconds + 1]
    monkeypatch.setattr(kept_pages.time, "time", lambda: clock[0])
    with own_app.app_context():
        first = kept_pages.refresh_marks(db.session)
        clock[0] += seconds - 2
        assert kept_pages.refresh_marks(db.session) == first  # the same interval
        clock[0] += 2
        assert kept_pages.refresh_marks(db.session) != first  # the next one
    assert kept_pages.ATTAINMENT_REFRESHED_AT < kept_pages.ATTAINMENT_AHEAD <= attainment_kept.MAX_AGE / 2
