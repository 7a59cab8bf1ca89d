"""Resolving the codes and usernames a setup definition refers to, with a path-named problem for
each unknown reference; and ``assign``, which writes only changed attributes so re-applying the
same definition changes nothing (idempotent import, no empty audit rows)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.models.auth import User
from perception.core.models.org import CollectionPoint, CustomerOrg, Region
from perception.setup.models.catalog import Service, ServiceTier
from perception.setup.models.standards import ServiceStandard, Sla
from perception.setup.services.errors import Problems

T = TypeVar("T")

_LABELS: dict[type[Any], tuple[str, str]] = {
    Region: ("地区", "region"),
    CollectionPoint: ("采集点", "collection point"),
    CustomerOrg: ("客户组织", "customer organisation"),
    Service: ("服务", "service"),
    ServiceTier: ("服务等级", "service tier"),
    ServiceStandard: ("服务标准", "service standard"),
    Sla: ("服务级别协议", "SLA"),
}


def assign(obj: Any, **values: Any) -> bool:
    """Set attributes that differ; returns whether anything changed."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


class Refs:
    """Looks objects up by code within one session, recording problems for unknown references.

    What it found it keeps: a definition names the same users and codes on every version and event
    (a query each, with its autoflush, was a third of a standard's import), and an import never
    deletes or renames what it refers to. A reference not found is asked again (it may be created
    later in the same import)."""

    def __init__(self, session: Session, problems: Problems) -> None:
        self.session = session
        self.problems = problems
        self._found: dict[tuple[type[Any], str], Any] = {}

    def _found_or_asked(self, key: tuple[type[Any], str], statement: Any) -> Any:
        """The object kept under ``key``, else ``statement``'s (kept when found)."""
        if key not in self._found:
            found = self.session.scalar(statement)
            if found is None:
                return None
            self._found[key] = found
        return self._found[key]

    def by_code(self, model: type[T], code: str, path: str) -> T | None:
        obj: T | None = self._found_or_asked((model, code), select(model).where(model.code == code))  # type: ignore[attr-defined]
        if obj is None:
            zh, en = _LABELS.get(model, ("对象", "object"))
            self.problems.add(
                path, f"没有代码为“{code}”的{zh}", f"No {en} with code '{code}'.", code="unknown_reference"
            )
        return obj

    def optional(self, model: type[T], code: str | None, path: str) -> T | None:
        return None if code is None else self.by_code(model, code, path)

    def id_of(self, model: type[Any], code: str | None, path: str) -> int | None:
        obj = self.optional(model, code, path)
        return None if obj is None else int(obj.id)

    def user(self, username: str | None, path: str) -> User | None:
        if username is None:
            return None
        user: User | None = self._found_or_asked(
            (User, username), select(User).where(User.username == username)
        )
        if user is None:
            self.problems.add(
                path,
                f"没有用户名为“{username}”的用户",
                f"No user with username '{username}'.",
                code="unknown_reference",
            )
        return user

    def user_id(self, username: str | None, path: str) -> int | None:
        user = self.user(username, path)
        return None if user is None else user.id


def username(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return session.scalar(select(User.username).where(User.id == user_id))


def code_of(session: Session, model: type[Any], object_id: int | None) -> str | None:
    if object_id is None:
        return None
    return session.scalar(select(model.code).where(model.id == object_id))


def codes_of(session: Session, model: type[Any], ids: Iterable[int | None]) -> dict[int, str]:
    """``code`` of each of ``ids`` in one query (for a page that shows a code on every row: look
    them up in this dict instead of calling ``code_of`` once per row)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {i: c for i, c in session.execute(select(model.id, model.code).where(model.id.in_(wanted)))}


def usernames_of(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """``username`` of each of ``ids`` in one query (the batch form of ``username``)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {i: u for i, u in session.execute(select(User.id, User.username).where(User.id.in_(wanted)))}


def looked_up(found: Mapping[int, str], object_id: int | None) -> str | None:
    """One row's code or username from what ``codes_of``/``usernames_of`` found (None: no reference)."""
    return None if object_id is None else found.get(object_id)
