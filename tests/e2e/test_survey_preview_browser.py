"""A survey owner previews a campaign on a 390 px phone: the page does not scroll sideways, the
Chinese and English frames show the respondent's page (framing allowed for this site only), a
frame can be answered to its thank-you page, and nothing is stored (issue 17)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.browser import ARGS, CHROMIUM, survey_server
from tests.e2e.test_surveys_browser import INVITED
from tests.surveys.conftest import seed_personal_link

pytestmark = pytest.mark.browser
PASSWORD = "preview-owner-password-1"


def _seed_preview(app: Any) -> dict[str, Any]:
    """The invited contact's campaign, and a system owner to preview it."""
    from perception.core import users
    from perception.core.extensions import db
    from perception.core.models.auth import Role
    from perception.surveys.models import Campaign

    seed_personal_link(app, *INVITED, days=3)
    with app.app_context():
        users.create_user(
            db.session,
            users.UserSpec(username="owner1", display_name="Owner", roles=frozenset({Role.SYSTEM_OWNER}),
                           password=PASSWORD),
        )  # fmt: skip
        campaign_id = db.session.scalar(select(Campaign.id))
        db.session.commit()
        db.session.remove()
    return {"campaign": campaign_id}


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with survey_server(tmp_path, monkeypatch, _seed_preview) as server:
        yield server


def test_the_preview_on_a_phone(live: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    from perception.core.extensions import db
    from perception.surveys.models import Response

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True
            )
            page = context.new_page()
            page.goto(f"{live['base']}/login")
            page.fill('input[name="username"]', "owner1")
            page.fill('input[name="password"]', PASSWORD)
            page.locator('button.primary[type="submit"]').click()
            page.wait_for_load_state()
            page.goto(f"{live['base']}/surveys/campaigns/{live['campaign']}/preview")
            assert page.locator("h1").first.inner_text().startswith("预览")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            frames = page.locator(".preview-frames iframe")
            assert frames.count() == 2
            for index in range(2):
                box = frames.nth(index).bounding_box()
                assert box is not None and box["width"] <= 390
            zh = page.frame_locator(".preview-frames iframe").nth(0)
            en = page.frame_locator(".preview-frames iframe").nth(1)
            assert zh.locator("h1").inner_text() == "服务满意度回访"
            frames.nth(1).scroll_into_view_if_needed()
            assert en.locator("h1").inner_text() == "How did we do?"
            zh.locator('label:has(input[name="csat"][value="5"])').click()
            zh.get_by_role("button", name="提交").click()
            zh.locator("h1").filter(has_text="感谢您").wait_for()
            # The frame's own page fits the frame.
            handle = frames.nth(0).element_handle()
            assert handle is not None
            inner = handle.content_frame()
            assert inner is not None
            assert inner.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        finally:
            browser.close()
    with live["app"].app_context():
        assert db.session.scalar(select(func.count()).select_from(Response)) == 0
        db.session.remove()
