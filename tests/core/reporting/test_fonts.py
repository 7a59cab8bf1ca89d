"""Font discovery: configured path first, then known TrueType CJK fonts, then the CID fallback."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
from reportlab.pdfbase import pdfmetrics

from perception.reporting.fonts import (
    CID_FALLBACK,
    ENV_FONT,
    WQY_ZENHEI,
    CJKFontError,
    FontChoice,
    find_cjk_font,
)

# A TrueType font that exists wherever Matplotlib is installed: stands in for "a configured font".
DEJAVU = str(Path(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf").resolve())


def test_debian_wenquanyi_is_found_and_embedded(embedded_font: FontChoice) -> None:
    if not os.path.isfile(WQY_ZENHEI):
        pytest.skip("fonts-wqy-zenhei is not installed; another TrueType CJK font was chosen")
    assert embedded_font.path == WQY_ZENHEI
    assert embedded_font.subfont_index == 0
    assert embedded_font.mpl_family == "WenQuanYi Zen Hei"
    # ReportLab knows the name and can measure Chinese with real (non-zero) widths.
    assert pdfmetrics.stringWidth("感知", embedded_font.name, 10) == pytest.approx(20.0)


def test_configured_path_in_environment_comes_first() -> None:
    choice = find_cjk_font(env={ENV_FONT: DEJAVU})
    assert choice.path == DEJAVU
    assert choice.embedded
    assert choice.mpl_family == "DejaVu Sans"


def test_argument_beats_environment(tmp_path: Path) -> None:
    missing = str(tmp_path / "nothing.ttf")
    assert find_cjk_font(DEJAVU, env={ENV_FONT: missing}).path == DEJAVU


def test_same_font_is_registered_once() -> None:
    first = find_cjk_font(DEJAVU, env={})
    second = find_cjk_font(DEJAVU, env={})
    assert first == second


@pytest.mark.parametrize("name", ["NotoSansCJKsc-Regular.otf", "missing.ttf", "garbage.ttf"])
def test_unusable_configured_font_is_an_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name != "missing.ttf":
        path.write_bytes(b"OTTO" + b"\0" * 64)  # CFF-flavoured OpenType header / not a TTF
    with pytest.raises(CJKFontError, match="configured CJK font"):
        find_cjk_font(path, env={})


def test_unusable_candidates_are_skipped_for_the_next_one(tmp_path: Path) -> None:
    otf = tmp_path / "SourceHanSans.otf"
    broken = tmp_path / "broken.ttc"
    otf.write_bytes(b"OTTO" + b"\0" * 64)
    broken.write_bytes(b"ttcf" + b"\0" * 64)
    choice = find_cjk_font(env={}, candidates=[str(otf), str(broken), str(tmp_path / "no.ttf"), DEJAVU])
    assert choice.path == DEJAVU


def test_nothing_usable_falls_back_to_cid_font_and_says_so(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"\0" * 64)
    choice = find_cjk_font(env={}, candidates=[str(broken)])
    assert choice == FontChoice(name=CID_FALLBACK, path=None, embedded=False)
    assert pdfmetrics.getFont(CID_FALLBACK).name == CID_FALLBACK
