"""Issue 17 "A home that says what to do now", for the roles of the review phase: the owner's
home names the review to sign once its period has ended (with its due date) and the standards
waiting; before the end it asks for findings; a representative's home lists the review to
countersign until their organisation has countersigned it."""

from __future__ import annotations

import re
from datetime import datetime

from perception.core.clock import Clock
from perception.review.services import signoff as review_signoff
from tests.conftest import post_form
from tests.facts import add_standard


def _todos(client) -> dict[str, str]:
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    items = re.findall(r'<li data-todo="([^"]+)"[^>]*>(.*?)</li>', html, flags=re.S)
    return {key: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip() for key, body in items}


def test_owner_home_names_the_review_to_sign_and_the_standards_waiting(
    app, db_session, h1, catalog, login_as, monkeypatch
):
    draft = add_standard(
        db_session,
        catalog["DESK"],
        "DESK-NEW",
        "csat_share",
        "questionnaire",
        ">=",
        0.8,
        category="experience",
    )
    draft.versions[0].status = "draft"
    db_session.flush()
    owner = login_as("system_owner", username="boss")
    monkeypatch.setitem(app.config, "CLOCK_NOW", datetime(2026, 6, 1, 2, 0))
    todos = _todos(owner)
    assert (
        "Write the findings of review" in todos["review:2026-H1"]
        and "due 2026-06-30" in todos["review:2026-H1"]
    )
    assert "Propose standard DESK-NEW (draft v1)" in todos["standard:DESK-NEW"]
    monkeypatch.setitem(app.config, "CLOCK_NOW", datetime(2026, 7, 20, 2, 0))
    todos = _todos(owner)
    assert "Sign review" in todos["review:2026-H1"] and "overdue since 2026-07-15" in todos["review:2026-H1"]
    assert "No finding or decision recorded yet." in todos["review:2026-H1"]


def test_representative_home_lists_the_review_until_countersigned(
    app, db_session, h1, make_user, login_as, monkeypatch
):
    monkeypatch.setitem(app.config, "CLOCK_NOW", datetime(2026, 7, 20, 2, 0))
    review_signoff.sign(
        db_session, h1, make_user("boss", "system_owner"), clock=Clock(fixed_now=datetime(2026, 7, 6))
    )
    rep = login_as("customer_rep", username="rep1")
    todos = _todos(rep)
    assert list(todos) == ["review:2026-H1"] and "Countersign the review" in todos["review:2026-H1"]
    url = f"/reviews/{h1.id}"
    assert post_form(rep, f"{url}/sign", token_from=url).status_code == 302
    assert _todos(rep) == {}
