"""The review page opens at once: its slow sections come from their copy computed ahead
(perception.review.page_cache) and are the same as computed live; what changes on the page (a
finding) shows at once; a copy of another snapshot or a missing one is not used."""

from __future__ import annotations

import re

from sqlalchemy import select

from perception.review.models import ReviewSectionCache
from perception.review.page_cache import SLOW_SECTIONS, STORED
from tests.conftest import post_form


def _sections(html: str) -> str:
    """The page's sections, without the line saying when they were computed or the forms' tokens."""
    start = html.index('id="health"') if 'id="health"' in html else html.index("<section")
    text = re.sub(r'name="csrf_token"[^>]*>', "", html[start:])
    return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?", "<time>", text)


def test_the_page_from_sections_computed_ahead_equals_the_live_page(
    db_session, h1, watermelon, login_as, monkeypatch
):
    from perception.core.jobs import run_now
    from perception.review.services import sections

    client = login_as("reviewer")
    live = client.get(f"/reviews/{h1.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert run_now(db_session, "prepare_review_page", review_id=h1.id) == len(STORED)
    rows = db_session.scalars(select(ReviewSectionCache).where(ReviewSectionCache.review_id == h1.id)).all()
    assert sorted(r.code for r in rows) == sorted(STORED) and all(
        r.view_zh and r.view_en for r in rows if r.code in SLOW_SECTIONS
    )

    # From now on the page does not compute the slow sections at all.
    real = sections.builders

    def without_slow() -> dict:
        built = real()
        for code in SLOW_SECTIONS:
            built[code] = lambda ctx, code=code: (_ for _ in ()).throw(
                AssertionError(f"{code} computed live")
            )
        return built

    monkeypatch.setattr(sections, "builders", without_slow)
    ahead = client.get(f"/reviews/{h1.id}", headers={"Accept-Language": "en"})
    assert ahead.status_code == 200
    assert _sections(ahead.get_data(as_text=True)) == _sections(live)
    zh = client.get(f"/reviews/{h1.id}", headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 200 and "西瓜" in zh.get_data(as_text=True)

    # A finding written on the page shows at once (the findings are always live).
    post_form(
        client,
        f"/reviews/{h1.id}/findings",
        {"kind": "finding", "text": "西瓜效应需要跟进", "evidence": "health|"},
        token_from=f"/reviews/{h1.id}",
    )
    assert "西瓜效应需要跟进" in client.get(f"/reviews/{h1.id}").get_data(as_text=True)


def test_a_copy_of_other_inputs_is_outdated_and_one_of_another_kind_is_not_used(
    db_session, h1, watermelon, login_as
):
    from perception.core.clock import current_clock
    from perception.core.jobs import run_now
    from perception.review.page_cache import current_basis, load

    run_now(db_session, "prepare_review_page", review_id=h1.id)
    basis = current_basis(db_session, h1, current_clock().today())
    assert load(db_session, h1, "en", basis).fresh
    for row in db_session.scalars(select(ReviewSectionCache)):
        row.basis = "in:" + "0" * 61  # computed from other inputs
    db_session.flush()
    old = load(db_session, h1, "en", basis)
    assert old is not None and not old.fresh  # shown (saying so), and the page asks for a new one
    for row in db_session.scalars(select(ReviewSectionCache)):
        row.basis = "another snapshot"
    db_session.flush()
    assert load(db_session, h1, "en", basis) is None
    client = login_as("reviewer")
    assert client.get(f"/reviews/{h1.id}").status_code == 200  # computed live instead
