"""Issue 19: the overview keeps its figures (every row, the trend, both indices) while the answers
and names are unchanged, and the page shows the change look's summary, kept apart. A process that
finds them stored (another gunicorn worker, a restart) reads two small rows: no GROUP BY over the
facts or their weekly sums, and not the whole look (43,000 tests at a national provider's size,
0.6 s to read back). What is kept equals what is computed, field for field; an answer written in
the request's own transaction shows at once and is never stored; a committed answer is counted by
the next load of any process."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.analysis.services import changes, overview
from perception.analysis.services.filters import parse_filters
from perception.core import kept
from perception.core.kept import decode, encode
from perception.core.models.kept import KeptResult
from tests.analysis.conftest import MONDAY
from tests.analysis.test_h19agg_rollup import FIFTY_FIVE, FILTERS, FOURTEEN, _args, national  # noqa: F401
from tests.analysis.test_h19ovw2_change_look import FILTERS as LOOK_FILTERS
from tests.analysis.test_h19ovw2_change_look import TODAY, _data
from tests.own_database import PostgresSchema, sqlite_url

#: The facts and their weekly sums.
READS_DATA = re.compile(r"\b(experience_observation|experience_rollup|experience_index_rollup)\b")


@pytest.fixture(autouse=True)
def _nothing_kept():
    overview.forget_kept()
    yield
    overview.forget_kept()


def _page(response: Any) -> str:
    """A page's HTML without its form tokens (signed with the time of the request)."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


def _same(a: Any, b: Any) -> None:
    # repr compares every field, NaN as NaN, and tells 3 from 3.0.
    assert repr(a) == repr(b)


@pytest.mark.parametrize("period", [FOURTEEN, FIFTY_FIVE], ids=["14w", "55w"])
def test_the_kept_figures_are_the_computed_ones(db_session, national, period):  # noqa: F811
    from perception.analysis.services.rollup import refresh_rollup

    org, catalog, extra = national
    for use_rollup in (False, True):
        if use_rollup:
            refresh_rollup(db_session, force=True)
        for picked in [*FILTERS, {"region": "R2"}]:
            f = parse_filters(db_session, _args(org, catalog, extra, picked, period), None, today=MONDAY)
            view = overview.overview(db_session, f, use_rollup=use_rollup, today=MONDAY, whole_look=False)
            computed = overview.overview_figures(db_session, f, use_rollup=use_rollup)
            shown = (view.total, view.regions, view.services, view.trend, view.reports_index)
            _same(shown, (computed.total, computed.regions, computed.services, computed.trend,
                          computed.reports_index))  # fmt: skip
            assert view.total.csat is not None
            # As another process reads them back from the stored row (kept_figures' read path).
            figures = overview.kept_figures(db_session, f, use_rollup=use_rollup)
            stored = json.loads(json.dumps(encode(overview.OverviewFigures, figures)))
            _same(overview._period_keys(decode(overview.OverviewFigures, stored)), figures)
            # A second load computes nothing.
            assert overview.overview(db_session, f, use_rollup=use_rollup, today=MONDAY).total is view.total


def test_the_summary_is_what_the_page_shows_of_the_look(db_session, org, catalog, observe):
    _data(observe, org, catalog)
    whole = changes.change_view(db_session, LOOK_FILTERS, today=TODAY)
    summary = changes.change_summary(db_session, LOOK_FILTERS, today=TODAY)
    assert whole.flags and whole.untested > 0
    # computed_at aside: the summary is computed on its own (issue 19, h20ov), not from the look.
    for name in (
        "window",
        "flags",
        "n_tested",
        "alpha",
        "min_n_recent",
        "min_n_baseline",
        "untested",
    ):
        assert getattr(summary, name) == getattr(whole, name), name
    _same(
        decode(changes.ChangeSummary, json.loads(json.dumps(encode(changes.ChangeSummary, summary)))), summary
    )
    page = overview.overview(db_session, LOOK_FILTERS, today=TODAY, whole_look=False)
    assert page.changes is summary
    api = overview.overview(db_session, LOOK_FILTERS, today=TODAY)
    assert api.changes is whole and api.to_dict()["changes"]["look"]["n_tested"] == whole.look.n_tested


def test_an_answer_of_the_transaction_shows_at_once_and_is_never_stored(db_session, org, catalog, observe):
    r1, _ = _data(observe, org, catalog)
    before = overview.overview(db_session, LOOK_FILTERS, today=TODAY, whole_look=False)
    observe(r1, catalog["DESK"], "csat", [1] * 30, week=11)
    after = overview.overview(db_session, LOOK_FILTERS, today=TODAY, whole_look=False)
    assert after.total.csat.n == before.total.csat.n + 30
    assert after.changes is not before.changes
    stored = db_session.scalar(
        select(func.count()).select_from(KeptResult).where(KeptResult.page.like("analysis_%"))
    )
    assert stored == 0  # over uncommitted answers: kept for this transaction alone


# --- another process ---------------------------------------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.own_sqlite),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def own_app(request, tmp_path):
    from perception import create_app
    from perception.core.extensions import db
    from perception.core.models.auth import Role
    from perception.core.users import UserSpec, create_user

    schema = None
    if request.param == "sqlite":
        url = sqlite_url(tmp_path, "overview")
    else:
        schema = PostgresSchema("h19ovw_overview")
        url = schema.url()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
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
    if schema is not None:
        schema.drop()


def _answers(app: Any, values: list[int], week: int, first_id: int) -> None:
    """Committed CSAT answers (each its own respondent) of region R1's DESK service."""
    from perception.core.extensions import db
    from perception.core.models.org import Region
    from perception.setup.models.catalog import Service
    from tests.facts import insert_observations

    with app.app_context():
        region = db.session.scalar(select(Region).where(Region.code == "R1"))
        service = db.session.scalar(select(Service).where(Service.code == "DESK"))
        if region is None:
            region = Region(code="R1", name_zh="北京", name_en="Beijing")
            service = Service(code="DESK", name_zh="服务台", name_en="Service desk")
            db.session.add_all([region, service])
            db.session.flush()
        insert_observations(
            db.session, region, service, "csat", values, day=MONDAY + timedelta(weeks=week),
            source_ids=range(first_id, first_id + len(values)),
        )  # fmt: skip
        db.session.commit()


def test_another_process_reads_the_kept_figures_and_summary_only(own_app, reads):
    from perception.core.extensions import db

    for week in range(12):
        _answers(own_app, [5] * 20 + [2] * 6, week, 100 * week + 1)
    client = own_app.test_client()
    assert client.post("/login", data={"username": "m", "password": "pw-0123456789abc"}).status_code == 302
    last = LOOK_FILTERS.end - timedelta(days=1)
    path = f"/analysis/overview?from={LOOK_FILTERS.start.isoformat()}&to={last.isoformat()}"
    first = client.get(path)
    assert first.status_code == 200
    with own_app.app_context():
        pages = set(db.session.scalars(select(KeptResult.page)))
    assert {"analysis_overview", "analysis_change_summary"} <= pages
    assert "analysis_change_look" not in pages  # the page computes and keeps the summary alone

    overview.forget_kept()  # another process: only the stored rows
    with own_app.app_context():
        engine = db.engine
    with reads.watching(engine):
        second = client.get(path)
    assert second.status_code == 200
    assert _page(second) == _page(first)
    assert [s for s in reads.statements if READS_DATA.search(s)] == []
    assert kept.codec(changes.ChangeView) not in reads.codecs  # the summary, not every test of the look
    assert reads.codecs.count(kept.codec(overview.OverviewFigures)) == 1

    # A committed answer moves the counter: the next load of any process counts it.
    with own_app.app_context():
        f = LOOK_FILTERS
        n = overview.overview(db.session, f, today=TODAY, whole_look=False).total.csat.n
    _answers(own_app, [1] * 7, 11, 5000)
    overview.forget_kept()
    with own_app.app_context():
        assert overview.overview(db.session, f, today=TODAY, whole_look=False).total.csat.n == n + 7
