"""Issue 19: the review page shown from its copy reads the stored views of the asked language only.
At a tenth of a national provider's size the stored sections hold 8 MB of JSON (the KPI-versus-
experience section alone 2.9 MB of content and 2.6 and 2.4 MB of views), and the page parsed both
languages' views on every load. The page in each language is the page computed live (see
test_review_page_ahead.py); here, what it reads."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from perception.review.page_cache import STORED


@pytest.mark.parametrize(
    ("language", "wanted", "other"), [("zh-CN", "view_zh", "view_en"), ("en", "view_en", "view_zh")]
)
def test_the_page_reads_its_own_language_of_the_copy(
    db_session, h1, watermelon, login_as, language, wanted, other
):
    from perception.core.jobs import run_now

    client = login_as("reviewer")
    assert run_now(db_session, "prepare_review_page", review_id=h1.id) == len(STORED)
    seen: list[str] = []

    def listen(conn, cursor, statement, params, context, executemany):
        if "FROM review_section_cache" in statement:
            seen.append(statement)

    engine = db_session.get_bind()
    event.listen(engine, "before_cursor_execute", listen)
    try:
        page = client.get(f"/reviews/{h1.id}", headers={"Accept-Language": language})
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert page.status_code == 200
    assert seen and all(wanted in s and other not in s for s in seen)
