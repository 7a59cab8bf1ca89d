"""Spreadsheet formula-injection protection, for every CSV and Excel export.

Text that a spreadsheet would evaluate (starting with = + - @, a tab or a carriage return) is
prefixed with a single quote so it is shown as text (OWASP "CSV Injection"). The prefix is judged
after Unicode compatibility folding (NFKC) and past invisible format characters, because Excel and
Chinese/Japanese input methods turn the full-width ＝ ＋ － ＠ (and the small ﹦ ﹢ ﹣ ﹫) into
their ASCII forms, and a zero-width space or BOM in front hides nothing from a formula parser.
Other values pass through unchanged, so numbers stay numbers.
"""

from __future__ import annotations

import unicodedata
from typing import Any

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _lead(text: str) -> str:
    """The first character that shows, folded to its plain form ('' when there is none)."""
    for char in text:
        if unicodedata.category(char) != "Cf":  # zero-width spaces, BOM, direction marks
            return unicodedata.normalize("NFKC", char)
    return ""


def is_formula_like(value: str) -> bool:
    return value.startswith(DANGEROUS_PREFIXES) or _lead(value).startswith(DANGEROUS_PREFIXES)


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value
