"""A campaign's results question by question (issue 17, "Charts where people look": a survey owner
saw no per-question results on a campaign, where LimeSurvey and Formbricks show a summary with a
chart per question). Counts are checked against the answers stored; a regional team sees only its
region's answers; comments show without who wrote them."""

from __future__ import annotations

import re
from typing import Any

from tests.surveys.conftest import store

ANSWERS_R1 = [
    {"csat": 5, "ces": 6, "improve": "工程师很专业，希望周末也能上门"},
    {"csat": 4, "ces": 5},
    {"csat": 2, "low_reasons": ["slow_response", "other"], "low_reasons.other": "电话一直占线", "ces": 2},
    {"csat": 1, "low_reasons": ["slow_response", "not_fixed"], "improve": "Please call back before closing."},
]
ANSWERS_R2 = [{"csat": 3, "improve": "上海的秘密意见"}] * 3


def _campaign_with_answers(db_session: Any, make_campaign: Any, org: dict[str, Any]) -> Any:
    campaign = make_campaign("csat_transactional", region=None)
    for answers in ANSWERS_R1:
        store(db_session, campaign.version, answers, campaign=campaign, region_id=org["R1"]["region"].id)
    for answers in ANSWERS_R2:
        store(db_session, campaign.version, answers, campaign=campaign, region_id=org["R2"]["region"].id)
    db_session.commit()
    return campaign


def _bars(html: str, question: str) -> dict[str, tuple[int, str]]:
    section = html.split(f'id="q-{question}"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(
        r'<th scope="row">([^<]*)</th>.*?<td class="num">(\d+)</td><td class="num">(\d+%)</td>', section, re.S
    )
    return {label: (int(count), share) for label, count, share in rows}


def test_the_owner_sees_each_question_summarised_from_the_stored_answers(
    db_session, make_campaign, org, login_as
):
    campaign = _campaign_with_answers(db_session, make_campaign, org)
    owner = login_as("system_owner", language="en")
    page = owner.get(f"/surveys/campaigns/{campaign.id}")
    assert f"/surveys/campaigns/{campaign.id}/results" in page.get_data(as_text=True)
    html = owner.get(f"/surveys/campaigns/{campaign.id}/results").get_data(as_text=True)
    assert "7 responses in the regions you can see." in html
    csat = _bars(html, "csat")
    assert csat == {"1": (1, "14%"), "2": (1, "14%"), "3": (3, "43%"), "4": (1, "14%"), "5": (1, "14%")}
    assert "mean 3.00" in html.split('id="q-csat"', 1)[1].split("</section>", 1)[0]  # (5+4+2+1+3*3)/7
    reasons = _bars(html, "low_reasons")
    assert reasons["We were slow to respond"] == (2, "100%")
    assert reasons["The problem was not properly fixed"] == (1, "50%")
    assert "电话一直占线" in html  # the "other" text is quoted
    assert "Please call back before closing." in html and "上海的秘密意见" in html


def test_a_regional_team_sees_only_its_region(db_session, make_campaign, org, login_as):
    campaign = _campaign_with_answers(db_session, make_campaign, org)
    collector = login_as("collector", region="R1")
    html = collector.get(f"/surveys/campaigns/{campaign.id}/results").get_data(as_text=True)
    assert "上海的秘密意见" not in html
    assert sum(count for count, _ in _bars(html, "csat").values()) == 4


def test_an_unknown_campaign_is_404_and_a_market_user_is_refused(db_session, make_campaign, org, login_as):
    campaign = _campaign_with_answers(db_session, make_campaign, org)
    owner = login_as("system_owner")
    assert owner.get("/surveys/campaigns/999999/results").status_code == 404
    market = login_as("market")
    assert market.get(f"/surveys/campaigns/{campaign.id}/results").status_code in (302, 403)


def test_the_summary_reads_in_chinese(db_session, make_campaign, org, login_as):
    campaign = _campaign_with_answers(db_session, make_campaign, org)
    owner = login_as("system_owner", language="zh_CN")
    html = owner.get(f"/surveys/campaigns/{campaign.id}/results").get_data(as_text=True)
    assert "逐题结果" in html and "您可查看的区域内共 7 份答卷。" in html
    assert "满意度（CSAT）" in html and "响应太慢" in html
