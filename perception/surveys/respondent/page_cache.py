"""Respondent pages rendered once per process, the respondent's own values put in per request.

A survey page of one definition version (page, language, position in the survey, address) and
the thank-you page of a version are the same bytes for every respondent but for the CSRF token,
the submission nonce, the question blocks holding the respondent's answers and the line naming
the ticket a post-ticket survey asks about (``services.about``; empty on every other page). Rendering the
layout (translations, URLs) for each respondent cost as much as the rest of the request (issue
19), so such a page is rendered once with markers where those values go, and each request puts
its values in. The markers are random per process, so no definition text can contain them; the
values are escaped as the template would escape them (the token and nonce are URL-safe, the
blocks are Markup). Pages with errors or a notice are rendered in full every time.

The cache holds immutable renderings keyed by everything they depend on; each process (and each
node) builds its own, so nothing here is state another node needs.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable
from typing import Any

from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

_MARK = secrets.token_hex(16)
CSRF = f"csrf-{_MARK}"
NONCE = f"nonce-{_MARK}"
FIELDS = f"<!--fields-{_MARK}-->"
ABOUT = f"<!--about-{_MARK}-->"
MAX_PAGES = 1024
_PAGES: dict[Hashable, str] = {}


def filled(
    key: Hashable,
    render: Callable[..., str],
    *,
    nonce: str = "",
    fields: Markup | None = None,
    about: Markup | None = None,
) -> str:
    """The page ``key``, rendered by ``render(csrf_token=..., nonce=..., fields=..., about=...)`` on
    the first call, with this request's CSRF token, nonce, question blocks and ticket line put in."""
    page = _PAGES.get(key)
    if page is None:
        page = render(csrf_token=_csrf_marker, nonce=NONCE, fields=Markup(FIELDS), about=Markup(ABOUT))  # noqa: S704 - constant markers
        if len(_PAGES) >= MAX_PAGES:
            _PAGES.clear()
        _PAGES[key] = page
    if CSRF in page:
        page = page.replace(CSRF, str(escape(generate_csrf())))
    if nonce:
        page = page.replace(NONCE, str(escape(nonce)))
    if fields is not None:
        page = page.replace(FIELDS, str(fields))
    if ABOUT in page:
        page = page.replace(ABOUT, str(about) if about is not None else "")
    return page


def _csrf_marker(*_args: Any) -> str:
    return CSRF
