"""Issue 17, charts where people look: on a 390 x 844 phone the quadrant chart comes with its
cells listed by quadrant, and the heat map is a table that says it scrolls, with numbers of at
least 12 px; on a 1366 px desktop the heat-map chart is shown instead. Headless Chromium on the
committed demo (tests.e2e.demo_live)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.e2e.demo_live import demo_server, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FONT_SIZES = """(sel) => Array.from(document.querySelectorAll(sel))
  .map(e => parseFloat(getComputedStyle(e).fontSize))"""
VISIBLE = """(sel) => { const e = document.querySelector(sel);
  return !!e && e.getBoundingClientRect().height > 0 && getComputedStyle(e).display !== 'none'; }"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("phone-charts")) as server:
        yield server


def _page(browser: Any, live: dict[str, Any], width: int, height: int, locale: str) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height}, locale=locale)
    sign_in(page, live["base"], "manager")
    return page


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_quadrant_and_heat_map_readable_on_a_phone(live: dict[str, Any], locale: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = _page(browser, live, 390, 844, locale)
            page.goto(f"{live['base']}/analysis/kpi-vs-experience")
            assert page.evaluate(VISIBLE, "[data-testid=quadrant-list]")
            items = page.locator("[data-testid=quadrant-list] li")
            assert items.count() >= 1
            assert min(page.evaluate(FONT_SIZES, "[data-testid=quadrant-list] li small")) >= 12
            assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 1

            page.goto(f"{live['base']}/analysis/experience")
            assert page.evaluate(VISIBLE, "[data-testid=heat-table]")
            assert not page.evaluate(VISIBLE, ".wide-only")
            hint = page.locator("[data-testid=heat-table] .scroll-hint").inner_text()
            assert ("滚动" in hint) if locale == "zh-CN" else ("scrolls sideways" in hint), hint
            sizes = page.evaluate(FONT_SIZES, ".heat-table td.heat, .heat-table td.heat small")
            assert sizes and min(sizes) >= 12, sizes
            cells = page.locator(".heat-table td.heat").all_inner_texts()
            assert any(any(ch.isdigit() for ch in text) for text in cells)
            # The table scrolls in its own box; the page never scrolls sideways.
            assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 1
            page.close()

            desk = _page(browser, live, 1366, 900, locale)
            desk.goto(f"{live['base']}/analysis/experience")
            assert desk.evaluate(VISIBLE, ".wide-only")  # the heat-map chart (its image loads lazily)
            assert not desk.evaluate(VISIBLE, "[data-testid=heat-table]")
            desk.goto(f"{live['base']}/analysis/kpi-vs-experience")
            assert not desk.evaluate(VISIBLE, "[data-testid=quadrant-list]")
        finally:
            browser.close()
