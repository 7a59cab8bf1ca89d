"""A manager opens the KPI-versus-experience page in headless Chromium (phone-sized) on the demo
data and sees the quadrant chart rendered and the watermelon list with the planted cell first.

Live server: its own app on a temporary SQLite file holding the committed demo, served by
werkzeug's ``make_server`` in a thread on a free port of 127.0.0.1. Debian's chromium is driven
by Playwright through ``executable_path`` (no browser download).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser import ARGS, CHROMIUM, live_server, require_chromium
from tests.e2e.demo_live import demo_database

WEEKS = 8
# The elements reaching past the right edge of the screen (for the failure message).
WIDEST = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    require_chromium()
    from perception import create_app
    from perception.core.extensions import db

    demo_database(tmp_path / "analysis-browser.sqlite", weeks=WEEKS)
    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'analysis-browser.sqlite'}",
            "SECRET_KEY": "analysis-browser-secret-key-long-enough-0123456789",
            "MAIL_BACKEND": "file",
            "REDIS_URL": None,
        }
    )
    try:
        with live_server(app) as base:
            yield {"base": base, "app": app}
    finally:
        with app.app_context():
            db.engine.dispose()


def test_manager_sees_chart_and_watermelon_list(live: dict[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from perception.core.demo import DEMO_PASSWORD
    from perception.core.periods import week_start

    end = week_start(date.today()) + timedelta(weeks=1)
    start = end - timedelta(weeks=WEEKS + 1)
    last = end - timedelta(days=1)
    url = f"{live['base']}/analysis/kpi-vs-experience?from={start.isoformat()}&to={last.isoformat()}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
            page.goto(f"{live['base']}/login")
            page.fill("input[name=username]", "manager")
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.press("input[name=password]", "Enter")
            page.wait_for_load_state("networkidle")
            page.goto(url)
            page.wait_for_load_state("networkidle")
            chart = page.locator("img.chart").first
            chart.scroll_into_view_if_needed()
            page.wait_for_function(
                "() => { const i = document.querySelector('img.chart'); return i && i.complete; }"
            )
            size = page.evaluate(
                "() => { const i = document.querySelector('img.chart');"
                " return [i.naturalWidth, i.getBoundingClientRect().width]; }"
            )
            assert size[0] > 200, "the quadrant chart image did not load"
            assert 0 < size[1] <= 390, "the chart must fit a phone screen"
            items = page.locator("[data-testid=watermelon-list] li")
            assert items.count() >= 1
            first = items.first.inner_text()
            assert "广东" in first, first  # the planted watermelon: desktop support in Guangdong
            assert "证据充分" in first
            page.screenshot(path=str(tmp_path / "kpi_vs_experience.png"), full_page=True)
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            wide = page.evaluate(WIDEST)
            assert overflow <= 1, f"the page scrolls sideways by {overflow}px on a phone: {wide}"
        finally:
            browser.close()
