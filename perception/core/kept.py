"""A page's computed result, kept while the data it is made from stay the same, and shared by every
process on the database (issue 19).

The manager's slow pages (SLA attainment, internal KPIs, the overview's change look) each read a
write counter of their data (perception.kpi.services.data_version: one row) and keep what they
computed under a key: the page, its period and filters, and the user's scope. A result is shown
again while the counter is the same (and, for a page whose figures age without any write, while
it is younger than the page's ``max_age``); the page says when it was computed.

Two layers:
- in the process, the last ``entries`` results of each page, as objects: a repeat costs the
  counter's read and nothing else;
- in the database (``kept_result``), every result, as JSON written by the page's encoder and read
  back only through its typed decoder (``encode`` / ``decode``: the result dataclasses' own
  field types say what may be built; never pickle, nothing that runs code from a row). Every
  worker, and a process just restarted, finds there what another computed. A row that is
  unreadable, of another format or for other parameters is ignored and the page computes again:
  never an error page.

The rules every page shares:
- the key holds the database (a process may serve several), the parameters and the scope: a
  regional team's result is stored under its own regions and never shown to another scope;
- a result computed while the request's own transaction has uncommitted writes to the page's data
  (``version[1] != 0``) is never stored, nor served to anyone else: those writes may still roll
  back. A page may keep it in its process for that transaction alone (``own_writes``: the key then
  holds the transaction's token, which is never handed out again);
- a stored row is written in the caller's transaction when it will commit (a job, a CLI command,
  a writing request), else right after a reading request's transaction (``write_afterwards``), so
  a reader stays a reader. Rows older than ``PRUNE_AFTER`` and more than ``MAX_ROWS`` per page
  are deleted as new ones are stored.

Computed inline, never stale: when no current result is kept, the request computes it (and
stores it for everyone). A page does not show a previous result while a new one is computed: the
pages say their figures follow every write ("computed again when ... change"), and a manager who
has just imported tickets or entered KPI values must see them. No manager pays the first load of
the default views all the same: the hourly job and a deduplicated background job after each
write that moves a counter compute the organisation-wide default views ahead
(perception.analysis.kept_pages), so the first manager to open them finds them in the table.

Public API: ``Kept(page, result_type, ...)`` with ``get(session, params, version, compute, now=)``
and ``forget()``; ``encode``, ``decode``, ``to_json`` (the key's parameters); ``prune``.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import threading
import types
import typing
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from datetime import date, datetime, timedelta
from numbers import Integral, Real
from typing import Any, Generic, TypeVar

from flask import current_app, has_app_context
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from perception.core.models.base import utcnow
from perception.core.models.kept import KeptResult

T = TypeVar("T")
Version = tuple[int, int, int]  # data_version.read_version: committed count, token, own writes

PRUNE_AFTER = timedelta(days=2)
MAX_ROWS = 500  # per page


class UnreadableRow(ValueError):
    """A stored result that does not fit the page's types (corrupt, or written by other code)."""


# --- JSON ------------------------------------------------------------------------------------


_PLAIN = frozenset({type(None), bool, int, float, str})


def to_json(value: Any) -> Any:
    """``value`` as JSON-able data: dataclasses as objects of their fields, tuples, lists and sets
    as lists (sets sorted), mappings as lists of pairs (keys need not be strings), dates and
    times in ISO format, enums by value, NumPy numbers as Python ones. NaN and infinities stay
    floats (Python's JSON writes and reads them)."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, (tuple, list)):
        return [to_json(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_json(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, Mapping):
        return [[to_json(k), to_json(v)] for k, v in value.items()]
    raise TypeError(f"cannot keep a {type(value).__name__}")


_hints: dict[type, dict[str, Any]] = {}


def _fields(cls: type) -> dict[str, Any]:
    found = _hints.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = _hints[cls] = {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}
    return found


def _loose(data: Any) -> Any:
    """A value typed Any or Hashable (a unit such as ("cell", 3, 7)): lists become tuples."""
    if isinstance(data, list):
        return tuple(_loose(v) for v in data)
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    raise UnreadableRow(f"unexpected {type(data).__name__}")


def _no_bool_int(data: Any) -> int:
    if isinstance(data, bool) or not isinstance(data, int):
        raise UnreadableRow("expected an integer")
    return data


def _number(data: Any) -> float:
    if isinstance(data, bool) or not isinstance(data, (int, float)):
        raise UnreadableRow("expected a number")
    return data


def _checked(kind: type) -> Callable[[Any], Any]:
    def check(data: Any) -> Any:
        if not isinstance(data, kind):
            raise UnreadableRow(f"expected {kind.__name__}")
        return data

    return check


def _iso(kind: Any) -> Callable[[Any], Any]:
    def parse(data: Any) -> Any:
        if not isinstance(data, str):
            raise UnreadableRow("expected ISO text")
        return kind.fromisoformat(data)

    return parse


def _list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise UnreadableRow("expected a list")
    return data


_decoders: dict[Any, Callable[[Any], Any]] = {}
_encoders: dict[Any, Callable[[Any], Any]] = {}
_structures: dict[Any, str] = {}


def _decoder(tp: Any) -> Callable[[Any], Any]:
    found = _decoders.get(tp)
    if found is None:
        found = _decoders[tp] = _build_decoder(tp)
    return found


def _build_decoder(tp: Any) -> Callable[[Any], Any]:  # noqa: C901 - one case per kind of type
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any or tp is Hashable or tp is object:
        return _loose
    if origin in (typing.Union, types.UnionType):
        others = [a for a in args if a is not type(None)]
        nullable = len(others) < len(args)
        if len(others) == 1:
            one = _decoder(others[0])
            return (lambda data: None if data is None else one(data)) if nullable else one
        choices = [_decoder(a) for a in others]

        def first_fitting(data: Any) -> Any:
            if data is None and nullable:
                return None
            for choice in choices:
                try:
                    return choice(data)
                except (UnreadableRow, TypeError, ValueError):
                    continue
            raise UnreadableRow(f"fits none of {tp}")

        return first_fitting
    if tp is type(None):
        return lambda data: None if data is None else _list(None)
    if tp is bool or tp is str:
        return _checked(tp)
    if tp is int:
        return _no_bool_int
    if tp is float:
        return _number
    if tp is datetime or tp is date:
        return _iso(tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda data: tuple([item(v) for v in _list(data)])
        items = [_decoder(a) for a in args]

        def fixed(data: Any) -> tuple[Any, ...]:
            if len(_list(data)) != len(items):
                raise UnreadableRow(f"expected {len(items)} items")
            return tuple([d(v) for d, v in zip(items, data, strict=True)])

        return fixed
    if origin is dict:
        key, value = _decoder(args[0]), _decoder(args[1])

        def pairs(data: Any) -> dict[Any, Any]:
            out = {}
            for pair in _list(data):
                if len(_list(pair)) != 2:
                    raise UnreadableRow("expected pairs")
                out[key(pair[0])] = value(pair[1])
            return out

        return pairs
    if origin in (list, frozenset, set):
        item = _decoder(args[0] if args else Any)
        made = origin
        return lambda data: made([item(v) for v in _list(data)])
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        decoders = [_decoder(hint) for hint in _fields(tp).values()]
        n, cls = len(decoders), tp

        def instance(data: Any) -> Any:
            if not isinstance(data, list) or len(data) != n:
                raise UnreadableRow(f"expected the {n} fields of {cls.__name__}")
            return cls(*[d(v) for d, v in zip(decoders, data, strict=True)])

        return instance
    raise TypeError(f"cannot read a {tp}")


def _encoder(tp: Any) -> Callable[[Any], Any]:
    found = _encoders.get(tp)
    if found is None:
        found = _encoders[tp] = _build_encoder(tp)
    return found


def _build_encoder(tp: Any) -> Callable[[Any], Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        others = [a for a in args if a is not type(None)]
        if len(others) == 1:
            one = _encoder(others[0])
            return lambda value: None if value is None else one(value)
        return to_json  # a union of plain values (no dataclass inside: they are written by name)
    if origin is tuple or origin is list:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            items = [_encoder(a) for a in args]
            return lambda value: [e(v) for e, v in zip(items, value, strict=True)]
        item = _encoder(args[0] if args else Any)
        return lambda value: [item(v) for v in value]
    if origin is dict:
        key, val = _encoder(args[0]), _encoder(args[1])
        return lambda value: [[key(k), val(v)] for k, v in value.items()]
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        fields = [(name, _encoder(hint)) for name, hint in _fields(tp).items()]
        return lambda value: [e(getattr(value, name)) for name, e in fields]
    if tp in _PLAIN:
        plain = _PLAIN
        return lambda value: value if type(value) in plain else to_json(value)
    return to_json  # plain values, sets (sorted), Any (tuples as lists)


def structure(tp: Any) -> str:
    """The shape ``encode`` writes for ``tp``: dataclasses with their fields' names and types, all
    the way down. Stored rows carry its checksum; another shape is never read."""
    found = _structures.get(tp)
    if found is None:
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            inner = ",".join(f"{n}:{structure(h)}" for n, h in _fields(tp).items())
            found = f"{tp.__qualname__}({inner})"
        elif origin is not None:
            found = f"{origin!r}[{','.join(structure(a) for a in args)}]"
        else:
            found = repr(tp)
        _structures[tp] = found
    return found


def encode(tp: Any, value: Any) -> Any:
    """``value`` (of type ``tp``) as JSON-able data: a dataclass as the list of its fields, in
    order (the row's format checksum covers the order: see ``structure``)."""
    return _encoder(tp)(value)


def decode(tp: Any, data: Any) -> Any:
    """The value of type ``tp`` that ``encode`` wrote as ``data``; UnreadableRow when it does not
    fit. Only the types ``tp`` names are built (dataclasses through their fields' declared types),
    each field checked against its type."""
    return _decoder(tp)(data)


# --- the two layers --------------------------------------------------------------------------


@dataclasses.dataclass
class _Entry(Generic[T]):
    version: Version
    computed_at: datetime
    result: T


class Kept(Generic[T]):
    """One page's kept results (module docstring). ``result_type`` is the dataclass ``compute``
    returns (its field types drive the decoder); ``max_age``: a result older than that is computed
    again whatever the counter; ``own_writes``: keep in the process what a transaction computed
    over its own uncommitted writes, for that transaction only; ``format``: raise it when the
    result's fields change, so older rows are ignored."""

    def __init__(
        self,
        page: str,
        result_type: type[T],
        *,
        max_age: timedelta | None = None,
        entries: int = 16,
        own_writes: bool = False,
        format: int = 1,  # noqa: A002 - the row's column
    ) -> None:
        self.page, self.result_type = page, result_type
        self.max_age, self.entries, self.own_writes = max_age, entries, own_writes
        # The page's format and the shape of its result: a row of another is never read.
        self.format = zlib.crc32(f"{format}:{structure(result_type)}".encode()) & 0x7FFFFFFF
        self._memory: OrderedDict[tuple[str, str], _Entry[T]] = OrderedDict()
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop every result kept in this process (tests, benchmarks); the stored rows stay."""
        with self._lock:
            self._memory.clear()

    def _young(self, computed_at: datetime, now: datetime) -> bool:
        return self.max_age is None or timedelta(0) <= now - computed_at < self.max_age

    def get(
        self,
        session: Session,
        params: Mapping[str, Any],
        version: Version,
        compute: Callable[[], T],
        *,
        now: datetime | None = None,
    ) -> T:
        """The result for ``params`` (which must hold the scope) at ``version``: kept in this
        process, else stored by any process, else ``compute()`` (then kept and stored)."""
        now = now or utcnow()
        canonical = json.dumps(
            {k: to_json(v) for k, v in params.items()}, sort_keys=True, separators=(",", ":")
        )
        where = (str(session.connection().engine.url), canonical)
        committed = version[1] == 0
        with self._lock:
            found = self._memory.get(where)
        if (
            found is not None
            and found.version == version
            and (committed or self.own_writes)
            and self._young(found.computed_at, now)
        ):
            return found.result
        key = hashlib.sha256(f"{self.page}\n{canonical}".encode()).hexdigest()
        if committed:
            stored = self._read(session, key, canonical, version[0], now)
            if stored is not None:
                self._remember(where, _Entry(version, stored[0], stored[1]))
                return stored[1]
        result = compute()
        if committed or self.own_writes:
            self._remember(where, _Entry(version, now, result))
        if committed:
            self._store(session, key, canonical, version[0], now, result)
        return result

    def _remember(self, where: tuple[str, str], entry: _Entry[T]) -> None:
        with self._lock:
            self._memory[where] = entry
            self._memory.move_to_end(where)
            while len(self._memory) > self.entries:
                self._memory.popitem(last=False)

    def _read(
        self, session: Session, key: str, canonical: str, version: int, now: datetime
    ) -> tuple[datetime, T] | None:
        """The stored result of ``key`` at ``version``, young enough; None when there is none or
        it cannot be read (then the page computes it again and overwrites the row)."""
        row = session.execute(
            select(KeptResult.params, KeptResult.format, KeptResult.computed_at, KeptResult.payload).where(
                KeptResult.key == key, KeptResult.version == version
            )
        ).first()
        if row is None or row.params != canonical or row.format != self.format:
            return None
        if not self._young(row.computed_at, now):
            return None
        try:
            data = json.loads(zlib.decompress(row.payload))
            return row.computed_at, decode(self.result_type, data)
        except Exception:  # noqa: BLE001 - a corrupt or foreign row is ignored, never a 500
            if has_app_context():
                current_app.logger.warning("kept result %s of %s unreadable; computed again", key, self.page)
            return None

    def _store(
        self, session: Session, key: str, canonical: str, version: int, now: datetime, result: T
    ) -> None:
        payload = zlib.compress(
            json.dumps(encode(self.result_type, result), ensure_ascii=False, separators=(",", ":")).encode(),
            1,
        )
        values = {
            "key": key,
            "page": self.page,
            "params": canonical,
            "version": version,
            "format": self.format,
            "computed_at": now,
            "payload": payload,
        }
        page = self.page

        def write(s: Session) -> None:
            upsert(s, values)
            prune(s, page, now)

        from perception.core.transaction import request_transaction_writable, write_afterwards

        if request_transaction_writable():
            write(session)
        else:  # a reading request: right after its transaction, in a short one of its own
            write_afterwards(write)


def upsert(session: Session, values: dict[str, Any]) -> None:
    """Insert or replace the row of ``values["key"]``; a row computed at a newer counter is left
    as it is (two processes computing at once: the newer data wins)."""
    table: Any = KeptResult.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table).values(**values)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(**values)
    changed = {k: stmt.excluded[k] for k in values if k != "key"}
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[table.c.key], set_=changed, where=table.c.version <= stmt.excluded.version
        )
    )


def prune(session: Session, page: str, now: datetime) -> None:
    """Delete the page's rows older than PRUNE_AFTER, and its oldest beyond MAX_ROWS."""
    t = KeptResult
    session.execute(delete(t).where(t.page == page, t.computed_at < now - PRUNE_AFTER))
    count = session.scalar(select(func.count()).select_from(t).where(t.page == page)) or 0
    if count > MAX_ROWS:
        oldest = (
            select(t.key)
            .where(t.page == page)
            .order_by(t.computed_at)
            .limit(count - MAX_ROWS)
            .scalar_subquery()
        )
        session.execute(delete(t).where(t.key.in_(oldest)))
