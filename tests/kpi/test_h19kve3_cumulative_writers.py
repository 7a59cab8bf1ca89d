"""Issue 19: the writers of KPI values keep the running sums of the weekly values current
(kpi.services.kpi_cumulative): the value import (new weeks, a changed early week, a week past the
last, one region only) and the computation from tickets (a recomputation of the same weeks, a
later week). After each, the sums are current and every period's sums are those of the weekly
values (analysis.services.kpi_experience.kpi_cell_sums, main's way, the reference)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from perception.analysis.services import kpi_experience as ke
from perception.analysis.services.filters import AnalysisFilters
from perception.kpi.models import KpiDefinition, KpiValue, KpiValueCumulative
from perception.kpi.services.compute import compute_kpis
from perception.kpi.services.kpi_cumulative import (
    cumulative_freshness,
    refresh_cumulative,
)
from perception.kpi.services.kpi_values_stamp import Freshness
from perception.kpi.services.ticket_import import ImportOptions
from perception.kpi.services.value_import import import_kpi_values
from tests.analysis.kve_reference import cumulative_cell_sums
from tests.analysis.test_h19kve3_cumulative import assert_same
from tests.kpi.test_kpi_compute import AS_OF, week

__all__ = ["week"]  # the fixture, imported for pytest

HEADER = "kpi,service,region,period,value,n\n"


def _check(session: Any, periods: list[tuple[date, date]]) -> None:
    assert cumulative_freshness(session) is Freshness.CURRENT
    definitions = set(session.scalars(select(KpiValue.definition_id).distinct()))
    regions = {None, *(frozenset({r}) for r in session.scalars(select(KpiValue.region_id).distinct()))}
    for start, end in periods:
        for region_ids in regions:
            f = AnalysisFilters(start, end, region_ids=region_ids)
            got = cumulative_cell_sums(session, f, definitions)
            assert got is not None
            assert_same(got, ke.kpi_cell_sums(session, f, definitions))
    # As many rows as a rebuild from nothing writes.
    kept = session.scalar(select(func.count()).select_from(KpiValueCumulative))
    assert refresh_cumulative(session, force=True) == kept


def _import(session: Any, tmp_path: Path, rows: list[str], name: str) -> None:
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    options = ImportOptions(dry_run=False, allow_duplicate=True)
    import_kpi_values(session, options, data=path, filename=path.name)


def test_the_value_import_keeps_the_running_sums(db_session: Any, catalog: Any, tmp_path: Path) -> None:
    db_session.add(
        KpiDefinition(
            code="RING2", name_zh="两声接听率", name_en="Answered by 2nd ring", unit="%", direction="higher",
            default_target=95.0,
        )
    )  # fmt: skip
    db_session.flush()
    rows = [f"RING2,DESK,R{1 + i % 2},2026-W{3 + i // 2:02d},{90 + i % 7},{100 + i}\n" for i in range(12)]
    _import(db_session, tmp_path, rows, "first.csv")
    refresh_cumulative(db_session)
    periods = [
        (date(2026, 1, 5), date(2026, 3, 2)),
        (date(2025, 12, 1), date(2026, 1, 26)),
        (date(2026, 1, 21), date(2026, 2, 4)),
        (date(2025, 1, 1), date(2027, 1, 1)),
    ]
    _check(db_session, periods)
    # An early week of one region changes, a gap is filled, and a region's week past the last.
    more = [
        "RING2,DESK,R1,2026-W03,50,10\n",
        "RING2,NET,R2,2026-W05,70,0\n",  # a new series, in a week without tickets
        "RING2,DESK,R2,2026-W11,99,40\n",  # past the last week: every series runs to it
    ]
    _import(db_session, tmp_path, more, "second.csv")
    _check(db_session, [*periods, (date(2026, 2, 2), date(2026, 3, 23))])
    _import(db_session, tmp_path, ["RING2,DESK,R1,2026-W04,75,5\n"], "third.csv")  # R1 alone
    _check(db_session, periods)


def test_the_computation_keeps_the_running_sums(db_session: Any, week: Any) -> None:
    compute_kpis(db_session, date(2026, 3, 30), date(2026, 4, 6), as_of=AS_OF)
    assert refresh_cumulative(db_session)
    periods = [(date(2026, 3, 23), date(2026, 4, 20)), (date(2026, 4, 6), date(2026, 4, 13))]
    _check(db_session, periods)
    compute_kpis(db_session, date(2026, 3, 30), date(2026, 4, 13), as_of=AS_OF)  # a later week too
    _check(db_session, periods)
    compute_kpis(db_session, date(2026, 3, 30), date(2026, 4, 6), as_of=AS_OF)  # the same again
    _check(db_session, periods)
