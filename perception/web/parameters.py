"""Numbers a user can type into an address: bounded where they are parsed, for every route.

Python integers have no size, database integers do: ``?region=99999999999999999999999`` reached
PostgreSQL as an out-of-range parameter (and SQLite as an OverflowError) and answered 500 on 41
parameter/URL pairs. Two parsers cover every route instead of one check per view:

- the ``int`` URL converter accepts only what an INTEGER column holds, so a longer id in a path
  matches no route: 404, exactly like an id that does not exist;
- the query string's ``args.get(name, type=int)`` refuses a number outside that range with a
  400 naming the parameter, in both languages (the API answers it as problem+json).

Likewise for a NUL character, which no text column holds (PostgreSQL refuses any statement with
one): a query value, a form field or an uploaded file's name holding one is that field's 400,
and a text part of an address (``<name>``) never matches one (404).

Views parse integer parameters with ``request.args.get(name, type=int)``, never ``int(...)``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request
from werkzeug.datastructures import FileStorage, ImmutableMultiDict
from werkzeug.routing import IntegerConverter, UnicodeConverter

from perception.core.errors import UserError

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # a 32-bit INTEGER column (PostgreSQL, SQLite alike)


def _at_most(limit: int) -> str:
    """A regular expression of the decimal numbers 0..limit (no sign)."""
    digits = str(limit)
    shorter = rf"\d{{1,{len(digits) - 1}}}"
    same = [
        digits[:i] + (f"[0-{int(d) - 1}]" if d != "1" else "0") + rf"\d{{{len(digits) - i - 1}}}"
        for i, d in enumerate(digits)
        if d != "0"
    ]
    return "(?:" + "|".join([shorter, *same, digits]) + ")"


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` that matches only ids a 32-bit INTEGER column can hold.

    The bound is in the pattern as well as in ``to_python``: werkzeug turns a value its converter
    refuses after the pattern matched into 405 when a rule of another method matched first, and
    a too-long id must be the 404 of an id that does not exist, whatever the method."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)
        if not kwargs.get("signed") and kwargs["max"] == INT_MAX:
            self.regex = _at_most(INT_MAX)


class NoNulConverter(UnicodeConverter):
    """``<name>`` (a text part of an address: a link's slug, a job's id, a connection's code) that
    never holds a NUL character ("%00"): the views look the text up, which PostgreSQL refuses
    with a NUL in it (a 500, where SQLite found nothing). Such an address matches no route: 404,
    exactly like a slug that does not exist."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]", 1)


def out_of_range(name: str, raw: str) -> UserError:
    shown = raw if len(raw) <= 40 else raw[:37] + "..."
    return UserError.one(
        name,
        f"数字超出范围（应在 {INT_MIN} 到 {INT_MAX} 之间）",
        f"the number is out of range (expected {INT_MIN} to {INT_MAX})",
        code="out_of_range",
        value=shown,
        status=400,
    )


def has_nul(name: str, raw: str, *, file_name: bool = False) -> UserError:
    """A NUL character, which no text column holds (PostgreSQL refuses it): a 400 naming the field.
    ``file_name``: in an uploaded file's name (a crafted request: no file system makes one), which
    the imports keep (their batch, their audit entry)."""
    zh_part, en_part = ("文件名", "the file name") if file_name else ("值", "the value")
    return UserError.one(
        name,
        f"“{name}”的{zh_part}含有不允许的空字符（NUL）",
        f"{en_part} of “{name}” contains a NUL character, which is not allowed",
        code="nul_character",
        value=raw.replace("\x00", "\\0")[:40],
        status=400,
    )


def _refuse_nul(key: Any, raw: Any) -> None:
    if isinstance(raw, str) and "\x00" in raw:
        raise has_nul(str(key), raw)
    if isinstance(raw, FileStorage) and "\x00" in (raw.filename or ""):
        raise has_nul(str(key), raw.filename or "", file_name=True)


class BoundedArgs(ImmutableMultiDict):  # type: ignore[type-arg]
    """Query parameters, form fields and uploaded files whose ``get(..., type=int)`` refuses
    numbers no column can hold, and whose ``get`` and ``getlist`` refuse a value (or a file's name)
    with a NUL character (no text column holds one)."""

    def get(  # type: ignore[override]  # werkzeug's overloads, one implementation
        self,
        key: Any,
        default: Any = None,
        type: Any = None,  # noqa: A002 - werkzeug's name
    ) -> Any:
        _refuse_nul(key, super().get(key))
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
            raise out_of_range(str(key), str(super().get(key)))
        return value

    def getlist(self, key: Any, type: Any = None) -> list[Any]:  # type: ignore[override]  # noqa: A002 - werkzeug's name
        """Every value of ``key``; a form's fields are read this way (WTForms), so a NUL typed or
        pasted into one is the field's 400, not the database's error on PostgreSQL."""
        for raw in super().getlist(key):
            _refuse_nul(key, raw)
        return super().getlist(key, type)


class PerceptionRequest(Request):
    parameter_storage_class = BoundedArgs


def init_app(app: Flask) -> None:
    """Before the blueprints are registered: their ``<int:...>`` rules use the bounded converter,
    their ``<name>`` rules the one without a NUL."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = NoNulConverter
    app.request_class = PerceptionRequest
