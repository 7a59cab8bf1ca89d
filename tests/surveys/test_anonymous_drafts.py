"""Issue 18: an anonymous respondent's answers so far live on the server under an opaque key, so a
4,000-character Chinese comment (which overflowed the 4 KB session cookie and was dropped by the
browser) reaches the stored response whole."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select, text

from perception.surveys.models import AnonymousDraft, Response

TWO_PAGES = {
    "schema_version": 1,
    "id": "long_story",
    "version": "1",
    "title": {"zh": "请讲讲这次服务", "en": "Tell us about the service"},
    "pages": [
        {"id": "story", "questions": [
            {"id": "story", "type": "text", "multiline": True, "max_length": 4000,
             "text": {"zh": "请详细描述这次服务的经过", "en": "Please describe what happened"}},
        ]},
        {"id": "rating", "questions": [
            {"id": "csat", "type": "csat", "required": True,
             "text": {"zh": "总体满意程度", "en": "Overall satisfaction"}},
        ]},
    ],
}  # fmt: skip
# 4,000 distinct-enough Chinese characters: a signed cookie cannot compress them under 4 KB.
COMMENT = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(4000))
BROWSER_COOKIE_LIMIT = 4093  # bytes for name, value and attributes (RFC 6265 section 6.1 minimum)


def _campaign(db_session, make_campaign):
    from perception.surveys.services.definitions import publish

    version = publish(db_session, "long-story", TWO_PAGES)
    return make_campaign(channel="anonymous", version_id=version.id)


def test_a_4000_character_chinese_comment_reaches_the_response(app, db_session, make_campaign, post_page):
    campaign = _campaign(db_session, make_campaign)
    client = app.test_client()
    path = f"/s/a/{campaign.public_slug}"
    moved_on = post_page(client, path, {"story": COMMENT})
    assert moved_on.status_code == 303
    cookie = moved_on.headers.get("Set-Cookie", "")
    assert 0 < len(cookie.encode()) < BROWSER_COOKIE_LIMIT  # a browser keeps it
    assert "story" not in cookie
    # The draft is on the server, keyed by the cookie's opaque key, with the day only.
    draft = db_session.scalar(select(AnonymousDraft).where(AnonymousDraft.campaign_id == campaign.id))
    assert draft.answers == {"story": COMMENT} and draft.page_index == 1
    assert isinstance(draft.saved_on, date)
    page_two = client.get(path).get_data(as_text=True)
    assert 'name="csat"' in page_two
    # Back to page one: the comment is still there, whole.
    back = post_page(client, path, {"csat": "4"}, action="back", html=page_two)
    assert back.status_code == 303
    page_one = client.get(path).get_data(as_text=True)
    assert COMMENT in page_one
    post_page(client, path, {"story": COMMENT}, html=page_one)
    done = post_page(client, path, {"csat": "4"})
    assert done.status_code == 303 and done.location.split("?")[0].endswith("/s/done")
    response = db_session.scalar(select(Response).where(Response.campaign_id == campaign.id))
    assert response.answers["story"] == COMMENT and response.answers["csat"] == 4
    # Submitted: the draft is gone, and nothing in its table remains to link to the response.
    assert db_session.scalar(select(func.count(AnonymousDraft.id))) == 0


def test_another_browser_does_not_see_the_draft(app, db_session, make_campaign, post_page):
    campaign = _campaign(db_session, make_campaign)
    path = f"/s/a/{campaign.public_slug}"
    first = app.test_client()
    post_page(first, path, {"story": "第一位受访者的意见"})
    other = app.test_client().get(path).get_data(as_text=True)
    assert "第一位受访者的意见" not in other and 'name="story"' in other


def test_stale_anonymous_drafts_are_purged(app, db_session, make_campaign):
    from perception.surveys.services import anonymous_drafts

    campaign = _campaign(db_session, make_campaign)
    today = date(2026, 12, 5)
    anonymous_drafts.save(db_session, "old-key", campaign.id, {"story": "旧"}, 1, today - timedelta(days=31))
    anonymous_drafts.save(db_session, "new-key", campaign.id, {"story": "新"}, 1, today - timedelta(days=2))
    assert anonymous_drafts.purge(db_session, today) == 1
    assert [row[0] for row in db_session.execute(text("SELECT answers FROM survey_anonymous_draft"))] != []
    assert anonymous_drafts.load(db_session, "new-key", campaign.id)[0] == {"story": "新"}
    assert anonymous_drafts.load(db_session, "old-key", campaign.id) == ({}, None)


def test_cached_pages_carry_each_respondents_own_values(app, db_session, make_campaign, post_page):
    """The page shell is rendered once (respondent/page_cache.py); each respondent still gets their
    own CSRF token, nonce and answers, and never another's."""
    from tests.surveys.conftest import CSRF, NONCE, hidden

    campaign = _campaign(db_session, make_campaign)
    path = f"/s/a/{campaign.public_slug}"
    first, second = app.test_client(), app.test_client()
    post_page(first, path, {"story": "甲的意见 <b>粗体</b>"})
    post_page(first, path, {}, action="back")
    mine = first.get(path).get_data(as_text=True)
    assert "甲的意见 &lt;b&gt;粗体&lt;/b&gt;" in mine  # prefilled, escaped
    blank_a, blank_b = (second.get(path).get_data(as_text=True) for _ in range(2))
    assert "甲的意见" not in blank_a and "甲的意见" not in blank_b
    assert hidden(NONCE, blank_a) != hidden(NONCE, blank_b) != hidden(NONCE, mine)
    assert hidden(CSRF, blank_a) and hidden(CSRF, mine) and "csrf-" not in blank_a + mine
