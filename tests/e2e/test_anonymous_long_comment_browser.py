"""Issue 18 in a real browser: Chromium types a 4,000-character Chinese comment on page one of an
anonymous survey, moves on, submits page two, and the whole comment is stored. (When the answers
rode in the session cookie, the browser dropped the 13 KB cookie and the comment was lost.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser import ARGS, CHROMIUM, survey_server
from tests.surveys.test_anonymous_drafts import COMMENT, TWO_PAGES

pytestmark = pytest.mark.browser


def _seed_anonymous_campaign(app: Any) -> str:
    from perception.core.extensions import db
    from perception.core.models.base import utcnow
    from perception.core.models.org import Region
    from perception.surveys.models import CampaignStatus
    from perception.surveys.services.campaigns import create_campaign
    from perception.surveys.services.definitions import publish

    with app.app_context():
        db.create_all()
        region = Region(code="SH", name_zh="上海", name_en="Shanghai")
        db.session.add(region)
        db.session.flush()
        version = publish(db.session, "long-story", TWO_PAGES)
        now = utcnow()
        campaign = create_campaign(
            db.session,
            {"code": "A1", "name_zh": "匿名调查", "name_en": "Anonymous survey", "version_id": version.id,
             "channel": "anonymous", "region_id": region.id, "opens_at": now - timedelta(hours=1),
             "closes_at": now + timedelta(days=3)},
            None,
        )  # fmt: skip
        campaign.status = CampaignStatus.OPEN
        slug = str(campaign.public_slug)
        db.session.commit()
        db.session.remove()
    return slug


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with survey_server(tmp_path, monkeypatch, lambda app: {"slug": _seed_anonymous_campaign(app)}) as server:
        yield server


def test_a_4000_character_comment_survives_the_anonymous_survey(live):
    from playwright.sync_api import sync_playwright

    from perception.core.extensions import db
    from perception.surveys.models import AnonymousDraft, Response

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            page.goto(f"{live['base']}/s/a/{live['slug']}")
            page.get_by_label("请详细描述这次服务的经过").fill(COMMENT)
            page.get_by_role("button", name="下一页").click()
            page.wait_for_selector('input[name="csat"]')
            page.locator('label[for$="csat-4"]').click()
            page.get_by_role("button", name="提交").click()
            page.wait_for_url("**/s/done?v=*")
        finally:
            browser.close()
    with live["app"].app_context():
        response = db.session.scalar(select(Response))
        assert response is not None and response.answers == {"story": COMMENT, "csat": 4}
        assert db.session.scalar(select(AnonymousDraft)) is None
        db.session.remove()
