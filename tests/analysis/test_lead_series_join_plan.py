"""The experience running sums' refresh joins the pre-aggregate with its numbered series by an
index on SQLite, the embedded default (issue 19).

Without it SQLite looked each pre-aggregate row's series up by scanning the series work table: at
a tenth of a national provider's size (926,000 rows x 45,000 series) `refresh_rollup`, the hourly
job, ran for many minutes holding the database's write turn (with the index: 16 s for the
pre-aggregate and its sums together). The plan is checked, not a time: SQLite plans an empty
table's join the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from perception import create_app
from perception.analysis.services import experience_cumulative
from perception.core.extensions import db

pytestmark = pytest.mark.own_sqlite


def test_each_rows_series_is_found_by_index_not_by_a_scan(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'plan.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x" * 40})
    with app.app_context():
        db.create_all()
        experience_cumulative._number_series(db.session)
        conn = db.session.connection()
        statement = experience_cumulative.sums_by_series().compile(
            dialect=conn.dialect, compile_kwargs={"literal_binds": True}
        )
        plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}")]
        db.session.rollback()
    series = [step for step in plan if "experience_cumulative_series" in step]
    assert series and all(step.startswith("SEARCH") and "USING INDEX" in step for step in series), plan
