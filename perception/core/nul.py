"""A NUL character (0x00) in what a user sends: no text column holds one.

SQLite stores it; PostgreSQL refuses the whole statement that carries one, a write or a lookup
alike (``psycopg.DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes``), so an import
that let one through answered 500 on PostgreSQL (a traceback in a command) and nothing said which
row. Form fields and query parameters are refused where the request is read
(``perception.web.parameters``), JSON bodies where the API reads them (``perception.api.errors``);
what comes in a file or a document is refused by its import, before anything is written, as the
problem of the row and column (or the document path) that holds it, with the one text below.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from perception.core.errors import Problem

CODE = "nul_character"
TEXT = (  # zh, en: said of the cell or field that holds one
    "含有空字符（0x00），数据库无法保存；请删除后再导入",
    "contains a NUL character (0x00), which the database cannot store; remove it and import again",
)


def shown(text: str) -> str:
    """``text`` with each NUL written ``\\0``: what a person can read (and a text column keep)."""
    return text.replace("\x00", "\\0")


def nul_rows(values: Sequence[str]) -> list[int]:
    """The indices of the values holding a NUL. Searched first in one joined string, a C-speed scan
    of a whole column, since nearly every file has none."""
    if "\x00" not in "".join(values):
        return []
    return [i for i, value in enumerate(values) if "\x00" in value]


def nul_paths(value: Any, path: str = "") -> Iterator[str]:
    """The path of every text, and of every key, holding a NUL in a JSON or YAML document
    (``services[2].name_zh``, ``$`` for the document itself); a NUL in a key is shown ``\\0``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{path}.{shown(str(key))}" if path else shown(str(key))
            if isinstance(key, str) and "\x00" in key:
                yield name
            yield from nul_paths(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nul_paths(item, f"{path}[{index}]")
    elif isinstance(value, str) and "\x00" in value:
        yield path or "$"


def nul_problems(document: Any, path: str = "") -> list[Problem]:
    """One problem per text (or key) of ``document`` holding a NUL, named by its path."""
    return [Problem(where, *TEXT, code=CODE) for where in nul_paths(document, path)]
