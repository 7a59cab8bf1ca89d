"""Reading a PDF's text back as a reader's eye meets it, for the line-breaking and language tests.

``pdftotext -raw`` (poppler) gives the lines in the order ReportLab drew them, so the lines of one
table cell or paragraph follow each other: a number or a word cut at a line end shows up as two
consecutive lines whose joined ends form a token the document means whole ("11" + "7" = "117").
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable

from tests.conftest import require_component

#: A number or a Latin word: what must never be cut across lines.
TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.,:%/'-][A-Za-z0-9]+)*%?")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def pdf_lines(pdf: bytes) -> list[str]:
    """The PDF's text lines in drawing order (skips, or fails in CI, without pdftotext)."""
    require_component("pdftotext", shutil.which("pdftotext") is not None, "install poppler-utils")
    out = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return [line.strip() for line in out.stdout.decode("utf-8").splitlines() if line.strip()]


def tokens(texts: Iterable[str]) -> set[str]:
    """Every number and Latin word (two characters or more) in ``texts``."""
    return {t for text in texts for t in TOKEN.findall(text) if len(t) >= 2}


def cut_tokens(lines: list[str], meant_whole: set[str]) -> list[tuple[str, str]]:
    """Consecutive line pairs whose end and start join into a token the document meant whole."""
    cuts = []
    for above, below in zip(lines, lines[1:], strict=False):
        end = re.search(r"[A-Za-z0-9.,:%/'-]+$", above)
        start = re.match(r"^[A-Za-z0-9.,:%/'-]+", below)
        if end and start and end.group() + start.group() in meant_whole:
            cuts.append((above, below))
    return cuts
