"""Report reminders: before the deadline and when missing, each sent once per point, week and kind."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from perception.collection.models.reports import ReportReminder
from perception.core.jobs import run_now
from tests.collection.conftest import WEEK, feedback


@pytest.fixture
def mailbox(app):
    folder = Path(app.instance_path) / "mail"
    before = set(folder.glob("*.eml")) if folder.exists() else set()

    def new_mail():
        now = set(folder.glob("*.eml")) if folder.exists() else set()
        return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(now - before)]

    return new_mail


def _sent(db_session, point_id=None):
    stmt = select(ReportReminder).order_by(ReportReminder.week_start, ReportReminder.kind)
    if point_id is not None:
        stmt = stmt.where(ReportReminder.collection_point_id == point_id)
    return [(r.week_start.isoformat(), r.kind) for r in db_session.scalars(stmt)]


def test_due_soon_then_missing_each_once(app, db_session, org, collector, make_user, put, mailbox):
    collector.email = "col_r1@example.com"
    make_user("c2", "collector", region="R2", email="c2@example.com")
    r1, r2 = org["R1"]["point"].id, org["R2"]["point"].id
    # Week 2026-W10 (2 March) is due Monday 9 March 12:00 Beijing = 04:00 UTC at both points.
    # At Sunday 8 March 06:00 UTC it is 22 h away: "due soon". W08 and W09 passed their deadlines
    # less than 14 days ago and were never submitted: "missing".
    with app.test_request_context():
        assert run_now(db_session, "report_reminders", now="2026-03-08T06:00:00") == 6
        assert run_now(db_session, "report_reminders", now="2026-03-08T07:00:00") == 0  # already sent
    expected = [("2026-02-16", "missing"), ("2026-02-23", "missing"), ("2026-03-02", "due_soon")]
    assert _sent(db_session, r1) == expected and _sent(db_session, r2) == expected
    mails = mailbox()
    assert sorted(m["To"] for m in mails if "W10" in m["Subject"]) == ["c2@example.com", "col_r1@example.com"]
    assert all("采集报告" in m["Subject"] for m in mails)
    # R1 submits (late) on Monday 05:00 UTC; R2 never does: only R2 gets the W10 "missing" reminder.
    put("R1", WEEK, [feedback()], collector, submit_at=datetime(2026, 3, 9, 5, 0))
    with app.test_request_context():
        assert run_now(db_session, "report_reminders", now="2026-03-09T06:00:00") == 1
        assert run_now(db_session, "report_reminders", now="2026-03-09T07:00:00") == 0
    assert ("2026-03-02", "missing") in _sent(db_session, r2)
    assert ("2026-03-02", "missing") not in _sent(db_session, r1)


def test_old_gaps_are_not_mailed_again_and_again(app, db_session, org):
    with app.test_request_context():
        # At 30 March 06:00 UTC: W12 (due 23 March) and W13 (due 30 March 04:00 UTC) are missing;
        # W11 was due 16 March 04:00 UTC, 14 days and 2 hours ago: past the window, not mailed.
        assert run_now(db_session, "report_reminders", now="2026-03-30T06:00:00") == 2 * 2
    assert {w for w, _ in _sent(db_session)} == {"2026-03-16", "2026-03-23"}
