"""The one platform filter that shows a stored (naive UTC) moment as local time: in the zone it is
given (a region's), else in the organisation's (ORG_TIMEZONE). Expected strings are worked by hand."""

from __future__ import annotations

from datetime import datetime

MOMENT = datetime(2026, 3, 1, 16, 30)  # UTC


def _render(app, source: str, **context) -> str:
    with app.test_request_context():
        return app.jinja_env.from_string(source).render(**context)


def test_the_organisation_s_zone_unless_a_region_s_is_given(app, monkeypatch):
    monkeypatch.setitem(app.config, "ORG_TIMEZONE", "Asia/Shanghai")  # UTC+8
    assert _render(app, "{{ m|local_time }}", m=MOMENT) == "2026-03-02 00:30"
    assert _render(app, "{{ m|local_time(tz) }}", m=MOMENT, tz="Asia/Urumqi") == "2026-03-01 22:30"  # UTC+6
    assert _render(app, "{{ m|local_time(tz) }}", m=MOMENT, tz=None) == "2026-03-02 00:30"
    monkeypatch.setitem(app.config, "ORG_TIMEZONE", "Europe/London")  # UTC+0 in March
    assert _render(app, "{{ m|local_time }}", m=MOMENT) == "2026-03-01 16:30"


def test_no_moment_is_a_dash(app):
    assert _render(app, "{{ m|local_time }}", m=None) == "—"
