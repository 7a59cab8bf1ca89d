"""Survey links and guessing (issue 18): 30 re-opened or unknown links from one address used to
lock every link out for that address (a fresh, never-used link got 429), so one impatient
respondent behind a company's shared address blocked the whole company. A used link is not a
guess, and a real link opens whatever the address did before."""

from __future__ import annotations

from sqlalchemy import select

from perception.core.models.auth import ThrottleCounter

OFFICE = {"REMOTE_ADDR": "192.0.2.10"}  # one customer's shared NAT address


def test_reopening_a_used_link_is_not_a_guess(app, db_session, make_campaign, invite, post_page, monkeypatch):
    limit = app.config.get("SURVEY_TOKEN_MAX_FAILURES", 30)
    answered = make_campaign()
    used = invite(answered)["r1@example.com"]
    first = app.test_client()
    assert first.get(f"/s/t/{used}", environ_base=OFFICE).status_code == 303
    assert post_page(first, "/s/r", {"csat": "4"}).status_code == 303
    impatient = app.test_client()
    for _ in range(limit + 5):  # the respondent clicks their used link again and again
        assert impatient.get(f"/s/t/{used}", environ_base=OFFICE).status_code == 404
    assert db_session.get(ThrottleCounter, f"survey-guess:{OFFICE['REMOTE_ADDR']}") is None
    fresh = invite(make_campaign(region="R2"))["r2@example.com"]
    assert app.test_client().get(f"/s/t/{fresh}", environ_base=OFFICE).status_code == 303


def test_a_fresh_link_opens_from_an_address_that_guessed(app, db_session, make_campaign, invite, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_TOKEN_MAX_FAILURES", 5)
    token = invite(make_campaign())["r1@example.com"]
    guesser = app.test_client()
    statuses = [guesser.get(f"/s/t/no-such-link-{i:030d}", environ_base=OFFICE).status_code for i in range(8)]
    assert statuses == [404] * 5 + [429] * 3  # guessing is throttled...
    respondent = app.test_client()
    assert respondent.get(f"/s/t/{token}", environ_base=OFFICE).status_code == 303  # ...not respondents
    assert respondent.get("/s/r").status_code == 200
    counter = db_session.scalar(select(ThrottleCounter).where(ThrottleCounter.key.like("survey-guess:%")))
    assert counter.hits == 8
