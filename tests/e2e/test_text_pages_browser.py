"""The text pages in Chromium on the demo, at 390 px and 1366 px, in Chinese and English: the demand
page with its chart (drawn, inside the screen, in the page's language) and the common needs list,
a theme's texts, and the review queue where one group of repeated texts is labelled at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.e2e.demo_live import demo_server, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEWS = ((390, 844, "en"), (390, 844, "zh-CN"), (1366, 900, "zh-CN"), (1366, 900, "en"))
HAN = re.compile(r"[\u4e00-\u9fff]")
FITS = "document.documentElement.scrollWidth <= window.innerWidth"
# The elements reaching past the right edge outside a scrolling table (for the failure message).
WIDEST = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))
  .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : '')
  + ' ' + Math.round(e.getBoundingClientRect().right) + ' ' + (e.textContent || '').slice(0, 40))"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("text-pages")) as server:
        from sqlalchemy import select

        from perception.analysis.models import TextTheme
        from perception.analysis.services.text_settings import get_settings
        from perception.core.extensions import db

        with server["app"].app_context():
            # Every prediction below 0.99 waits for review, so the queue has groups to label.
            get_settings(db.session).review_threshold = 0.99
            server["theme"] = db.session.scalar(
                select(TextTheme.key).order_by(TextTheme.size.desc()).limit(1)
            )
            db.session.commit()
            db.session.remove()
        yield server


def test_demand_chart_needs_theme_texts_and_review_queue(live: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    base = live["base"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for width, height, locale in VIEWS:
                where = f"{width} {locale}"
                context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
                page = context.new_page()
                sign_in(page, base, "analyst")

                page.goto(f"{base}/analysis/demand")
                page.wait_for_load_state("networkidle")
                chart = page.locator('[data-testid="demand-chart"] img')
                chart.scroll_into_view_if_needed()
                drawn = chart.evaluate("i => [i.complete, i.naturalWidth, i.getBoundingClientRect().right]")
                assert drawn[0] and drawn[1] > 0 and drawn[2] <= width, (where, drawn)
                needs = page.locator('[data-testid="common-needs"] tbody tr').first.inner_text()
                assert needs.strip(), where
                if locale == "en":
                    assert not HAN.search(needs.split("\t")[0]), (where, needs)
                assert page.evaluate(FITS), (where, "demand", page.evaluate(WIDEST))
                page.goto(base + chart.get_attribute("src"))  # as the browser asks for it
                title = "主题：本期文本数" if locale == "zh-CN" else "Themes: texts this period"
                assert title in page.content(), where

                page.goto(f"{base}/analysis/evidence?theme={live['theme']}")
                assert page.locator("blockquote, table tbody tr").count() > 0, where
                assert page.evaluate(FITS), (where, "theme texts", page.evaluate(WIDEST))

                page.goto(f"{base}/analysis/demand/review")
                rows = page.locator('[data-testid="review-queue"] tbody tr')
                assert rows.count() > 0 and page.evaluate(FITS), (where, "review", page.evaluate(WIDEST))
                first = rows.first
                text = first.locator("td").first.inner_text()
                times = int(first.locator("td.num").first.inner_text())
                first.locator('select[name="sentiment"]').select_option("positive")
                first.locator('button[type="submit"]').click()
                page.wait_for_load_state()
                flash = page.locator(".flash-success").inner_text()
                assert str(times) in flash, (where, flash)
                queue = page.locator('[data-testid="review-queue"]').inner_text()
                assert text not in queue, where
                context.close()
        finally:
            browser.close()
