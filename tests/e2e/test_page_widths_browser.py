"""Issue 17 "Phone and desktop layouts": no page of any role scrolls sideways, at 390 px (both
languages) and at 1366 px, except inside a table that says it scrolls (``.table-wrap``, which
clips and scrolls on its own). Every page reachable from each role's navigation and home on the
demo, plus the first detail page each list links to, is opened in Chromium: once per language at
390 px, and the English page then widened to 1366 px (the layout is CSS alone, media queries that
apply as the window changes: no script measures the window), two loads of each page, not three."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.e2e.demo_live import ROLE_USERS, demo_server, signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
#: Each language's page at phone width, then at these widths too.
VIEWS = (("zh-CN", ()), ("en", (DESKTOP,)))
# The elements reaching past the right edge outside a scrolling table (for the failure message).
WIDEST = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))
  .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : '')
  + ' ' + Math.round(e.getBoundingClientRect().right))"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("widths")) as server:
        yield server


def _paths_by_user(app: Any) -> dict[str, str]:
    """Every page reachable from each role's home (its navigation and to-dos) and the first detail
    page each list links to, found with the test client; path -> the first user who reaches it."""
    from tests.e2e.test_visible_words import crawl

    found: dict[str, str] = {}
    for username in ROLE_USERS:
        for path in crawl(app, username):
            found.setdefault(path, username)
    return found


def test_no_page_scrolls_sideways(live):
    from playwright.sync_api import sync_playwright

    paths = _paths_by_user(live["app"])
    failures: list[tuple[Any, ...]] = []
    states: dict[str, Any] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for locale, wider in VIEWS:
                for username in ROLE_USERS:
                    mine = [path for path, user in paths.items() if user == username]
                    if not mine:
                        continue
                    page = signed_in_page(
                        browser, live["base"], username, states, viewport=PHONE, locale=locale
                    )
                    for path in mine:
                        page.set_viewport_size(PHONE)
                        response = page.goto(live["base"] + path)
                        if response is not None and response.status >= 500:
                            failures.append((username, locale, path, f"HTTP {response.status}"))
                            continue
                        for viewport in (PHONE, *wider):
                            if viewport is not PHONE:
                                page.set_viewport_size(viewport)
                            if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
                                width_px = page.evaluate("document.documentElement.scrollWidth")
                                widest = page.evaluate(WIDEST)
                                failures.append((username, viewport["width"], locale, path, width_px, widest))
                    page.context.close()
        finally:
            browser.close()
    assert len(paths) > 40
    assert failures == [], "\n".join(map(str, failures))
