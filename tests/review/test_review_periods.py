"""Review periods from the configuration, one review per period, the daily job and its reminders."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from perception.api.errors import PROBLEM_JSON
from perception.review.models import Review
from perception.review.services.periods import (
    ReviewConfigError,
    ensure_review,
    parse_periods,
    period_for,
    previous_period,
    send_reminders,
)


def test_half_years_are_the_default():
    specs = parse_periods(None)
    p = period_for(date(2026, 6, 30), specs)
    assert (p.code, p.start, p.end, p.label_en, p.label_zh) == (
        "2026-H1",
        date(2026, 1, 1),
        date(2026, 7, 1),
        "2026 H1",
        "2026 年上半年",
    )
    assert period_for(date(2026, 7, 1), specs).code == "2026-H2"
    assert period_for(date(2026, 12, 31), specs).end == date(2027, 1, 1)
    assert previous_period(period_for(date(2026, 2, 1), specs), specs).code == "2025-H2"


def test_fiscal_halves_wrap_the_year_end():
    specs = parse_periods("4-9, 10-3")
    p = period_for(date(2027, 2, 14), specs)
    assert (p.code, p.start, p.end) == ("2026-10", date(2026, 10, 1), date(2027, 4, 1))
    assert period_for(date(2026, 9, 30), specs).start == date(2026, 4, 1)
    assert previous_period(p, specs).start == date(2026, 4, 1)


@pytest.mark.parametrize("text", ["1-6", "1-6,6-12", "H1,H3", "0-5,6-12", "H1,7-11"])
def test_periods_must_tile_the_year(text):
    with pytest.raises(ReviewConfigError) as raised:
        parse_periods(text)
    assert raised.value.field == "REVIEW_PERIODS" and raised.value.zh and raised.value.en


def test_one_review_per_period(db_session):
    specs = parse_periods("H1,H2")
    first, created = ensure_review(db_session, date(2026, 2, 1), specs)
    again, created_again = ensure_review(db_session, date(2026, 5, 31), specs)
    second, _ = ensure_review(db_session, date(2026, 8, 1), specs)
    assert created and not created_again and first.id == again.id
    assert (first.code, second.code) == ("2026-H1", "2026-H2")
    assert db_session.scalar(select(func.count(Review.id))) == 2


def _mail_files(app) -> set[Path]:
    folder = Path(app.instance_path) / "mail"
    return set(folder.glob("*.eml")) if folder.exists() else set()


def test_job_creates_the_review_and_reminds_the_owner_once(app, db_session, make_user):
    from perception.core.jobs import run_now

    make_user("boss", "system_owner", email="boss@example.com")
    before = _mail_files(app)
    result = run_now(db_session, "ensure_reviews", now="2026-01-02T03:00:00")
    assert result["review"] == "2026-H1" and result["created"]
    assert result["reminders"] == [("2026-H1", "created")]
    run_now(db_session, "ensure_reviews", now="2026-01-03T03:00:00")  # nothing new
    due = run_now(db_session, "ensure_reviews", now="2026-06-12T03:00:00")  # 19 days before 1 July
    assert due["reminders"] == [("2026-H1", "due")] and not due["created"]
    assert run_now(db_session, "ensure_reviews", now="2026-06-20T03:00:00")["reminders"] == []
    # Other tests write to the same folder and file names are random: compare sets, not positions.
    mails = [p.read_text() for p in _mail_files(app) - before]
    assert len(mails) == 2
    assert all("boss@example.com" in m for m in mails)


def test_no_owner_address_sends_nothing_and_retries(db_session):
    specs = parse_periods("H1,H2")
    review, _ = ensure_review(db_session, date(2026, 6, 20), specs)
    sent = send_reminders(
        db_session, date(2026, 6, 20), now=datetime(2026, 6, 20, 1), base_url="https://perception.example"
    )
    assert sent == []
    assert review.reminder_sent_at is None


def test_periodic_schedule_lists_the_job(app):
    periodic = app.extensions["perception.periodic"]
    assert any(p.job == "ensure_reviews" and p.every == "daily" for p in periodic)


def test_button_creates_the_review(login_as, app, db_session):
    from tests.conftest import post_form

    client = login_as("reviewer")
    response = post_form(client, "/reviews/ensure", token_from="/reviews")
    assert response.status_code == 302
    code = db_session.scalar(select(Review.code))
    assert code is not None and code.endswith(("-H1", "-H2"))


def test_unreadable_setting_is_shown_not_a_crash(login_as, app, db_session, monkeypatch):
    from tests.conftest import post_form

    monkeypatch.setitem(app.config, "REVIEW_PERIODS", "1-6")
    client = login_as("reviewer")
    response = post_form(
        client, "/reviews/ensure", token_from="/reviews", headers={"Accept-Language": "zh-CN"}
    )
    assert response.status_code == 302
    page = client.get("/reviews", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "回顾周期必须不重叠地覆盖全年 12 个月" in page
    assert db_session.scalar(select(func.count(Review.id))) == 0


def test_api_creates_the_review_of_a_day_and_names_what_is_wrong(
    app, client, db_session, make_user, monkeypatch
):
    from perception.core.users import issue_token

    _, secret = issue_token(db_session, make_user("rev", "reviewer"), "t")
    auth = {"Authorization": f"Bearer {secret}"}
    made = client.post("/api/v1/reviews", json={"on": "2026/9/1"}, headers=auth)
    assert made.status_code == 201 and made.get_json()["code"] == "2026-H2"
    bad = client.post("/api/v1/reviews", json={"on": "someday"}, headers=auth)
    assert bad.status_code == 422 and bad.mimetype == PROBLEM_JSON
    assert bad.get_json()["errors"][0]["field"] == "on"
    monkeypatch.setitem(app.config, "REVIEW_PERIODS", "H1,H3")
    broken = client.post("/api/v1/reviews", headers=auth)
    assert broken.status_code == 422 and broken.get_json()["errors"][0]["field"] == "REVIEW_PERIODS"


def test_cli_path_creates_the_review(runner, db_session):
    result = runner.invoke(args=["review", "ensure", "--on", "2026-09-01"])
    assert result.exit_code == 0, result.output
    assert "2026-H2" in result.output
    refused = runner.invoke(args=["review", "ensure", "--on", "September"])
    assert refused.exit_code != 0 and "not a valid date" in refused.output
