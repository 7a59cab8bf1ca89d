"""A database of a test's own, for tests whose app commits for real and is shared with other
processes (a worker, a proxy): a SQLite file, or a PostgreSQL schema on the test server named in
the URL itself (``options=-csearch_path=...``), so a subprocess given only the URL uses it too."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL, postgres_available, require_component


def sqlite_url(folder: Path, name: str) -> str:
    return f"sqlite:///{folder / name}.sqlite"


class PostgresSchema:
    def __init__(self, schema: str) -> None:
        ok, reason = postgres_available()
        require_component("PostgreSQL", ok, reason)
        self.schema = schema
        self._run(f"DROP SCHEMA IF EXISTS {schema} CASCADE", f"CREATE SCHEMA {schema}")

    def url(self, base: str = POSTGRES_URL) -> str:
        joiner = "&" if "?" in base else "?"
        return f"{base}{joiner}options={quote(f'-csearch_path={self.schema}')}"

    def create_tables(self) -> PostgresSchema:
        """Every table of the product's models, created in the schema; returns the schema."""
        from perception.core.models.base import Base

        engine = create_engine(self.url())
        Base.metadata.create_all(engine)
        engine.dispose()
        return self

    def empty_tables(self) -> None:
        """Every table emptied, every identity from 1: what a new schema with its tables holds,
        without the 2-4 s of DDL that creating one costs (a test's own schema, reused)."""
        from perception.core.models.base import Base

        engine = create_engine(self.url())
        with engine.begin() as conn:
            quote = conn.dialect.identifier_preparer.format_table
            tables = ", ".join(quote(t) for t in Base.metadata.sorted_tables)
            conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        engine.dispose()

    def drop(self) -> None:
        self._run(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

    @staticmethod
    def _run(*statements: str) -> None:
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
        engine.dispose()
