"""A phone-sized Chromium shares 100 points on the servqual importance question: the running total
follows the typing (survey.js), a wrong total is refused with its message, the right one is stored.

Live server as in test_surveys_browser: its own app on a temporary SQLite file (committed data).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser import ARGS, CHROMIUM, live_server, require_chromium

pytestmark = pytest.mark.browser
DIMS = ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]


def _definition() -> dict[str, Any]:
    from surveys import dump_definition, load_instrument

    # The servqual instrument's importance page alone, so the browser has one page to fill.
    full = dump_definition(load_instrument("servqual"))
    return {**full, "id": "importance_only", "pages": [full["pages"][-1]]}


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    require_chromium()
    from perception import create_app
    from perception.core.extensions import db
    from perception.core.models.base import utcnow
    from perception.core.models.org import Region
    from perception.surveys.models import CampaignStatus
    from perception.surveys.services.campaigns import create_campaign
    from perception.surveys.services.definitions import publish

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'browser.sqlite'}",
            "SECRET_KEY": "browser-secret-key-which-is-long-enough-0123456789",
            "SURVEY_MIN_FILL_SECONDS": 0,
            "MAIL_BACKEND": "file",
        }
    )
    with app.app_context():
        db.create_all()
        region = Region(code="BJ", name_zh="北京", name_en="Beijing")
        db.session.add(region)
        db.session.flush()
        now = utcnow()
        campaign = create_campaign(
            db.session,
            {
                "code": "W1",
                "name_zh": "重要程度",
                "name_en": "Importance",
                "version_id": publish(db.session, "importance_only", _definition()).id,
                "region_id": region.id,
                "channel": "anonymous",
                "opens_at": now - timedelta(hours=1),
                "closes_at": now + timedelta(days=3),
            },
            None,
        )
        campaign.status = CampaignStatus.OPEN
        slug = campaign.public_slug
        db.session.commit()
        db.session.remove()
    try:
        with live_server(app) as base:
            yield {"app": app, "base": base, "slug": slug}
    finally:
        with app.app_context():
            db.engine.dispose()
        shutil.rmtree(tmp_path / "instance", ignore_errors=True)


def test_points_on_a_phone(live):
    from playwright.sync_api import expect, sync_playwright

    from perception.core.extensions import db
    from perception.surveys.models import Response

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 360, "height": 740}, locale="zh-CN", is_mobile=True
            )
            page = context.new_page()
            page.goto(f"{live['base']}/s/a/{live['slug']}")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            total = page.locator("output[data-sum-of=importance]")
            assert total.inner_text() == "0"
            page.get_by_label("可靠性：可靠、准确地兑现服务承诺").fill("50")
            page.get_by_label("响应性：乐于帮助您并提供及时的服务").fill("30")
            expect(total).to_have_text("80")  # follows the typing
            assert "survey-sum--off" in (page.locator("#importance-sum").get_attribute("class") or "")
            page.get_by_role("button", name="提交").click()
            # The page comes back with its errors: its script must have run before the typing
            # below (CI once read the total before the new page's script updated it: 80 for 100).
            page.wait_for_load_state("load")
            assert "各项分数合计须正好为 100 分，目前为 80 分。" in page.content()
            assert page.get_by_label("可靠性：可靠、准确地兑现服务承诺").input_value() == "50"
            page.get_by_label("移情性：对您的关心和个别关注").fill("20")
            expect(total).to_have_text("100")
            assert "survey-sum--off" not in (page.locator("#importance-sum").get_attribute("class") or "")
            page.get_by_role("button", name="提交").click()
            page.wait_for_url("**/s/done?v=*")
        finally:
            browser.close()
    with live["app"].app_context():
        response = db.session.scalar(select(Response))
        assert response is not None and response.answers["importance"] == dict.fromkeys(DIMS, 0) | {
            "reliability": 50,
            "responsiveness": 30,
            "empathy": 20,
        }
        db.session.remove()
