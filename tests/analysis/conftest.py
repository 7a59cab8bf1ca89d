"""Fixtures for the analysis tests: services and tiers, and writers of analysis facts
(ExperienceObservation, TextEntry) straight into the tables the collecting phases fill."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest

from tests.facts import add_linked_kpi, insert_observations, kpi_value_writer

MONDAY = date(2026, 3, 2)  # ISO week 2026-W10


@pytest.fixture
def catalog(db_session, org) -> dict[str, Any]:
    from perception.setup.models.catalog import Service, ServiceTier

    desk = Service(code="DESK", name_zh="服务台", name_en="Service desk")
    net = Service(code="NET", name_zh="网络运维", name_en="Network operations")
    gold = ServiceTier(code="GOLD", name_zh="金牌", name_en="Gold", rank=1)
    db_session.add_all([desk, net, gold])
    db_session.flush()
    return {"DESK": desk, "NET": net, "GOLD": gold}


@pytest.fixture
def observe(db_session) -> Callable[..., None]:
    """observe(region, service, kind, values, week=0, dimension=None, scale=(1, 5), source_start=...)
    writes one observation per value (each its own respondent unless ``respondents`` is given)."""
    counter = itertools.count(1)

    def write(
        region: Any,
        service: Any,
        kind: str,
        values: Iterable[float],
        *,
        week: int = 0,
        dimension: str | None = None,
        scale: tuple[float, float] = (1, 5),
        respondents: Iterable[int] | None = None,
        customer: Any = None,
        source: str = "survey",
    ) -> None:
        insert_observations(
            db_session,
            region,
            service,
            kind,
            values,
            day=MONDAY + timedelta(weeks=week),
            source_ids=respondents if respondents is not None else counter,
            dimension=dimension,
            item=dimension,
            scale=scale,
            customer=customer,
            source=source,
        )

    return write


@pytest.fixture
def period_args() -> dict[str, str]:
    return {"from": "2026-W10", "to": "2026-W13"}


@pytest.fixture
def link_kpi(db_session) -> Callable[..., Any]:
    """link_kpi(service, code, kpi_target, exp_metric, exp_target, dimension=None) creates a KPI
    standard linked to an experience standard (both confirmed, in force since 2026-01-01) and a
    KPI definition measuring it; returns the definition."""

    def make(
        service: Any,
        code: str,
        kpi_target: float,
        exp_metric: str,
        exp_target: float,
        *,
        dimension: str | None = None,
        kpi_comparator: str = ">=",
    ) -> Any:
        return add_linked_kpi(
            db_session,
            service,
            code,
            kpi_target,
            exp_metric,
            exp_target,
            kpi_comparator=kpi_comparator,
            experience={"dimension": dimension},
        )

    return make


@pytest.fixture
def kpi_value(db_session) -> Callable[..., None]:
    return kpi_value_writer(db_session, MONDAY)


@pytest.fixture
def three_regions(db_session, org):
    from perception.core.models.org import CustomerOrg, Region

    r3 = Region(code="R3", name_zh="广东", name_en="Guangdong")
    db_session.add(r3)
    db_session.flush()
    regions = {"R1": org["R1"]["region"], "R2": org["R2"]["region"], "R3": r3}
    customers = {}
    for code, region in regions.items():
        for i in range(2):
            c = CustomerOrg(
                code=f"{code}-K{i}",
                name_zh=f"{region.name_zh}客户{i}",
                name_en=f"{code} customer {i}",
                region_id=region.id,
            )
            db_session.add(c)
            db_session.flush()
            customers[(code, i)] = c
    return regions, customers


@pytest.fixture
def write_texts(db_session, three_regions):
    from perception.core.models.facts import TextEntry

    regions, customers = three_regions
    counter = {"id": 1000}

    def write(items, *, week=0, kind="requirement"):
        monday = MONDAY + timedelta(weeks=week)
        ids = []
        for region_code, ci, text in items:
            counter["id"] += 1
            entry = TextEntry(
                source="feedback",
                source_id=counter["id"],
                kind=kind,
                observed_on=monday,
                period_start=monday,
                region_id=regions[region_code].id,
                customer_id=customers[(region_code, ci)].id,
                text=text,
            )
            db_session.add(entry)
            db_session.flush()
            ids.append(entry.id)
        return ids

    return write


class _ReadsOfAnotherProcess:
    """What a request read: each kept result's codec (every stored result is read through its type's
    codec, perception.core.kept.codec) and each SQL statement, while ``watching(engine)`` is open."""

    def __init__(self) -> None:
        self.codecs: list[Any] = []
        self.statements: list[str] = []

    @contextmanager
    def watching(self, engine: Any) -> Iterator[None]:
        from sqlalchemy import event

        def listen(conn, cursor, statement, params, context, executemany):  # noqa: ANN001 - SQLAlchemy's hook
            self.statements.append(statement)

        event.listen(engine, "before_cursor_execute", listen)
        try:
            yield
        finally:
            event.remove(engine, "before_cursor_execute", listen)


@pytest.fixture
def reads(monkeypatch) -> _ReadsOfAnotherProcess:
    """Records the kept results' codecs read and the statements run (the tests of a process that
    finds a page's result stored: it reads that row and nothing of the data behind it)."""
    from perception.core import kept

    seen = _ReadsOfAnotherProcess()
    real_loads = kept.Codec.loads
    monkeypatch.setattr(kept.Codec, "loads", lambda c, raw: seen.codecs.append(c) or real_loads(c, raw))
    return seen


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.own_sqlite),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    """An own database on SQLite and on PostgreSQL, committed to: the write counters move at commits,
    which the rolled-back ``db_session`` never makes (the pre-aggregates' split tests). On
    PostgreSQL a schema of its own: the PostgreSQL pass's session-wide app holds the database's
    tables, which must outlive these tests. Marked own_sqlite and postgres: whatever the database
    setting they serve their own, so CI's PostgreSQL pass leaves them to the SQLite pass (once each)."""
    from sqlalchemy import create_engine

    from perception.core.models.base import Base

    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'split.sqlite'}")
        Base.metadata.create_all(made)
    else:
        schema = request.getfixturevalue("_engine_schema")
        schema.empty_tables()
        made = create_engine(schema.url())
    yield made
    made.dispose()


@pytest.fixture(scope="session")
def _engine_schema() -> Any:
    """``engine``'s PostgreSQL schema, its tables created once per process and emptied before each
    test: a new schema per test cost 2-3 s of DDL each, some two minutes of a CI worker."""
    from tests.own_database import PostgresSchema

    schema = PostgresSchema("split_tests").create_tables()
    yield schema
    schema.drop()
