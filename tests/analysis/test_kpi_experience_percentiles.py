"""Issue 14, on the KPI-versus-experience page: a percentile KPI (P90 resolution time) linked to an
experience standard took the period's value as the n-weighted mean of its weekly P90s, the same
understatement the KPI page had. A percentile over the period comes from the cell's tickets (and
each tier's, for the tier rule): checked against numpy.percentile over all those tickets with the
method the product states (type 7, ``method="linear"``; no SLA, so covered time is elapsed time, as
in tests/kpi/test_kpi_pooled_percentiles). A percentile has no interval: the KPI side says so."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.kpi_experience import kpi_vs_experience
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.analysis.conftest import MONDAY
from tests.kpi.conftest import csv_bytes, ticket_row

# Week 0: many fast Gold tickets; week 1: a few slow ones. The n-weighted mean of the weekly P90s
# lies far below the P90 of all the cell's tickets.
GOLD_W0 = [5, 7, 8, 9, 10, 11, 12, 12, 13, 14, 15, 15, 16, 17, 18, 19, 20, 21, 22, 24, 25, 26, 27, 30]
GOLD_W1 = [40, 55, 70, 90, 120]
NONE_W0 = [6, 9, 33]
NONE_W1 = [50, 80]


def _p(minutes: list[int], q: float = 90) -> float:
    return float(np.percentile(np.array(minutes, dtype=float), q, method="linear"))


def _rows(minutes: list[int], week: int, tier: str, prefix: str) -> list[dict[str, str]]:
    day = MONDAY + timedelta(weeks=week)
    out = []
    for i, m in enumerate(minutes):
        opened = datetime.combine(day, datetime.min.time()) + timedelta(hours=9, minutes=i)
        out.append(
            ticket_row(
                f"{prefix}-{i}",
                region="R1",
                customer="R1-C",
                tier=tier,
                opened=opened.strftime("%Y-%m-%d %H:%M"),
                first_response=(opened + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M"),
                resolved=(opened + timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M"),
                closed="",
                status="resolved",
            )
        )
    return out


def _stored(session, definition, service, region, tier, week: int, minutes: list[int], target: float) -> None:
    """The weekly value the KPI computation stores: that week's P90 of the tier's tickets."""
    from perception.kpi.models import KpiValue

    monday = MONDAY + timedelta(weeks=week)
    value = _p(minutes)
    session.add(
        KpiValue(
            definition_id=definition.id,
            service_id=service.id,
            region_id=region.id,
            tier_id=tier.id if tier is not None else None,
            tier_key=tier.id if tier is not None else 0,
            granularity="week",
            period_start=monday,
            period_end=monday + timedelta(days=7),
            value=value,
            n=len(minutes),
            target=target,
            comparator="<=",
            met=value <= target,
            provenance="computed",
        )
    )
    session.flush()


@pytest.fixture
def p90_cell(db_session, org, catalog, link_kpi, observe):
    desk, gold, r1 = catalog["DESK"], catalog["GOLD"], org["R1"]["region"]
    rows = (
        _rows(GOLD_W0, 0, "GOLD", "G0")
        + _rows(GOLD_W1, 1, "GOLD", "G1")
        + _rows(NONE_W0, 0, "", "N0")
        + _rows(NONE_W1, 1, "", "N1")
    )
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes(rows))
    d = link_kpi(desk, "TK_RESOLUTION_P90", 60.0, "csat_share", 0.85, kpi_comparator="<=")
    d.unit = "min"
    for week, gold_minutes, none_minutes in ((0, GOLD_W0, NONE_W0), (1, GOLD_W1, NONE_W1)):
        _stored(db_session, d, desk, r1, gold, week, gold_minutes, 60.0)
        _stored(db_session, d, desk, r1, None, week, none_minutes, 90.0)
    observe(r1, desk, "csat", [5, 4, 2, 3, 5, 1])
    return d


def test_percentile_kpi_of_a_cell_comes_from_its_tickets(db_session, p90_cell):
    view = kpi_vs_experience(db_session, AnalysisFilters(start=MONDAY, end=MONDAY + timedelta(weeks=2)))
    cell = next(c for c in view.cells if c.kpi_code == "TK_RESOLUTION_P90")
    shown = cell.comparison.kpi_value
    everything = GOLD_W0 + GOLD_W1 + NONE_W0 + NONE_W1
    weighted = np.average(
        [_p(m) for m in (GOLD_W0, GOLD_W1, NONE_W0, NONE_W1)],
        weights=[len(m) for m in (GOLD_W0, GOLD_W1, NONE_W0, NONE_W1)],
    )
    assert weighted < 0.85 * _p(everything)  # the observation: the old value understated by > 15 %
    assert shown == pytest.approx(_p(everything), rel=1e-12)
    # The tier rule judges each tier over the period on its own tickets, against its own target.
    groups = {g.label: g for g in cell.comparison.kpi_groups}
    assert groups["GOLD"].value == pytest.approx(_p(GOLD_W0 + GOLD_W1), rel=1e-12)
    assert groups["-"].value == pytest.approx(_p(NONE_W0 + NONE_W1), rel=1e-12)
    assert groups["GOLD"].n is None and groups["-"].n is None  # no interval for a percentile
    # A percentile has no interval today: the KPI side says so and is never "evidenced".
    assert cell.comparison.kpi_ci_low != cell.comparison.kpi_ci_low  # NaN
    assert not cell.comparison.kpi_evidenced


def test_the_filter_period_bounds_the_tickets(db_session, org, p90_cell):
    r1 = org["R1"]["region"].id
    filters = AnalysisFilters(start=MONDAY, end=MONDAY + timedelta(weeks=1), region_ids=frozenset({r1}))
    cell = next(c for c in kpi_vs_experience(db_session, filters).cells if c.kpi_code == "TK_RESOLUTION_P90")
    assert cell.comparison.kpi_value == pytest.approx(_p(GOLD_W0 + NONE_W0), rel=1e-12)
    assert cell.weeks_with_kpi == 1
