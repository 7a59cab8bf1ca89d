"""A chart is drawn once per process for what it shows (perception.reporting.drawn): the
overview's, the KPI page's and the experience page's charts are matplotlib figures of tens of
milliseconds each, and a page opened again (another manager, another tab, the same manager a
minute later) shows the very view it showed, kept (perception.core.kept). Observed before: every
load of a chart drew it again, a third of the CPU of a browser walking the demo's pages
(tests/e2e/test_page_widths_browser.py under py-spy, session 21). Another language, or a view
whose numbers changed after a write, is drawn again, showing the new numbers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.analysis.conftest import MONDAY
from tests.analysis.test_chart_reuse import PERIOD, data  # noqa: F401 - the shared fixture
from tests.analysis.test_h19kept_pages import own_app  # noqa: F401 - the fixture
from tests.analysis.test_h19ovw_overview_kept import _answers

PASSWORD = "pw-0123456789abc"
WEEKS = f"from={MONDAY.isoformat()}&to={(MONDAY + timedelta(weeks=4, days=-1)).isoformat()}"
CHARTS = [f"/analysis/chart/{name}.svg?{WEEKS}" for name in ("overview_trend", "region_csat")]


@pytest.fixture
def draws(monkeypatch) -> list[str]:
    """The figures drawn (the matplotlib step every chart goes through), none kept before."""
    from perception.reporting import charts as reporting_charts
    from perception.reporting import drawn, figures

    drawn.forget()
    made: list[str] = []
    real = figures.render

    def counted(*args: Any, **kw: Any) -> bytes:
        made.append(str(kw.get("size")))
        return real(*args, **kw)

    monkeypatch.setattr(reporting_charts, "render", counted)
    return made


@pytest.fixture
def committed_app(own_app):  # noqa: F811
    """An app on its own SQLite file (its kept views are committed ones) with two managers and
    four weeks of answers."""
    from perception.core.extensions import db
    from perception.core.models.auth import Role
    from perception.core.users import UserSpec, create_user

    with own_app.app_context():
        roles = frozenset({Role.MANAGER})
        create_user(db.session, UserSpec(username="m2", display_name="M2", roles=roles, password=PASSWORD))
        db.session.commit()
    for week in range(4):
        _answers(own_app, [5] * 20 + [2] * (3 + week), week, 100 * week + 1)
    return own_app


def signed_in(app: Any, username: str) -> Any:
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def svg(client: Any, path: str, language: str = "en") -> str:
    response = client.get(path, headers={"Accept-Language": language})
    assert response.status_code == 200 and response.mimetype == "image/svg+xml", response.status
    return response.get_data(as_text=True)


@pytest.mark.own_sqlite
def test_a_page_opened_again_does_not_draw_its_charts_again(committed_app, draws):
    first = signed_in(committed_app, "m")
    assert first.get(f"/analysis/overview?{WEEKS}").status_code == 200
    drawn = [svg(first, chart) for chart in CHARTS]
    assert len(draws) == 2
    # The page again, and another manager's first load: the same kept view, the same bytes.
    second = signed_in(committed_app, "m2")
    for client in (first, second):
        assert client.get(f"/analysis/overview?{WEEKS}").status_code == 200
        assert [svg(client, chart) for chart in CHARTS] == drawn
    assert len(draws) == 2
    # The other language: drawn, with its own labels.
    chinese = [svg(second, chart, "zh-CN") for chart in CHARTS]
    assert len(draws) == 4 and chinese != drawn and "满意度" in chinese[0]


@pytest.mark.own_sqlite
def test_a_view_computed_again_after_a_write_is_drawn_again(committed_app, draws):
    client = signed_in(committed_app, "m")
    assert client.get(f"/analysis/overview?{WEEKS}").status_code == 200
    before = svg(client, CHARTS[0])
    _answers(committed_app, [1] * 30, 3, 1000)  # week 4's CSAT falls
    assert client.get(f"/analysis/overview?{WEEKS}").status_code == 200
    after = svg(client, CHARTS[0])
    assert len(draws) == 2 and after != before


def test_the_same_numbers_computed_twice_are_drawn_once(login_as, data, draws):  # noqa: F811
    """The rolled-back transaction's KPI analysis is computed for each request (its uncommitted
    rows are kept by no process), but its numbers are the same: the trend chart is drawn once."""
    trend = f"/analysis/chart/kpi_trend.svg?{PERIOD}&kpi={data['kpi'].id}"
    c = login_as("manager")
    shown = set()
    for _ in range(2):
        assert c.get(f"/analysis/kpis?{PERIOD}").status_code == 200
        shown.add(svg(c, trend))
    assert len(draws) == 1 and len(shown) == 1


def test_every_argument_is_part_of_the_key():
    """Equal values give equal keys (NaN too, arrays by value); any difference (a float's last
    bit, an array's shape or type, a label) another key; what cannot be read is no key."""
    import math

    import numpy as np

    from perception.reporting.chart_inputs import TrendSeries
    from perception.reporting.drawn import _key, _NotAKey

    series = TrendSeries("CSAT", [0.5, math.nan], None, None)
    assert _key(series) == _key(TrendSeries("CSAT", [0.5, math.nan], None, None))
    assert _key(np.array([[1.0, 2.0]])) == _key(np.array([[1.0, 2.0]]))
    different = [
        (series, TrendSeries("CSAT", [0.5 + 2**-53, math.nan], None, None)),
        (series, TrendSeries("NPS", [0.5, math.nan], None, None)),
        (np.array([[1.0, 2.0]]), np.array([1.0, 2.0])),
        (np.array([1, 2]), np.array([1.0, 2.0])),
        ((1.0, "a"), (1.0, "b")),
        (1, 1.0),
        (1, True),
        (0, np.False_),
    ]
    for a, b in different:
        assert _key(a) != _key(b), (a, b)
    with pytest.raises(_NotAKey):
        _key(object())


def test_svg_is_kept_within_its_bytes_and_png_is_drawn_each_time(draws, monkeypatch):
    """A PDF's PNG charts are drawn each time (once per PDF); the SVG kept stays under KEPT_BYTES,
    the least recently used dropped first."""
    from perception.reporting import drawn
    from perception.reporting.charts import TrendSeries, trend_chart

    def chart(label: str, fmt: str = "svg") -> bytes:
        return trend_chart(["W1", "W2"], [TrendSeries(label, [0.5, 0.7])], title="CSAT", fmt=fmt)

    png = [chart("a", "png"), chart("a", "png")]
    assert len(draws) == 2 and png[0] == png[1] and png[0].startswith(b"\x89PNG")
    first = chart("a")
    monkeypatch.setattr(drawn, "KEPT_BYTES", 2 * len(first) + len(first) // 2)  # room for two
    assert chart("a") == first and len(draws) == 3
    chart("b")
    chart("a")  # used again: "b" is now the least recently used
    chart("c")  # over the bound: "b" goes
    assert len(draws) == 5 and drawn._kept_bytes <= drawn.KEPT_BYTES
    chart("a")
    assert len(draws) == 5
    chart("b")
    assert len(draws) == 6
