"""Issue 17 "Words, units and local time, never codes": every page of every role, in Chinese and
in English, on the demo, rendered through HTTP; the visible text (tags, scripts and styles
removed; option labels kept) must hold no raw identifier (KPI codes like TK_RESPONSE_WITHIN, keys
like backup_success_share or finding:2, pipe-joined keys), no Python repr (a dict or list
literal, None/True/False) and, on a Chinese page, no interface string left in English (a
catalogue msgid of three words or more appearing verbatim).

Exempt: the audit log, whose rows record the changed columns by name (a technical record).
KNOWN lists what this branch found and did not fix, each (page, token) as regular expressions;
the test fails on anything else. Entries depend on the demo's data (alerts, improvements), so one
that stops occurring is not an error: remove it when its page is fixed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.demo_live import DEMO_PASSWORD, ROLE_USERS, demo_database

# Renders its own SQLite demo whatever the database setting: CI runs it in the SQLite pass only.
pytestmark = [pytest.mark.slow, pytest.mark.own_sqlite]
LANGS = ("zh-CN", "en")
SKIP = ("/logout", "/export", ".csv", ".xlsx", ".pdf", ".svg", "/api/", "/s/", "lang=", "/static/", "/login")
EXEMPT = ("/admin/audit",)
PATTERNS = {
    "repr": re.compile(r"\{'[^']*': |\[\s*'[^']*',|\b(?:True|False)\b"),  # "None" is an English word
    "code": re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b"),
    "key": re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b"),
    "key:id": re.compile(r"\b[a-z_]+:\d+\b"),
    "pipe": re.compile(r"\b\w+\|\w+"),
}
# (page path, token) as full regular expressions: found by this test, left for the phases' owners.
KNOWN: set[tuple[str, str]] = {
    # The improvement form's hint shows the format of a source reference to type.
    (r"/improvements/\d+", r"alert:17"),
}


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import os

    from perception import create_app
    from perception.core.extensions import db

    folder = tmp_path_factory.mktemp("words")
    demo_database(folder / "demo.sqlite", weeks=8)
    os.environ["PERCEPTION_INSTANCE_PATH"] = str(folder / "instance")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite'}",
            "MAIL_BACKEND": "file",
            "REDIS_URL": None,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def visible_text(body: str) -> str:
    body = re.sub(r"<(script|style|textarea)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "\n", body))


def _links(body: str) -> list[str]:
    hrefs = (h for h in re.findall(r'href="([^"]+)"', body) if h.startswith("/"))
    return [html.unescape(h).split("#")[0] for h in hrefs if not any(s in h for s in SKIP)]


def _english_msgids() -> list[str]:
    from perception.core.i18n_tools import extracted_messages

    return [m for m in extracted_messages() if len(m.split()) >= 3 and "%(" not in m and "{" not in m]


def signed_in(app: Any, username: str) -> Any:
    """A test client signed in as a demo user through the sign-in form (CSRF token included)."""
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True))
    client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
    )
    assert client.get("/").status_code == 200, username
    return client


def crawl(app: Any, username: str, english: dict[str, Any] | None = None) -> list[str]:
    """The pages of one role: its home, every link of its home and navigation, and the first
    link of the first table of each of those pages (a detail page); the audit log left out.
    ``english`` receives the English answer of each page the crawl opened, by path."""
    client = signed_in(app, username)
    home = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    paths = list(dict.fromkeys(["/", *_links(home)]))
    details: list[str] = []
    for path in list(paths):
        response = client.get(path, headers={"Accept-Language": "en"})
        if english is not None:
            english[path] = response
        body = response.get_data(as_text=True)
        table = re.search(r"<table.*?</table>", body, flags=re.S)
        for href in _links(table.group(0))[:1] if table else []:
            if href not in paths and href not in details:
                details.append(href)
    return [p for p in paths + details if not p.startswith(EXEMPT)]


def test_pages_show_words_not_codes(demo_app):
    msgids = _english_msgids()
    found: dict[tuple[str, str], set[str]] = {}
    pages = 0
    for username in ROLE_USERS:
        english: dict[str, Any] = {}  # the crawl's English pages: not fetched twice
        paths = crawl(demo_app, username, english)
        client = signed_in(demo_app, username)
        for path in paths:
            for lang in LANGS:
                response = english.get(path) if lang == "en" else None
                if response is None:
                    response = client.get(path, headers={"Accept-Language": lang})
                if response.status_code != 200:
                    continue
                pages += 1
                text = visible_text(response.get_data(as_text=True))
                for name, pattern in PATTERNS.items():
                    for match in pattern.finditer(text):
                        found.setdefault((path, match.group(0)), set()).add(f"{username} {lang} {name}")
                if lang == "zh-CN":
                    flat = re.sub(r"\s+", " ", text)
                    for msgid in msgids:
                        if msgid in flat:
                            found.setdefault((path, msgid), set()).add(f"{username} {lang} untranslated")
    assert pages > 150

    def known(path: str, token: str, entry: tuple[str, str]) -> bool:
        return re.fullmatch(entry[0], path) is not None and re.fullmatch(entry[1], token) is not None

    new = sorted(
        (path, token, sorted(where)[0])
        for (path, token), where in found.items()
        if not any(known(path, token, entry) for entry in KNOWN)
    )
    assert new == [], "\n".join(map(str, new))
