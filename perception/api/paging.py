"""Stable pages for the API's lists: ``?page=`` (from 1) and ``?per_page=`` (1-1000, default 100),
rows in id order so that walking the pages meets every row once, and ``total`` to know when to stop.
Every paged list answers ``{"page", "per_page", "total", "items"}``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select

from perception.api.errors import page_args
from perception.core.extensions import orm

T = TypeVar("T")

PARAMETERS: list[dict[str, Any]] = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
]


def page_of_select(
    stmt: Select[Any], id_column: Any, to_json: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    """One page of a SELECT of rows (already scoped by the caller), in ``id_column`` order."""
    page, size = page_args()
    total = orm().scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = orm().scalars(stmt.order_by(id_column).limit(size).offset((page - 1) * size))
    return {"page": page, "per_page": size, "total": total, "items": [to_json(r) for r in rows]}


def page_of_list(
    items: Sequence[T], key: Callable[[T], Any], to_json: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """One page of rows computed in Python, in ``key`` order (ties keep their given order)."""
    page, size = page_args()
    ordered = sorted(items, key=key)
    chosen = ordered[(page - 1) * size : page * size]
    return {"page": page, "per_page": size, "total": len(ordered), "items": [to_json(r) for r in chosen]}
