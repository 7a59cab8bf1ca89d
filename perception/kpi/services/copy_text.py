"""Columns of values as one block of PostgreSQL ``COPY ... FROM STDIN`` text format.

A chunk of validated tickets is written to the stage with one ``copy.write()`` of preformatted
text instead of a ``write_row`` per row (psycopg formats each row's values one by one in Python:
half of the stage's CPU). The format is PostgreSQL's text format (tab between fields, newline
after each row, ``\\N`` for NULL), with the escapes its documentation names for text values:
backslash, tab, newline and carriage return become ``\\\\``, ``\\t``, ``\\n``, ``\\r``, so a value
holding them (or the two characters ``\\N``) is stored as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = ("\\", "\t", "\n", "\r")


def text_column(values: Sequence[str | None]) -> list[str]:
    """A column of strings (None: NULL) as COPY text fields; escaped only when one of them needs it
    (one search of the column's text, not a ``translate`` per value)."""
    has_null = None in values
    present = [v for v in values if v is not None] if has_null else values
    if any(c in "".join(present) for c in _SPECIAL):  # type: ignore[arg-type]
        values = [v.translate(_ESCAPES) if v is not None else None for v in values]
    return [NULL if v is None else v for v in values] if has_null else cast(list[str], list(values))


def number_column(values: Sequence[int | None]) -> list[str]:
    """A column of integers (None: NULL) as COPY text fields."""
    if None in values:
        return [NULL if v is None else str(v) for v in values]
    return list(map(str, values))


def copy_block(columns: Sequence[list[str]]) -> str:
    """Formatted columns (``text_column``, ``number_column``) as rows of COPY text, each ending
    with a newline."""
    if not columns or not columns[0]:
        return ""
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"
