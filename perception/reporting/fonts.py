"""Choosing and registering the CJK font shared by the PDF builder and the charts.

Order of search (first usable wins):

1. a path given as argument, else the ``PERCEPTION_CJK_FONT`` environment variable
   (``PERCEPTION_CJK_FONT_INDEX`` picks the face inside a ``.ttc``; default 0);
   a configured font that cannot be used raises :class:`CJKFontError` instead of being
   silently replaced, so a misconfiguration is noticed;
2. WenQuanYi Zen Hei from Debian's ``fonts-wqy-zenhei``
   (``/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc``);
3. other well-known TrueType CJK fonts (:data:`KNOWN_CJK_FONTS`).

ReportLab's ``TTFont`` reads TrueType outlines only, so ``.otf`` files (and CFF-flavoured
collections such as Noto Sans CJK ``.ttc``) are skipped. A usable font is registered with
ReportLab (embedded as a subset with a ToUnicode map, so copying text out of the PDF gives
the characters back) and with Matplotlib (``fontManager.addfont``), and the same
:class:`FontChoice` then drives both.

When nothing is found the fallback is ReportLab's built-in CID font ``STSong-Light``:
Chinese displays in PDF readers that carry the Adobe-GB1 fonts, but nothing is embedded,
``FontChoice.embedded`` is ``False`` and charts keep Matplotlib's default font (Chinese
glyphs then show as boxes in PNG; SVG text still shows in browsers).

References: ReportLab User Guide, ch. 3 "Fonts and encodings" (TTFont, subfontIndex,
UnicodeCIDFont); Matplotlib ``font_manager.FontManager.addfont``.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

ENV_FONT = "PERCEPTION_CJK_FONT"
ENV_FONT_INDEX = "PERCEPTION_CJK_FONT_INDEX"
WQY_ZENHEI = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
CID_FALLBACK = "STSong-Light"
_FACE_NUMBERS = itertools.count(1)

#: TrueType (glyf-outline) CJK fonts commonly found on Linux, macOS and Windows.
KNOWN_CJK_FONTS: tuple[str, ...] = (
    WQY_ZENHEI,
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/simsun.ttc",
)


class CJKFontError(ValueError):
    """A configured CJK font path cannot be used (missing, .otf, or not TrueType)."""


@dataclass(frozen=True)
class FontChoice:
    """The font used for reports and charts.

    ``name`` is the ReportLab font name; ``path``/``subfont_index`` locate the TrueType file
    (``None`` for the CID fallback); ``embedded`` says whether the PDF carries the glyphs;
    ``mpl_family`` is the Matplotlib family name (``None``: Matplotlib's default font).
    """

    name: str
    path: str | None
    embedded: bool
    subfont_index: int = 0
    mpl_family: str | None = None


def find_cjk_font(
    path: str | os.PathLike[str] | None = None,
    *,
    subfont_index: int | None = None,
    env: Mapping[str, str] | None = None,
    candidates: Sequence[str] = KNOWN_CJK_FONTS,
) -> FontChoice:
    """Find, register (ReportLab + Matplotlib) and return the CJK font to use.

    ``env`` defaults to ``os.environ``; ``candidates`` replaces the built-in search list
    (tests use it to force the fallback). Raises :class:`CJKFontError` when a font was
    configured explicitly (argument or environment) but cannot be used.
    """
    environ = os.environ if env is None else env
    configured = os.fspath(path) if path is not None else environ.get(ENV_FONT) or None
    if configured is not None:
        if subfont_index is None:
            subfont_index = int(environ.get(ENV_FONT_INDEX, "0") or "0")
        try:
            return _register_ttf(str(Path(configured).resolve()), subfont_index)
        except (OSError, TTFError, CJKFontError) as exc:
            raise CJKFontError(
                f"配置的中文字体无法使用 / the configured CJK font cannot be used: {configured!r} ({exc})"
            ) from exc
    for candidate in candidates:
        if not os.path.isfile(candidate) or candidate.lower().endswith(".otf"):
            continue
        try:
            return _register_ttf(str(Path(candidate).resolve()), subfont_index or 0)
        except (OSError, TTFError, CJKFontError):
            continue  # e.g. a CFF-flavoured .ttc: try the next one
    return _register_cid_fallback()


@functools.lru_cache(maxsize=16)
def _register_ttf(path: str, subfont_index: int) -> FontChoice:
    """Register one TrueType face with ReportLab and Matplotlib once per process."""
    if path.lower().endswith(".otf"):
        raise CJKFontError("OpenType/CFF (.otf) fonts cannot be read by ReportLab")
    if not os.path.isfile(path):
        raise CJKFontError("file not found")
    face_name = f"PerceptionCJK-{next(_FACE_NUMBERS)}"
    font = TTFont(face_name, path, subfontIndex=subfont_index)
    pdfmetrics.registerFont(font)
    # One face serves every style, so <b>/<i> in paragraphs never look up a missing font.
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(face_name, bold, italic, face_name)
    return FontChoice(
        name=face_name,
        path=path,
        embedded=True,
        subfont_index=subfont_index,
        mpl_family=_register_matplotlib(path, subfont_index),
    )


def _register_matplotlib(path: str, subfont_index: int) -> str | None:
    """Add the font file to Matplotlib's font manager; return the face's family name."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    if not any(entry.fname == path for entry in manager.ttflist):
        try:
            manager.addfont(path)
        except (OSError, RuntimeError, ValueError):
            return None
    for entry in manager.ttflist:
        if entry.fname == path and getattr(entry, "index", 0) == subfont_index:
            return str(entry.name)
    return None


@functools.lru_cache(maxsize=1)
def _register_cid_fallback() -> FontChoice:
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return FontChoice(name=CID_FALLBACK, path=None, embedded=False)
