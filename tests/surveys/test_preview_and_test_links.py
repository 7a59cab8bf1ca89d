"""Survey preview and test links (issue 17, "Charts where people look": "no preview or test link").

The preview shows a version or a campaign in zh and en, in frames of this site only, as the very
page a respondent gets (the same renderer and page cache: compared byte for byte but for the CSRF
token, the nonce and the form's address) and stores nothing. A test link goes through the real
respondent pages, is single-use and expires, and its answers (kept apart, listed for the owner)
change no page, figure, fact, follow-up, webhook or job. Region and role scoping as elsewhere."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.surveys.conftest import answer_page

CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+|(value=")[^"]+("[^>]*name="csrf_token")')
NONCE_VALUE = re.compile(r'(name="submission_nonce"[^>]*value=")[^"]+')
TEST_LINK = re.compile(r"/s/t/([A-Za-z0-9_-]{20,})")


def normalised(html: str) -> str:
    html = CSRF_VALUE.sub(lambda m: (m.group(1) or m.group(2)) + "X" + (m.group(3) or ""), html)
    html = NONCE_VALUE.sub(lambda m: m.group(1) + "N", html)
    html = re.sub(r'action="[^"]*"', 'action="A"', html)
    return re.sub(r'name="next" value="[^"]*"', 'name="next" value="P"', html)


@pytest.fixture
def owner(app: Any, make_user: Any) -> Any:
    from tests.conftest import login

    make_user("own", "system_owner")
    browser = app.test_client()
    login(browser, "own")
    return browser


def test_the_preview_is_the_respondents_page_in_zh_and_en_in_frames_of_this_site(
    app: Any, owner: Any, db_session: Any, make_campaign: Any, invite: Any
) -> None:
    campaign = make_campaign("csat_transactional", region="R1")
    page = owner.get(f"/surveys/campaigns/{campaign.id}/preview")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<iframe") == 2
    assert page.headers["X-Frame-Options"] == "DENY"  # the staff page itself is never framed
    tokens = invite(campaign)
    for lang, accept, title in (("zh", "zh-CN", "服务满意度回访"), ("en", "en", "How did we do?")):
        frame = owner.get(f"/surveys/campaigns/{campaign.id}/preview/{lang}")
        assert frame.status_code == 200 and title in frame.get_data(as_text=True)
        assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in frame.headers["Content-Security-Policy"]
        respondent = app.test_client()
        respondent.get(f"/s/t/{tokens['r1@example.com']}", headers={"Accept-Language": accept})
        seen = respondent.get("/s/r", headers={"Accept-Language": accept}).get_data(as_text=True)
        assert normalised(frame.get_data(as_text=True)) == normalised(seen)


def test_clicking_through_the_preview_stores_nothing(
    owner: Any, db_session: Any, make_campaign: Any, versions: Any
) -> None:
    from perception.surveys.models import Response, SurveyTestLink

    campaign = make_campaign("csat_transactional", region="R1", open_=False)
    path = f"/surveys/campaigns/{campaign.id}/preview/en"
    wrong = answer_page(owner, path, {"csat": "9"})
    assert wrong.status_code == 422 and "need your attention" in wrong.get_data(as_text=True)
    done = answer_page(
        owner, path, {"csat": "1", "low_reasons": "slow_response", "improve": "投诉: too slow"}
    )
    assert done.status_code == 303 and done.location.endswith("?done=1")
    thanks = owner.get(done.location)
    assert thanks.status_code == 200 and "Thank you" in thanks.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Response)) == 0
    assert db_session.scalar(select(func.count()).select_from(SurveyTestLink)) == 0
    version = versions["csat_transactional"]
    assert owner.get(f"/surveys/versions/{version.id}/preview").status_code == 200
    assert owner.get(f"/surveys/versions/{version.id}/preview/zh").status_code == 200
    assert owner.get(f"/surveys/versions/{version.id}/preview/fr").status_code == 404


def test_a_post_ticket_campaign_previews_an_example_ticket(owner: Any, make_campaign: Any) -> None:
    campaign = make_campaign("csat_transactional", kind="transactional", region=None)
    html = owner.get(f"/surveys/campaigns/{campaign.id}/preview/en").get_data(as_text=True)
    assert "About ticket INC0012345" in html
    html = owner.get(f"/surveys/campaigns/{campaign.id}/preview/zh").get_data(as_text=True)
    assert "关于工单 INC0012345" in html


def test_preview_and_test_links_follow_roles_and_regions(
    app: Any, db_session: Any, make_user: Any, make_campaign: Any, versions: Any
) -> None:
    from tests.conftest import csrf_token, login

    campaign = make_campaign("csat_transactional", region="R1")
    make_user("coll2", "collector", region="R2")
    make_user("man", "manager", region="R1")
    other = app.test_client()
    login(other, "coll2")
    for path in (f"/surveys/campaigns/{campaign.id}/preview", f"/surveys/campaigns/{campaign.id}/preview/zh"):
        assert other.get(path).status_code == 404
    viewer = app.test_client()
    login(viewer, "man")
    assert viewer.get(f"/surveys/campaigns/{campaign.id}/preview").status_code == 200
    token = csrf_token(viewer, f"/surveys/campaigns/{campaign.id}")
    made = viewer.post(f"/surveys/campaigns/{campaign.id}/test-links", data={"csrf_token": token})
    assert made.status_code == 403
    version = versions["csat_transactional"]
    assert (
        viewer.post(f"/surveys/versions/{version.id}/test-links", data={"csrf_token": token}).status_code
        == 403
    )


def make_test_link(owner: Any, path: str) -> str:
    from tests.conftest import csrf_token

    made = owner.post(f"{path}/test-links", data={"csrf_token": csrf_token(owner, f"{path}/preview")})
    assert made.status_code == 200
    found = TEST_LINK.findall(made.get_data(as_text=True))
    assert len(found) == 1
    return found[0]


def test_a_test_link_runs_the_real_flow_once_and_expires(
    app: Any, owner: Any, db_session: Any, make_campaign: Any, versions: Any
) -> None:
    from perception.surveys.models import SurveyTestLink

    campaign = make_campaign("csat_transactional", region="R1", open_=False)  # a draft: testing first
    token = make_test_link(owner, f"/surveys/campaigns/{campaign.id}")
    stored = db_session.scalar(select(SurveyTestLink))
    assert token not in (stored.token_hash or "") and len(stored.token_hash) == 64
    tester = app.test_client()
    opened = tester.get(f"/s/t/{token}", headers={"Accept-Language": "en"})
    assert opened.status_code == 303 and opened.location.endswith("/s/r")
    page = tester.get("/s/r", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "How did we do?" in page
    done = answer_page(
        tester, "/s/r", {"csat": "2", "low_reasons": "attitude", "improve": "Slow reply"}, html=page
    )
    assert done.status_code == 303 and "/s/done" in done.location
    assert "Thank you" in tester.get(done.location, headers={"Accept-Language": "en"}).get_data(as_text=True)
    db_session.expire_all()
    stored = db_session.scalar(select(SurveyTestLink))
    assert (
        stored.answers == {"csat": 2, "low_reasons": ["attitude"], "improve": "Slow reply"}
        and stored.used_at is not None
    )
    assert stored.language == "en"
    # Single-use: the link again is the neutral page, and a second POST stores nothing more.
    assert app.test_client().get(f"/s/t/{token}").status_code == 404
    listed = owner.get(f"/surveys/campaigns/{campaign.id}/preview", headers={"Accept-Language": "en"})
    assert "Slow reply" in listed.get_data(as_text=True)
    # Expiry: a second link past its day is refused like an expired real link.
    second = make_test_link(owner, f"/surveys/versions/{versions['csat_transactional'].id}")
    newest = db_session.scalar(select(SurveyTestLink).order_by(SurveyTestLink.id.desc()))
    newest.expires_at = newest.created_at - timedelta(seconds=1)
    db_session.flush()
    assert app.test_client().get(f"/s/t/{second}").status_code == 404


def snapshot(db_session: Any, analyst: Any, campaign: Any, bearer: str) -> dict[str, Any]:
    from perception.core.models.facts import ExperienceObservation, TextEntry
    from perception.core.models.jobs import Job
    from perception.core.models.webhooks import WebhookDelivery
    from perception.surveys.models import FollowUpTask, Invitation, Response, ResponseDraft

    counts = {
        model.__name__: db_session.scalar(select(func.count()).select_from(model))
        for model in (Response, ExperienceObservation, TextEntry, FollowUpTask, Invitation, ResponseDraft,
                      WebhookDelivery, Job)
    }  # fmt: skip
    pages = {}
    for path in (
        "/surveys/", f"/surveys/campaigns/{campaign.id}", f"/surveys/campaigns/{campaign.id}/results",
        "/surveys/followups", "/analysis/overview", "/analysis/experience", "/analysis/kpi-vs-experience",
        "/analysis/demand", "/analysis/alerts", "/", "/api/v1/campaigns",
        f"/api/v1/campaigns/{campaign.id}", "/api/v1/followups",
    ):  # fmt: skip
        headers = {"Accept-Language": "en"} | (
            {"Authorization": f"Bearer {bearer}"} if "/api/" in path else {}
        )
        answer = analyst.get(path, headers=headers)
        pages[path] = (answer.status_code, normalised(answer.get_data(as_text=True)))
    return {"counts": counts, "pages": pages}


def test_a_test_answer_changes_no_page_figure_fact_followup_webhook_or_job(
    app: Any, owner: Any, db_session: Any, org: Any, make_campaign: Any, make_user: Any, invite: Any
) -> None:
    from perception.core.models.webhooks import WebhookSubscription
    from perception.core.webhooks import new_secret
    from tests.conftest import login

    db_session.add(WebhookSubscription(url="http://127.0.0.1:9/unused", event_types=["response.scored",
                   "followup.created"], secret=new_secret()))  # fmt: skip
    campaign = make_campaign("csat_transactional", region="R1")
    real = invite(campaign)["r1@example.com"]
    respondent = app.test_client()
    respondent.get(f"/s/t/{real}")
    answer_page(respondent, "/s/r", {"csat": "4", "improve": "Fine"})
    from perception.core.users import issue_token

    _, bearer = issue_token(db_session, make_user("ana", "analyst"), "t")
    analyst = app.test_client()
    login(analyst, "ana")
    before = snapshot(db_session, analyst, campaign, bearer)
    assert before["counts"]["Response"] == 1 and before["counts"]["WebhookDelivery"] >= 1
    token = make_test_link(owner, f"/surveys/campaigns/{campaign.id}")
    tester = app.test_client()
    tester.get(f"/s/t/{token}")
    done = answer_page(
        tester, "/s/r", {"csat": "1", "low_reasons": "slow_response", "improve": "投诉 complaint: very slow"}
    )
    assert done.status_code == 303
    db_session.expire_all()
    after = snapshot(db_session, analyst, campaign, bearer)
    assert [p for p, (s, _) in before["pages"].items() if s != 200] == []
    assert after["counts"] == before["counts"]
    for path, seen in before["pages"].items():
        assert after["pages"][path] == seen, path


def test_the_preview_page_shows_words_not_codes_in_both_languages(
    app: Any, owner: Any, make_campaign: Any
) -> None:
    from tests.e2e.test_visible_words import PATTERNS, _english_msgids, visible_text

    campaign = make_campaign("csat_transactional", kind="transactional", region=None)
    token = make_test_link(owner, f"/surveys/campaigns/{campaign.id}")
    tester = app.test_client()
    tester.get(f"/s/t/{token}")
    answer_page(tester, "/s/r", {"csat": "1", "low_reasons": "not_fixed", "improve": "太慢"})
    msgids = _english_msgids()
    base = f"/surveys/campaigns/{campaign.id}/preview"
    for path in (base, f"{base}/zh", f"{base}/en"):
        for lang in ("zh-CN", "en"):
            answer = owner.get(path, headers={"Accept-Language": lang})
            assert answer.status_code == 200
            text = visible_text(answer.get_data(as_text=True))
            for name, pattern in PATTERNS.items():
                assert pattern.search(text) is None, (path, lang, name, pattern.search(text))
            if lang == "zh-CN" and not path.endswith("/en"):
                flat = re.sub(r"\s+", " ", text)
                assert [m for m in msgids if m in flat] == [], path
    listed = owner.get(f"/surveys/campaigns/{campaign.id}/preview", headers={"Accept-Language": "zh-CN"})
    assert "问题没有彻底解决" in listed.get_data(as_text=True)  # the answer in words, not "not_fixed"


def test_a_test_link_of_a_several_page_version_keeps_the_answers_so_far_on_its_own_row(
    app: Any, owner: Any, db_session: Any, versions: Any
) -> None:
    from perception.surveys.models import ResponseDraft, SurveyTestLink

    token = make_test_link(owner, f"/surveys/versions/{versions['nps_relationship'].id}")
    tester = app.test_client()
    tester.get(f"/s/t/{token}", headers={"Accept-Language": "en"})
    moved = answer_page(tester, "/s/r", {"nps": "9", "reason": "Quick"})
    assert moved.status_code == 303
    db_session.expire_all()
    link = db_session.scalar(select(SurveyTestLink))
    assert link.draft == {"nps": 9, "reason": "Quick"} and link.page_index == 1 and link.used_at is None
    second = tester.get("/s/r", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Rate each aspect" in second
    done = answer_page(tester, "/s/r", {}, html=second)
    assert done.status_code == 303 and "/s/done" in done.location
    db_session.expire_all()
    link = db_session.scalar(select(SurveyTestLink))
    assert link.answers["nps"] == 9 and link.draft is None and link.used_at is not None
    assert db_session.scalar(select(func.count()).select_from(ResponseDraft)) == 0
