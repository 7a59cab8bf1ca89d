"""Issue 19: the slow manager pages' results are stored as JSON (perception.core.kept) and read back
through typed decoders: the round trip gives the page's result back, field for field, for each
page's dataclasses; the hourly job computes the organisation-wide default views ahead, so the
first manager to open them computes nothing; a corrupt stored row is computed again, never a 500;
a write that moves a counter asks for one background refresh."""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update

from perception.analysis import home, kept_pages
from perception.analysis.services import changes, experience, kpis, overview
from perception.core.kept import decode, encode
from perception.core.models.kept import KeptResult
from perception.kpi.services import attainment_kept
from tests.analysis.test_h19kpis2_kpis_sums import _filters, generated  # noqa: F401 - the fixture
from tests.analysis.test_h19ovw2_change_look import FILTERS, TODAY, _data
from tests.kpi.test_kpi_sla import changed  # noqa: F401 - the fixture
from tests.own_database import sqlite_url

NOW = datetime(2026, 5, 1, 8, 0)


def _round_trip(tp: Any, value: Any) -> Any:
    back = decode(tp, json.loads(json.dumps(encode(tp, value))))
    # repr compares every field, NaN as NaN, and tells 3 from 3.0.
    assert repr(back) == repr(value)
    return back


def test_the_attainment_page_round_trips(db_session, changed):  # noqa: F811
    from datetime import date

    rows, breaches = attainment_kept.attainment_and_breaches(
        db_session, date(2026, 3, 1), date(2026, 5, 1), limit=200, as_of=NOW
    )
    assert rows and breaches
    _round_trip(
        attainment_kept.KeptAttainment, attainment_kept.KeptAttainment(tuple(rows), tuple(breaches), NOW)
    )


@pytest.mark.parametrize("which", ["all", "scoped"])
def test_the_internal_kpi_page_round_trips(db_session, generated, which):  # noqa: F811
    core = kpis._core(db_session, _filters(generated, which))
    assert core.view.summary and core.view.trends and core.cells
    assert any(v != v for t in core.view.trends for v in t.values)  # weeks without a value: NaN
    back = _round_trip(kpis._Core, core)
    assert back.view.filters == core.view.filters


def test_the_change_look_round_trips(db_session, org, catalog, observe):
    _data(observe, org, catalog)
    view = changes.computed_view(db_session, FILTERS, changes.change_window(FILTERS, TODAY))
    assert view.flags and any(t.p_value != t.p_value for t in view.look.tests)
    back = _round_trip(changes.ChangeView, view)
    assert {t.unit for t in back.look.tests} == {t.unit for t in view.look.tests}  # tuples again


def test_a_corrupt_stored_row_is_computed_again_not_a_500(login_as, db_session, changed, monkeypatch):  # noqa: F811
    calls = []
    real = attainment_kept.attainment_and_breaches
    monkeypatch.setattr(attainment_kept, "read_version", lambda session, name: (7, 0, 0))
    monkeypatch.setattr(
        attainment_kept, "attainment_and_breaches", lambda *a, **kw: calls.append(1) or real(*a, **kw)
    )
    attainment_kept.forget_all()
    client = login_as("manager")
    path = "/kpi/attainment?from=2026-03-01&to=2026-05-01"
    assert client.get(path).status_code == 200 and len(calls) == 1
    assert db_session.scalar(select(func.count()).select_from(KeptResult)) == 1  # stored after the request
    attainment_kept.forget_all()  # another process: only the stored row
    assert client.get(path).status_code == 200 and len(calls) == 1
    db_session.execute(update(KeptResult).values(payload=zlib.compress(b'{"rows": [[1]]}')))
    attainment_kept.forget_all()
    html = client.get(path).get_data(as_text=True)
    assert "DESK-RESP" in html and len(calls) == 2
    attainment_kept.forget_all()


@pytest.fixture
def own_app(tmp_path):
    from perception import create_app
    from perception.core.extensions import db
    from perception.core.models.auth import Role
    from perception.core.users import UserSpec, create_user

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": sqlite_url(tmp_path, "hourly"),
            "SECRET_KEY": "test-secret-key-which-is-long-enough-0123456789",
            "REDIS_URL": None,
            "JOBS_BACKGROUND": False,
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        create_user(
            db.session,
            UserSpec(
                username="m", display_name="M", roles=frozenset({Role.MANAGER}), password="pw-0123456789abc"
            ),
        )
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def _forget() -> None:
    attainment_kept.forget_all()
    kpis.forget_kept()
    overview.forget_kept()
    experience.forget_kept()
    home._kept.forget()


def test_the_hourly_job_fills_the_default_views(own_app, monkeypatch):
    from perception.core.extensions import db
    from perception.core.jobs import run_now
    from perception.core.transaction import unit_of_work

    _forget()
    with own_app.app_context(), unit_of_work() as session:
        refreshed = run_now(session, "refresh_kept_pages")
    assert refreshed == ["attainment", "kpis", "overview", "experience", "home"]
    with own_app.app_context():
        pages = db.session.scalars(select(KeptResult.page).order_by(KeptResult.page)).all()
    # The 14 weeks and the year (h19first) of the KPI, overview and experience pages; the two share
    # their change look's summary (the same last complete weeks): the page's part of the look,
    # computed and kept alone (h20ov); the API computes the whole look on its first read. And the
    # twelve weeks the look read, each stored apart (services.change_weeks).
    assert pages.count("analysis_change_week") == 12
    assert [page for page in pages if page != "analysis_change_week"] == [
        "analysis_change_summary",
        "analysis_experience",
        "analysis_experience",
        "analysis_home_headline",
        "analysis_kpis",
        "analysis_kpis",
        "analysis_overview",
        "analysis_overview",
        "kpi_attainment",
    ]
    from perception.analysis import phase
    from perception.core.phase import Periodic

    assert Periodic("refresh_kept_pages", "hourly") in phase().periodic

    # Another process (nothing in memory): the manager's first load of each computes nothing.
    _forget()

    def refuse(*_a: Any, **_kw: Any) -> Any:
        raise AssertionError("computed in the request")

    monkeypatch.setattr(attainment_kept, "attainment_and_breaches", refuse)
    monkeypatch.setattr(kpis, "_core", refuse)
    monkeypatch.setattr(changes, "computed_view", refuse)
    monkeypatch.setattr(overview, "overview_figures", refuse)
    monkeypatch.setattr(experience, "computed_experience", refuse)
    monkeypatch.setattr(home, "_computed", refuse)
    client = own_app.test_client()
    assert client.post("/login", data={"username": "m", "password": "pw-0123456789abc"}).status_code == 302
    for path in ("/kpi/attainment", "/analysis/kpis", "/analysis/overview", "/analysis/experience"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:500])
        assert "Computed at" in response.get_data(as_text=True)
    # The manager's home, their first screen: its headline read, not computed.
    response = client.get("/")
    assert response.status_code == 200 and "Evidenced watermelons" in response.get_data(as_text=True)
    _forget()


def test_a_write_that_moves_a_counter_asks_for_one_refresh(app, monkeypatch):
    from flask import g

    from perception.kpi.services import data_version

    asked = []
    monkeypatch.setattr(kept_pages, "in_background", lambda: True)
    monkeypatch.setattr(kept_pages, "enqueue", lambda name, **kw: asked.append(name))
    monkeypatch.setattr("perception.core.jobs.latest_for", lambda subject: None)
    monkeypatch.setattr(kept_pages, "_last_check", float("-inf"))  # never checked

    class Conn:
        def __init__(self, names: list[str]) -> None:
            self.info = {data_version._DIRTY: {"token": 1, "writes": dict.fromkeys(names, 1)}}

    with app.test_request_context("/"):
        kept_pages._note_moved(Conn(["review_inputs"]))  # no page of ours
        kept_pages.ask_after_write()
        assert asked == [] and not hasattr(g, kept_pages._MOVED)
        kept_pages._note_moved(Conn([data_version.ATTAINMENT]))
        kept_pages.ask_after_write()
        assert asked == ["refresh_kept_pages"]
    with app.test_request_context("/"):  # right after: one refresh serves both writes
        kept_pages._note_moved(Conn([data_version.HEADLINE]))
        kept_pages.ask_after_write()
        assert asked == ["refresh_kept_pages"]
    monkeypatch.setattr(kept_pages, "_last_check", float("-inf"))  # never checked
    monkeypatch.setattr(
        "perception.core.jobs.latest_for", lambda subject: type("J", (), {"status": "queued"})
    )
    with app.test_request_context("/"):  # one is queued: it will see this write
        kept_pages._note_moved(Conn([data_version.KPI_ANALYSIS]))
        kept_pages.ask_after_write()
        assert asked == ["refresh_kept_pages"]


def test_the_home_headline_round_trips(db_session, org, catalog, observe, link_kpi, kpi_value):
    """The managers' home headline, stored for every process: its measures and an evidenced
    watermelon come back field for field."""
    from perception.core.periods import week_start
    from tests.analysis.test_home_write_counter import CLOCK

    r1, desk = org["R1"]["region"], catalog["DESK"]
    resp = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    for week in range(4):
        kpi_value(resp, desk, r1, 0.97, 0.95, week=week, n=1000)
        observe(r1, desk, "csat", [5] * 12 + [2] * 13, week=week)
    found = home._computed(db_session, week_start(CLOCK.today()), None)
    assert found.cells and found.now["csat"] is not None
    _round_trip(home.Headline, found)
