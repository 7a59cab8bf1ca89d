"""Issue 17 "Phone and desktop layouts": no page of any role scrolls sideways, at 390 px (both
languages) and at 1366 px, except inside a table that says it scrolls (``.table-wrap``, which
clips and scrolls on its own). Every page reachable from each role's navigation and home on the
demo, plus the first detail page each list links to, is opened in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.e2e.demo_live import ROLE_USERS, demo_server, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEWS = ((390, 844, "zh-CN"), (390, 844, "en"), (1366, 900, "en"))
# The elements reaching past the right edge outside a scrolling table (for the failure message).
WIDEST = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))
  .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : '')
  + ' ' + Math.round(e.getBoundingClientRect().right))"""
# Links that are not pages to look at (downloads, sign-out, language switch, raw data).
SKIP = ("/logout", "/export", ".csv", ".xlsx", ".pdf", ".svg", "/api/", "/s/", "lang=", "/static/")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("widths")) as server:
        yield server


def _pages(page: Any, base: str) -> list[str]:
    """The role's navigation and home links, then the first detail link of each list page."""
    page.goto(f"{base}/")
    nav = page.eval_on_selector_all("#mainnav a, main a", "els => els.map(e => e.getAttribute('href'))")
    paths = ["/"]
    for href in nav:
        if not href or href.startswith(("#", "mailto:", "tel:")) or any(s in href for s in SKIP):
            continue
        path = urlsplit(href).path if href.startswith("http") else href.split("#")[0]
        if path and path not in paths:
            paths.append(path)
    return paths


def _details(page: Any, base: str, paths: list[str]) -> list[str]:
    found: list[str] = []
    for path in list(paths):
        page.goto(base + path)
        links = page.eval_on_selector_all("main table a", "els => els.map(e => e.getAttribute('href'))")
        for href in links:
            if href and href.startswith("/") and not any(s in href for s in SKIP):
                target = href.split("#")[0]
                if target not in paths and target not in found:
                    found.append(target)
                break
    return found


def test_no_page_scrolls_sideways(live):
    from playwright.sync_api import sync_playwright

    failures: list[tuple[Any, ...]] = []
    seen = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for username in ROLE_USERS:
                probe = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en")
                page = probe.new_page()
                sign_in(page, live["base"], username)
                paths = _pages(page, live["base"])
                paths += _details(page, live["base"], paths)
                probe.close()
                for width, height, locale in VIEWS:
                    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
                    page = context.new_page()
                    sign_in(page, live["base"], username)
                    for path in paths:
                        response = page.goto(live["base"] + path)
                        seen += 1
                        if response is not None and response.status >= 500:
                            failures.append((username, width, locale, path, f"HTTP {response.status}"))
                            continue
                        if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
                            width_px = page.evaluate("document.documentElement.scrollWidth")
                            failures.append((username, width, locale, path, width_px, page.evaluate(WIDEST)))
                    context.close()
        finally:
            browser.close()
    assert seen > 100
    assert failures == [], "\n".join(map(str, failures))
