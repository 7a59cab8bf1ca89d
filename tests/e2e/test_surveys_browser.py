"""A real phone-sized Chromium answers a Chinese survey end to end, and the answer is stored.

Live server: its own app on a temporary SQLite file (committed data), tests.browser.survey_server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser import ARGS, CHROMIUM, survey_server
from tests.surveys.conftest import seed_personal_link

pytestmark = pytest.mark.browser
# The one invited contact: region, customer, contact and campaign (see seed_personal_link).
INVITED = (
    ("BJ", "北京", "Beijing"),
    ("BJ-BANK", "北京银行", "Beijing Bank"),
    ("王芳", "wang@example.com"),
    ("B1", "回访", "Follow-up"),
)


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with survey_server(
        tmp_path, monkeypatch, lambda app: {"token": seed_personal_link(app, *INVITED, days=3)}
    ) as server:
        yield server


def test_chinese_survey_on_a_phone(live):
    from playwright.sync_api import sync_playwright

    from perception.core.extensions import db
    from perception.surveys.models import FollowUpTask, Response

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True
            )
            page = context.new_page()
            page.goto(f"{live['base']}/s/t/{live['token']}")
            assert page.url.endswith("/s/r")  # the token is gone from the address bar
            assert page.locator("h1").inner_text() == "服务满意度回访"
            assert "第 1 页，共 1 页" in page.content()
            # Nothing is wider than the phone.
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            reasons = page.locator('[data-question="low_reasons"]')
            assert reasons.is_hidden()  # shown only for a low score (same-page condition, survey.js)
            # Keyboard: focus the scale's first point and move with the arrow key to 2.
            page.locator('input[name="csat"][value="1"]').focus()
            page.keyboard.press("ArrowRight")
            assert page.locator('input[name="csat"][value="2"]').is_checked()
            assert reasons.is_visible()
            page.get_by_label("问题没有彻底解决").check()
            page.get_by_label("我们还可以在哪些方面做得更好？").fill("希望工程师上门前先电话确认。")
            page.get_by_role("button", name="提交").click()
            page.wait_for_url("**/s/done?v=*")
            assert "感谢您！" in page.locator("h1").inner_text()
        finally:
            browser.close()
    with live["app"].app_context():
        response = db.session.scalar(select(Response))
        assert response is not None and response.language == "zh"
        assert response.answers == {
            "csat": 2,
            "low_reasons": ["not_fixed"],
            "improve": "希望工程师上门前先电话确认。",
        }
        assert db.session.scalar(select(FollowUpTask.reasons)) == "low_csat"
        db.session.remove()
