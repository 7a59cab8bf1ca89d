"""Fixtures for the reporting tests: the CJK font, and the rule for tests that need it embedded.

Tests that read Chinese back out of a PDF or a PNG need a TrueType CJK font (Debian:
fonts-wqy-zenhei). Without one they SKIP on a developer machine and FAIL in CI (``CI`` set to
1/true/yes), so CI cannot silently stop exercising that path.
"""

from __future__ import annotations

import os

import pytest

from perception.reporting.fonts import FontChoice, find_cjk_font

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def cjk_font() -> FontChoice:
    """Whatever font the reports would use here (possibly the non-embedded CID fallback)."""
    return find_cjk_font()


@pytest.fixture(scope="session")
def embedded_font(cjk_font: FontChoice) -> FontChoice:
    """The embedded TrueType CJK font; skip (or fail in CI) when only the CID fallback exists."""
    if not cjk_font.embedded:
        reason = (
            "no TrueType CJK font found (install fonts-wqy-zenhei or set PERCEPTION_CJK_FONT); "
            "only the non-embedded CID font STSong-Light is available, whose text cannot be "
            "checked by extraction"
        )
        if IN_CI:
            pytest.fail(f"CI must exercise embedded CJK fonts, but {reason}", pytrace=False)
        pytest.skip(reason)
    return cjk_font
