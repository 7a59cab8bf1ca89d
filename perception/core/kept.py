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
- in the database (``kept_result``), every result, as zlib-compressed JSON written and read back
  by pydantic from the result type (``Codec``: the result dataclasses' own field types say what
  may be built; never pickle, nothing that runs code from a row). Every
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
stores it for everyone). On PostgreSQL one process at a time: the others asking for the same key
and counter meanwhile wait for it and read its row (``Kept._computed_once``), so several managers
opening a page whose data just changed cost one computation, not one each. A page does not show
a previous result while a new one is computed: the pages say their figures follow every write
("computed again when ... change"), and a manager who has just imported tickets or entered KPI
values must see them. No manager pays the first load of
the default views all the same: the hourly job and a deduplicated background job after each
write that moves a counter compute the organisation-wide default views ahead
(perception.analysis.kept_pages), so the first manager to open them finds them in the table.

Public API: ``Kept(page, result_type, ...)`` with ``get(session, params, version, compute, now=)``
and ``forget()``; ``codec(tp)`` (the stored form), ``encode`` / ``decode`` (the same as JSON
data), ``to_json`` (the key's parameters); ``prune``.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from numbers import Integral, Real
from typing import Any, Generic, TypeVar

from flask import current_app, has_app_context
from pydantic import ConfigDict, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import CoreConfig, SchemaSerializer, SchemaValidator, ValidationError, core_schema
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from perception.core.models.base import utcnow
from perception.core.models.kept import KeptResult

T = TypeVar("T")
Version = tuple[int, int, int]  # data_version.read_version: committed count, token, own writes

PRUNE_AFTER = timedelta(days=2)
MAX_ROWS = 500  # per page
#: How long a request waits for another process computing the same result (Kept._computed_once)
#: before computing it itself: longer than any page's computation at a national provider's size.
FLIGHT_WAIT = timedelta(minutes=2)


class UnreadableRow(ValueError):
    """A stored result that does not fit the page's types (corrupt, or written by other code)."""


# --- the stored form --------------------------------------------------------------------------


_PLAIN = frozenset({type(None), bool, int, float, str})


def to_json(value: Any) -> Any:
    """A key's parameter as JSON-able data, always written the same way: dataclasses as objects
    of their fields, tuples, lists and sets as lists (sets sorted: the key must not depend on a
    set's iteration order), mappings as lists of pairs, dates in ISO format, enums by value,
    NumPy numbers as Python ones."""
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
    raise TypeError(f"cannot key on a {type(value).__name__}")


def _tuples(value: Any) -> Any:
    """A value typed Any or Hashable read from JSON: its arrays become tuples again (a unit such
    as ("cell", 3, 7) must stay hashable)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _loose_as_tuples(schema: Any) -> Any:
    """``schema`` (a pydantic core schema) with every Any and Hashable value read by ``_tuples``:
    pydantic reads a JSON array there as a list, which a Hashable field cannot hold."""
    if isinstance(schema, list):
        return [_loose_as_tuples(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "any" or schema.get("custom_error_type") == "is_hashable":
        return core_schema.no_info_after_validator_function(_tuples, core_schema.any_schema())
    return {k: v if k == "metadata" else _loose_as_tuples(v) for k, v in schema.items()}


class Codec:
    """A result type's stored form: JSON written and read by pydantic from the type's own field
    types (dataclasses as objects of their fields, dates in ISO format, enums by value, Decimal
    as text, floats exactly, NaN and infinities as JSON's NaN/Infinity). Reading builds only the
    types the result type names, each field checked against its type (strict JSON mode): never
    pickle, nothing in a row runs code. Two values come back equal but not alike: an int held in
    a field typed float comes back a float, an aware datetime with pydantic's own fixed-offset
    tzinfo (the pages' results hold floats and naive UTC)."""

    # pydantic takes no config for a dataclass given directly (it may have its own): the result
    # is written as a one-item array, whose config its dataclasses inherit.
    _CONFIG = ConfigDict(ser_json_inf_nan="constants")

    def __init__(self, tp: Any) -> None:
        adapter: TypeAdapter[Any] = TypeAdapter(tuple[tp], config=self._CONFIG)  # type: ignore[valid-type]
        schema = _loose_as_tuples(adapter.core_schema)
        config = CoreConfig(ser_json_inf_nan="constants")
        self._validator = SchemaValidator(schema, config)
        self._serializer = SchemaSerializer(schema, config)
        # What is written, all the way down (names, types, which may be null): rows carry its
        # checksum, and a row of another shape is never read.
        self.shape = json.dumps(GenerateJsonSchema().generate(schema), sort_keys=True)

    def dumps(self, value: Any) -> bytes:
        return self._serializer.to_json((value,))

    def loads(self, raw: bytes | str) -> Any:
        """The value ``dumps`` wrote as ``raw``; UnreadableRow when it does not fit the type."""
        try:
            return self._validator.validate_json(raw, strict=True)[0]
        except ValidationError as exc:
            raise UnreadableRow(str(exc)) from exc


_codecs: dict[Any, Codec] = {}


def codec(tp: Any) -> Codec:
    """The stored form of ``tp``, built once (on first use: not at import, pydantic's schema
    building costs tens of milliseconds a type)."""
    found = _codecs.get(tp)
    if found is None:
        found = _codecs[tp] = Codec(tp)
    return found


def structure(tp: Any) -> str:
    """The shape the stored form of ``tp`` has (its JSON schema): rows carry its checksum."""
    return codec(tp).shape


def encode(tp: Any, value: Any) -> Any:
    """``value`` (of type ``tp``) as the JSON data stored for it (tests, inspection)."""
    return json.loads(codec(tp).dumps(value))[0]


def decode(tp: Any, data: Any) -> Any:
    """The value of type ``tp`` that ``encode`` gave as ``data``; UnreadableRow when it does not
    fit, read exactly as a stored row is."""
    return codec(tp).loads(json.dumps([data]))


# --- the two layers --------------------------------------------------------------------------


class _GaveUp(Exception):
    """Waiting for another process's computation took longer than FLIGHT_WAIT."""


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
    result's fields change, so older rows are ignored; ``shared=False``: kept in the process only,
    never stored (a result too large to write and read back faster than it is computed)."""

    def __init__(
        self,
        page: str,
        result_type: type[T],
        *,
        max_age: timedelta | None = None,
        entries: int = 16,
        own_writes: bool = False,
        format: int = 1,  # noqa: A002 - the row's column
        shared: bool = True,
    ) -> None:
        self.page, self.result_type = page, result_type
        self.shared = shared
        self.max_age, self.entries, self.own_writes = max_age, entries, own_writes
        self._format = format
        self._memory: OrderedDict[tuple[str, str], _Entry[T]] = OrderedDict()
        self._lock = threading.Lock()

    @functools.cached_property
    def format(self) -> int:
        """The page's format and the shape of its result: a row of another is never read."""
        return zlib.crc32(f"{self._format}:{structure(self.result_type)}".encode()) & 0x7FFFFFFF

    def forget(self) -> None:
        """Drop every result kept in this process (tests, benchmarks); the stored rows stay."""
        with self._lock:
            self._memory.clear()

    def _young(self, computed_at: datetime, now: datetime, limit: timedelta | None) -> bool:
        return limit is None or timedelta(0) <= now - computed_at < limit

    def get(
        self,
        session: Session,
        params: Mapping[str, Any],
        version: Version,
        compute: Callable[[], T],
        *,
        now: datetime | None = None,
        younger_than: timedelta | None = None,
    ) -> T:
        """The result for ``params`` (which must hold the scope) at ``version``: kept in this
        process, else stored by any process, else ``compute()`` (then kept and stored).
        ``younger_than``: a kept result at least that old is computed again, though the page's
        ``max_age`` would still show it (the job that computes a page ahead, before it expires)."""
        now = now or utcnow()
        limit = self.max_age if younger_than is None else min(younger_than, self.max_age or younger_than)
        canonical = canonical_params(params)
        where = (str(session.connection().engine.url), canonical)
        committed = version[1] == 0
        with self._lock:
            found = self._memory.get(where)
        if (
            found is not None
            and found.version == version
            and (committed or self.own_writes)
            and self._young(found.computed_at, now, limit)
        ):
            return found.result
        key = row_key(self.page, canonical)
        if committed and self.shared:
            stored = self._read(session, key, canonical, version[0], now, limit)
            if stored is not None:
                self._remember(where, _Entry(version, stored[0], stored[1]))
                return stored[1]
        if committed and self.shared:
            flown = self._computed_once(session, key, canonical, version[0], now, limit, compute)
            if flown is not None:
                self._remember(where, _Entry(version, flown[0], flown[1]))
                return flown[1]
        result = compute()
        if committed or self.own_writes:
            self._remember(where, _Entry(version, now, result))
        if committed and self.shared:
            self._store(session, key, canonical, version[0], now, result)
        return result

    def _computed_once(
        self,
        session: Session,
        key: str,
        canonical: str,
        version: int,
        now: datetime,
        limit: timedelta | None,
        compute: Callable[[], T],
    ) -> tuple[datetime, T] | None:
        """The result computed by one process at a time (PostgreSQL; None elsewhere, or when the
        wait ran out: the caller computes it itself).

        Several managers opening a page whose data just changed each computed it (a national
        provider's SLA attainment is seconds of CPU each; its overview's change look more than
        one): now the first takes a transaction-level advisory lock of the key and counter on a
        connection of its own, computes, stores the row in that transaction and commits, which
        releases the lock; the others wait for the lock and read the row (issue 19). A session
        bound to one connection (a caller's outer transaction that it will roll back, as the
        tests' fixture) keeps its results there instead: stored apart, they would outlive it."""
        engine = session.get_bind()
        if not isinstance(engine, Engine) or engine.dialect.name != "postgresql":
            return None
        lock = int.from_bytes(hashlib.sha256(f"{key}:{version}".encode()).digest()[:8], "big", signed=True)
        from perception.core.transaction import held_apart

        try:
            with held_apart(engine) as apart:
                waiting = time.monotonic()
                try:
                    apart.execute(text(f"SET LOCAL lock_timeout = '{int(FLIGHT_WAIT.total_seconds())}s'"))
                    apart.execute(select(func.pg_advisory_xact_lock(lock)))
                except OperationalError as waited:  # waited FLIGHT_WAIT for another process
                    raise _GaveUp from waited
                # Whoever held the lock has committed its row: read in a statement after the wait,
                # as of now plus the wait (a row computed while this one waited is not "from the
                # future": its process may have begun a moment after this one).
                waited_until = now + timedelta(seconds=time.monotonic() - waiting)
                stored = self._read(apart, key, canonical, version, waited_until, limit)
                if stored is not None:
                    return stored
                result = compute()
                try:
                    with apart.begin_nested():
                        self._row(key, canonical, version, now, result)(apart)
                except OperationalError:  # the row locked past FLIGHT_WAIT: shown, stored next time
                    if has_app_context():
                        current_app.logger.warning(
                            "kept result %s of %s not stored: row locked", key, self.page
                        )
                return now, result  # committed as the block ends: the lock is released with the row
        except _GaveUp:
            return None

    def _remember(self, where: tuple[str, str], entry: _Entry[T]) -> None:
        with self._lock:
            self._memory[where] = entry
            self._memory.move_to_end(where)
            while len(self._memory) > self.entries:
                self._memory.popitem(last=False)

    def _read(
        self, session: Session, key: str, canonical: str, version: int, now: datetime, limit: timedelta | None
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
        if not self._young(row.computed_at, now, limit):
            return None
        try:
            return row.computed_at, codec(self.result_type).loads(zlib.decompress(row.payload))
        except Exception:  # noqa: BLE001 - a corrupt or foreign row is ignored, never a 500
            if has_app_context():
                current_app.logger.warning("kept result %s of %s unreadable; computed again", key, self.page)
            return None

    def _store(
        self, session: Session, key: str, canonical: str, version: int, now: datetime, result: T
    ) -> None:
        written_when_it_commits(session, self._row(key, canonical, version, now, result))

    def _row(
        self, key: str, canonical: str, version: int, now: datetime, result: T
    ) -> Callable[[Session], None]:
        """What stores ``result`` as the row of ``key`` (and prunes the page's old rows)."""
        payload = zlib.compress(codec(self.result_type).dumps(result), 1)
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

        return write


def canonical_params(params: Mapping[str, Any]) -> str:
    """A key's parameters as the one JSON text a stored row is found by (``to_json``)."""
    return json.dumps({k: to_json(v) for k, v in params.items()}, sort_keys=True, separators=(",", ":"))


def row_key(page: str, canonical: str) -> str:
    """The stored row's key of ``page`` and its parameters' ``canonical_params``."""
    return hashlib.sha256(f"{page}\n{canonical}".encode()).hexdigest()


def written_when_it_commits(session: Session, write: Callable[[Session], None]) -> None:
    """Run ``write`` in the caller's transaction when it will commit (a job, a CLI command, a writing
    request), else right after a reading request's transaction, in a short one of its own."""
    from perception.core.transaction import request_transaction_writable, write_afterwards

    if request_transaction_writable():
        write(session)
    else:
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


def prune(
    session: Session,
    page: str,
    now: datetime,
    *,
    older_than: timedelta | None = None,
    most: int | None = None,
) -> None:
    """Delete the page's rows older than ``older_than`` (PRUNE_AFTER), and its oldest beyond ``most``
    (MAX_ROWS)."""
    older_than = PRUNE_AFTER if older_than is None else older_than
    most = MAX_ROWS if most is None else most
    t = KeptResult
    session.execute(delete(t).where(t.page == page, t.computed_at < now - older_than))
    count = session.scalar(select(func.count()).select_from(t).where(t.page == page)) or 0
    if count > most:
        oldest = (
            select(t.key).where(t.page == page).order_by(t.computed_at).limit(count - most).scalar_subquery()
        )
        session.execute(delete(t).where(t.key.in_(oldest)))
