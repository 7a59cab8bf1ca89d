"""A weekly report leaves the overview's change look current: the look tests customers' own answers
alone (analysis.services.changes.CHANGE_SOURCES), and a report's facts are the collectors' voice
(source "feedback"). Observed in session 18 on main: a report of last week submitted through the API
moved the look's counter (data_version.CHANGE_LOOK) at its commit, so the next overview computed the
look again from the facts (2.7 s at a national provider's size, where 100 regions send a report a
week). The report still logs its week for the pre-aggregates and moves every other page's counter.

Own SQLite file: the counters move at commits, which the rolled-back fixture never makes.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from perception.kpi.services.data_version import CHANGE_LOOK, EXPERIENCE_WEEK_LOG, HEADLINE
from tests.analysis.test_lead_change_look_counter import assert_look_kept
from tests.surveys.test_race import _app

pytestmark = pytest.mark.own_sqlite


def _counters(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as other:
        return dict(other.execute("SELECT name, n FROM data_version").fetchall())


def _seed(db: Any) -> tuple[int, str]:
    """A region with a collection point, a customer subscribed to one service, and its collector's
    API token: (point id, token)."""
    from perception.core import users
    from perception.core.models.auth import Role
    from perception.core.models.org import CollectionPoint, CustomerOrg, Region
    from perception.setup.models.catalog import Service, Subscription

    db.create_all()
    session = db.session
    region = Region(code="R1", name_zh="北京", name_en="Beijing", timezone="Asia/Shanghai")
    session.add(region)
    session.flush()
    point = CollectionPoint(code="CP-R1", name_zh="北京组", name_en="Beijing team", region_id=region.id)
    customer = CustomerOrg(code="R1-C", name_zh="北京客户", name_en="Beijing customer", region_id=region.id)
    desk = Service(code="DESK", name_zh="服务台", name_en="Service desk")
    session.add_all([point, customer, desk])
    session.flush()
    session.add(Subscription(customer_id=customer.id, service_id=desk.id, region_id=region.id))
    collector = users.create_user(
        session,
        users.UserSpec(
            username="col_r1", display_name="Col", roles=frozenset({Role.COLLECTOR}),
            password="correct horse battery", collection_point_id=point.id,
        ),
    )  # fmt: skip
    _, secret = users.issue_token(session, collector, "tool")
    session.commit()
    return point.id, secret


@dataclass
class _KeptLook:
    app: Any
    path: Path
    point_id: int
    secret: str
    today: date
    filters: Any
    before: Any  # the change summary computed and kept
    counted: dict[str, int]  # the write counters after it

    def assert_still_kept(self, monkeypatch: Any) -> None:
        assert_look_kept(self.app, self.filters, self.today, self.before, monkeypatch)


def _a_kept_look(tmp_path: Path, monkeypatch: Any) -> _KeptLook:
    """An app on its own SQLite file, seeded (``_seed``), whose default change summary is computed
    and kept, with the write counters read after it."""
    from perception.analysis.services import changes
    from perception.analysis.services.filters import default_filters
    from perception.core.clock import current_clock
    from perception.core.extensions import db

    path = tmp_path / "kept.sqlite"
    app = _app(f"sqlite:///{path}", tmp_path, monkeypatch, {})
    changes.forget_kept()
    with app.app_context():
        point_id, secret = _seed(db)
        today = current_clock().today()
        filters = default_filters(today)
        before = changes.change_summary(db.session, filters, today=today)
        db.session.commit()
        db.session.remove()
    return _KeptLook(app, path, point_id, secret, today, filters, before, _counters(path))


def _feedback(rating: int) -> dict[str, Any]:
    return {
        "kind": "feedback", "customer": "R1-C", "dimension": "response_speed", "rating": rating,
        "means": "visit", "service": "DESK", "text": "响应慢了 / slower to respond",
    }  # fmt: skip


def test_a_report_of_last_week_leaves_the_kept_look_current(tmp_path, monkeypatch):
    kept = _a_kept_look(tmp_path, monkeypatch)

    last_week = kept.today - timedelta(days=kept.today.weekday()) - timedelta(weeks=1)
    year, week, _ = last_week.isocalendar()
    response = kept.app.test_client().put(
        f"/api/v1/collection/points/{kept.point_id}/weeks/{year}-W{week:02d}/report",
        json={"entries": [_feedback(2), _feedback(1)], "submit": True},
        headers={"Authorization": f"Bearer {kept.secret}"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "submitted"

    after = _counters(kept.path)
    with closing(sqlite3.connect(kept.path)) as other:
        facts = other.execute("SELECT source, period_start FROM experience_observation").fetchall()
    assert facts == [("feedback", last_week.isoformat())] * 2
    assert after[HEADLINE] == kept.counted.get(HEADLINE, 0) + 1  # news to the pages that show reports
    assert after[EXPERIENCE_WEEK_LOG] == kept.counted.get(EXPERIENCE_WEEK_LOG, 0) + 1  # its week logged
    assert after.get(CHANGE_LOOK, 0) == kept.counted.get(CHANGE_LOOK, 0)

    kept.assert_still_kept(monkeypatch)


def test_past_weekly_reports_imported_leave_the_kept_look_current(tmp_path, monkeypatch):
    """The past weekly reports import stores each report through the live workflow, so its facts
    are declared the same way: two reports of earlier weeks imported, the look stays kept."""
    from perception.collection.services.report_history import import_reports
    from perception.core.extensions import db
    from perception.kpi.services.ticket_import import ImportOptions

    kept = _a_kept_look(tmp_path, monkeypatch)

    monday = kept.today - timedelta(days=kept.today.weekday())
    head = "collection_point,week,submitted_at,kind,customer,service,dimension,rating,means,text"
    rows = [
        f"CP-R1,{week.isoformat()},{(week + timedelta(days=4)).isoformat()} 17:00,feedback,R1-C,DESK,"
        f"response_speed,{rating},visit,慢 / slow"
        for week, rating in ((monday - timedelta(weeks=2), 2), (monday - timedelta(weeks=3), 1))
    ]
    with kept.app.app_context():
        result = import_reports(
            db.session, ImportOptions(dry_run=False), data=("\n".join([head, *rows]) + "\n").encode(),
            filename="reports.csv",
        )  # fmt: skip
        db.session.commit()
        db.session.remove()
    assert result.rows_new == 2, result

    after = _counters(kept.path)
    with closing(sqlite3.connect(kept.path)) as other:
        sources = other.execute("SELECT DISTINCT source FROM experience_observation").fetchall()
    assert sources == [("feedback",)]
    assert after[HEADLINE] > kept.counted.get(HEADLINE, 0)
    assert after.get(CHANGE_LOOK, 0) == kept.counted.get(CHANGE_LOOK, 0)
    kept.assert_still_kept(monkeypatch)
