"""Findings and improvement titles in both languages (issue 17: "bilingual fields carry both, one
chosen"): the forms and the API take a Chinese and an English text; each language's page shows
its own, the other only when one language was given; neither language at all is refused."""

from __future__ import annotations

import re

from sqlalchemy import select

from perception.review.models import ImprovementItem, ReviewFinding
from tests.conftest import post_form


def test_the_finding_form_takes_both_languages_and_each_page_shows_its_own(db_session, h1, login_as):
    client = login_as("reviewer")
    url = f"/reviews/{h1.id}"
    response = post_form(
        client,
        f"{url}/findings",
        {
            "kind": "finding",
            "text": "回访闭环率偏低",
            "text_en": "Few callbacks are closed",
            "evidence": "health|",
        },
        token_from=url,
    )
    assert response.status_code == 302
    finding = db_session.scalar(select(ReviewFinding))
    assert (finding.text, finding.text_en) == ("回访闭环率偏低", "Few callbacks are closed")
    zh = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    en = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "发现或决定（英文）" in zh and "Finding or decision (English)" in en
    assert "回访闭环率偏低" in zh and "Few callbacks are closed" in en
    shown = {
        lang: re.search(r"</strong>\s*(.*?)\s*<br>", page.split('id="findings"')[1])
        for lang, page in (("zh", zh), ("en", en))
    }
    assert shown["zh"].group(1) == "回访闭环率偏低" and shown["en"].group(1) == "Few callbacks are closed"


def test_a_finding_in_one_language_is_enough_and_none_is_refused(db_session, h1, login_as):
    client = login_as("reviewer")
    url = f"/reviews/{h1.id}"
    post_form(
        client,
        f"{url}/findings",
        {"kind": "finding", "text_en": "English only", "evidence": "health|"},
        token_from=url,
    )
    finding = db_session.scalar(select(ReviewFinding))
    assert (finding.text, finding.text_en) == ("", "English only")
    assert "English only" in client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    post_form(client, f"{url}/findings", {"kind": "finding", "evidence": "health|"}, token_from=url)
    page = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Write the text in Chinese or English (at most 5000 characters)." in page
    assert len(db_session.scalars(select(ReviewFinding)).all()) == 1


def test_the_register_form_and_api_take_an_english_title(db_session, org, login_as):
    from perception.core.users import issue_token

    client = login_as("analyst")
    fields = {"source": "analyst", "value": "3", "effort": "3", "status": "proposed", "measure_weeks": "8"}
    response = post_form(
        client,
        "/improvements/new",
        {"title_en": "Callback template", **fields},
        token_from="/improvements/new",
    )
    assert response.status_code == 302
    item = db_session.scalar(select(ImprovementItem))
    assert (item.title, item.title_en) == ("", "Callback template")
    assert "Callback template" in client.get("/improvements", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    _, secret = issue_token(db_session, client.user, "t")
    auth = {"Authorization": f"Bearer {secret}"}
    made = client.post(
        "/api/v1/improvements", json={"title": "夜间变更", "title_en": "Night changes"}, headers=auth
    )
    assert made.status_code == 201, made.get_json()
    assert (made.get_json()["title"], made.get_json()["title_en"]) == ("夜间变更", "Night changes")
    refused = client.post("/api/v1/improvements", json={"title_en": ""}, headers=auth)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "title"


def test_the_findings_api_takes_both_languages(db_session, h1, login_as):
    from perception.core.users import issue_token

    client = login_as("reviewer")
    _, secret = issue_token(db_session, client.user, "t")
    auth = {"Authorization": f"Bearer {secret}"}
    made = client.post(
        f"/api/v1/reviews/{h1.id}/findings",
        json={"kind": "decision", "text_en": "Move changes to the night", "evidence_section": "health"},
        headers=auth,
    )
    assert made.status_code == 201, made.get_json()
    body = client.get(f"/api/v1/reviews/{h1.id}", headers=auth).get_json()
    assert [(f["text"], f["text_en"]) for f in body["findings"]] == [("", "Move changes to the night")]
