"""Issue 19: a write that no page's request reports (an import on the command line, a worker's
service-desk events) is noticed by the scheduler within a minute, and the manager pages' default
views are computed then, not by the first manager to open them.

Observed before: the request path asks for the refresh after a write (kept_pages.ask_after_write),
but `perception kpi import-tickets --apply` and the survey and callback history imports run outside
any request, so nothing asked: the scheduler's next ticks found the hourly slot claimed, and the
first manager to open the attainment, internal KPI or overview page computed it (at a national
provider's size, seconds: the overview's change look 2.3-3.3 s) until the next hour.

The app has a SQLite file of its own, as `perception run` and its scheduler process share one."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from perception.analysis.services import changes, kpis
from perception.core.jobs import job
from perception.kpi.services import attainment_kept
from tests.analysis.test_h19kept_pages import _forget, own_app  # noqa: F401 - the fixture
from tests.kpi.conftest import csv_bytes, ticket_row

pytestmark = pytest.mark.own_sqlite

PASSWORD = "pw-0123456789abc"  # own_app's manager


@pytest.fixture
def served(own_app: Any) -> Any:  # noqa: F811 - the fixture imported above
    """test_h19kept_pages' app of its own, with its manager, and a region, service and customer."""
    from perception.core.extensions import db
    from perception.core.models.org import CustomerOrg, Region
    from perception.setup.models.catalog import Service

    with own_app.app_context():
        region = Region(code="R1", name_zh="北京", name_en="Beijing")
        db.session.add_all([region, Service(code="DESK", name_zh="服务台", name_en="Service desk")])
        db.session.flush()
        db.session.add(
            CustomerOrg(code="R1-C", name_zh="北京客户", name_en="Beijing customer", region_id=region.id)
        )
        db.session.commit()
    _forget()
    yield own_app
    _forget()


def _refuse(*_a: Any, **_kw: Any) -> Any:
    raise AssertionError("computed in the manager's request")


def _pages_compute_nothing(app: Any, paths: tuple[str, ...]) -> None:
    client = app.test_client()
    assert client.post("/login", data={"username": "m", "password": PASSWORD}).status_code == 302
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:800])
        assert "Computed at" in response.get_data(as_text=True)


def test_tickets_imported_on_the_command_line_are_computed_by_the_scheduler(served, tmp_path, monkeypatch):
    from perception.cli import scheduler_tick

    first = scheduler_tick(served)  # every hourly slot is due on a fresh database
    assert "refresh_kept_pages" in first
    path = tmp_path / "tickets.csv"
    path.write_bytes(csv_bytes([ticket_row(f"T{i}") for i in range(5)]))
    done = served.test_cli_runner().invoke(args=["kpi", "import-tickets", str(path), "--apply"])
    assert done.exit_code == 0, done.output
    # The next tick, within the same hour: the import changed the KPI pages' data.
    assert "refresh_kept_pages" in scheduler_tick(served)
    assert "refresh_kept_pages" not in scheduler_tick(served)  # nothing changed since
    _forget()
    monkeypatch.setattr(attainment_kept, "attainment_and_breaches", _refuse)
    monkeypatch.setattr(kpis, "_core", _refuse)
    _pages_compute_nothing(served, ("/kpi/attainment", "/analysis/kpis"))


def test_answers_of_past_weeks_written_outside_a_request_keep_the_overview_s_look(served, monkeypatch):
    """What the survey and callback history imports do: facts of past weeks written in a transaction
    of their own, with no request around it."""
    from sqlalchemy import select

    from perception.cli import scheduler_tick
    from perception.core.clock import current_clock
    from perception.core.models.org import Region
    from perception.core.periods import week_start
    from perception.core.transaction import unit_of_work
    from perception.setup.models.catalog import Service
    from tests.facts import insert_observations

    scheduler_tick(served)
    with served.app_context(), unit_of_work() as session:
        region = session.scalars(select(Region)).one()
        service = session.scalars(select(Service)).one()
        last_monday = week_start(current_clock().today()) - timedelta(weeks=1)
        for weeks_back in range(12):
            insert_observations(
                session, region, service, "csat", [5, 4, 4, 3] * 10,
                day=last_monday - timedelta(weeks=weeks_back), source_ids=itertools.count(1000 * weeks_back),
            )  # fmt: skip
    assert scheduler_tick(served) == ["refresh_analysis_rollup", "refresh_kept_pages"]
    _forget()
    monkeypatch.setattr(changes, "computed_summary", _refuse)
    monkeypatch.setattr(changes, "computed_view", _refuse)
    _pages_compute_nothing(served, ("/analysis/overview",))


ATTEMPTS: list[str] = []
DATA = {"mark": "v1"}


@job("test_h26_broken_check")
def _broken_check_job(session: Any, **_: Any) -> None:
    """Runs in its slot although its check fails."""


@job("test_h26_changed_job")
def _changed_job(session: Any, **_: Any) -> None:
    ATTEMPTS.append(DATA["mark"])
    if len(ATTEMPTS) == 2:
        raise RuntimeError("the second run fails")


def test_a_run_for_changed_data_that_fails_is_tried_again_at_the_next_tick(served):
    from sqlalchemy import select

    from perception.cli import scheduler_tick
    from perception.core.extensions import db
    from perception.core.models.jobs import ScheduledRun
    from perception.core.phase import Periodic

    ATTEMPTS.clear()
    DATA["mark"] = "v1"
    served.extensions["perception.periodic"] = (
        Periodic("test_h26_changed_job", "weekly", when_changed=lambda session: DATA["mark"]),
    )
    assert scheduler_tick(served) == ["test_h26_changed_job"]  # its weekly slot
    DATA["mark"] = "v2"
    assert scheduler_tick(served) == ["test_h26_changed_job"]  # its data changed: sent, and failed
    assert scheduler_tick(served) == ["test_h26_changed_job"]  # still to do: sent again
    assert scheduler_tick(served) == []
    assert ATTEMPTS == ["v1", "v2", "v2"]
    with served.app_context():  # the failed run took no slot, and gave none back
        assert db.session.scalars(select(ScheduledRun.job_name)).all() == ["test_h26_changed_job"]


def test_a_stream_of_writes_is_sent_once_per_interval(served):
    """A live service-desk feed moves the KPI pages' counters every few seconds: the job is sent at
    the first tick after a quiet spell, then at most once per ``at_most_every``, the latest change
    never lost."""
    from perception.core.extensions import db
    from perception.core.jobs.schedule import changed_since
    from perception.core.phase import Periodic

    mark = {"n": 0}
    periodic = [Periodic("test_h26_stream", "daily", when_changed=lambda s: mark["n"], at_most_every=300)]
    seen: dict[str, Any] = {}
    sent = []
    with served.app_context():
        session = db.session
        for minute in range(12):
            mark["n"] += 1  # a write every minute
            if changed_since(session, periodic, seen, now=60.0 * minute):
                sent.append(minute)
        assert sent == [0, 5, 10]
        assert changed_since(session, periodic, seen, now=60.0 * 14) == []  # 4 minutes after the last
        assert changed_since(session, periodic, seen, now=60.0 * 15) == ["test_h26_stream"]  # the latest
        assert changed_since(session, periodic, seen, now=60.0 * 20) == []  # nothing since
        # Sent in its slot this tick: recorded, no interval started.
        mark["n"] += 1
        assert changed_since(session, periodic, seen, now=60.0 * 21, due={"test_h26_stream"}) == []
        mark["n"] += 1
        assert changed_since(session, periodic, seen, now=60.0 * 22) == ["test_h26_stream"]


def test_a_check_that_fails_is_logged_and_the_tick_goes_on(served, caplog):
    from perception.cli import scheduler_tick
    from perception.core.phase import Periodic

    def broken(session: Any) -> int:
        raise RuntimeError("no such counter")

    ATTEMPTS.clear()
    served.extensions["perception.periodic"] = (
        Periodic("test_h26_broken_check", "weekly", when_changed=broken),
        Periodic("test_h26_changed_job", "weekly"),
    )
    assert scheduler_tick(served) == ["test_h26_broken_check", "test_h26_changed_job"]  # their slots
    assert [DATA["mark"]] == ATTEMPTS
    assert "could not read what test_h26_broken_check's data looks like" in caplog.text
