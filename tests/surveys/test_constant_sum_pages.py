"""A respondent shares 100 points among the SERVQUAL dimensions on the survey page: a valid
allocation is stored (answers and importance facts, anonymously on an anonymous link), a wrong sum,
a bad row or nothing at all is shown again with a specific message and stores nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from perception.core.models.facts import ExperienceObservation as Obs
from perception.surveys.models import Response

DIMS = ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]
SHARE = {"tangibles": 10, "reliability": 35, "responsiveness": 20, "assurance": 20, "empathy": 15}


def _definition():
    t = lambda zh, en: {"zh": zh, "en": en}  # noqa: E731
    return {
        "schema_version": 1,
        "id": "servqual_short",
        "version": "1",
        "title": t("服务质量（简）", "Service quality (short)"),
        "pages": [
            {
                "id": "all",
                "questions": [
                    {"id": "rel", "type": "servqual", "servqual_dimension": "reliability", "required": True,
                     "text": t("按时完成承诺的事", "Does what it promises on time")},
                    {"id": "importance", "type": "constant_sum", "required": True,
                     "text": t("请把 100 分分配给以下五个方面", "Share 100 points among the five aspects"),
                     "rows": [{"id": d, "servqual_dimension": d, "text": t(d, d.title())} for d in DIMS]},
                ],
            }
        ],
    }  # fmt: skip


@pytest.fixture
def campaign(db_session, make_campaign):
    from perception.surveys.services.definitions import publish

    version = publish(db_session, "servqual_short", _definition())
    return make_campaign(channel="anonymous", version_id=version.id)


def _post(app, post_page, campaign, fields, lang="en"):
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    path = f"/s/a/{campaign.public_slug}"
    html = c.get(path).get_data(as_text=True)
    assert 'data-total="100"' in html and 'inputmode="numeric"' in html  # the question is on the page
    pair = {"rel.expectation": "7", "rel.perception": "5"}
    return post_page(c, path, {**pair, **fields}, html=html)


def _stored(db_session, campaign):
    return db_session.scalar(select(func.count(Response.id)).where(Response.campaign_id == campaign.id))


def test_valid_points_are_stored_with_their_facts(app, db_session, campaign, post_page):
    done = _post(app, post_page, campaign, {f"importance.{d}": str(v) for d, v in SHARE.items()})
    assert done.status_code == 303 and done.location.split("?")[0].endswith("/s/done")
    response = db_session.scalar(select(Response).where(Response.campaign_id == campaign.id))
    assert response.answers["importance"] == SHARE
    assert response.contact_id is None and response.submitted_at.time().isoformat() == "00:00:00"
    facts = db_session.execute(
        select(Obs.servqual_dimension, Obs.value, Obs.scale_max, Obs.customer_id, Obs.item).where(
            Obs.source_id == response.id, Obs.kind == "importance"
        )
    ).all()
    assert {d: v for d, v, *_ in facts} == SHARE
    assert {(m, c) for _, _, m, c, _ in facts} == {(100.0, None)}
    assert {i for *_, i in facts} == {f"importance.{d}" for d in DIMS}


def test_a_blank_row_counts_zero_and_results_give_mean_points(app, db_session, campaign, post_page):
    from perception.surveys.services.question_results import question_results

    done = _post(app, post_page, campaign, {"importance.reliability": "60", "importance.empathy": "40"})
    assert done.status_code == 303
    response = db_session.scalar(select(Response).where(Response.campaign_id == campaign.id))
    assert response.answers["importance"] == dict.fromkeys(DIMS, 0) | {"reliability": 60, "empathy": 40}
    _post(app, post_page, campaign, {f"importance.{d}": str(v) for d, v in SHARE.items()})
    count, results = question_results(db_session, campaign, "en", None)
    means = {r.question_id: (r.answered, r.mean) for r in results if r.question_id.startswith("importance.")}
    assert count == 2 and means["importance.reliability"] == (2, (60 + 35) / 2)
    assert means["importance.tangibles"] == (2, (0 + 10) / 2)


def test_a_wrong_sum_is_shown_again_with_the_totals(app, db_session, campaign, post_page):
    fields = {f"importance.{d}": str(v) for d, v in SHARE.items()} | {"importance.empathy": "5"}
    page = _post(app, post_page, campaign, fields)
    html = page.get_data(as_text=True)
    assert page.status_code == 422  # shown again, nothing stored
    assert "The points must add up to exactly 100; they now add up to 90." in html
    assert 'name="importance.empathy" value="5"' in html  # what was typed is kept
    assert ">90</output> / 100 points" in html
    zh = _post(app, post_page, campaign, fields, lang="zh").get_data(as_text=True)
    assert "各项分数合计须正好为 100 分，目前为 90 分。" in zh
    assert _stored(db_session, campaign) == 0


def test_a_bad_row_is_named(app, db_session, campaign, post_page):
    fields = {f"importance.{d}": str(v) for d, v in SHARE.items()} | {"importance.tangibles": "-10"}
    html = _post(app, post_page, campaign, fields).get_data(as_text=True)
    assert "Tangibles: Please enter a whole number of points from 0 to 100." in html
    assert _stored(db_session, campaign) == 0


def test_missing_points_are_asked_for(app, db_session, campaign, post_page):
    page = _post(app, post_page, campaign, {})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "Please answer this question." in html
    assert html.count("survey-question--invalid") == 1  # only the points question
    assert _stored(db_session, campaign) == 0
