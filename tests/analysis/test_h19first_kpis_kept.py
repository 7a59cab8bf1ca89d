"""Issue 19: the internal KPI page's kept result follows its write counter alone, with no age limit.

The limit (ten minutes) was a safety net for inputs the counter might miss. These tests show the
counter covers every input: each table the page's computation reads is one whose write moves the
counter (perception.kpi.services.data_version.KPI_ANALYSIS), and the one input that is no table,
the clock (the SLA in force on the period's last day or today, whichever is earlier, measures the
tickets' percentiles), is in the key. So a result is served for as long as nothing changed, and
the background job's result (computed hourly) is what a manager meets."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event

from perception.analysis.services import kpis
from perception.analysis.services.filters import AnalysisFilters
from perception.core.models.base import Base
from perception.kpi.services import data_version
from tests.analysis.test_h19kept_pages import _forget, own_app  # noqa: F401 - the fixture
from tests.analysis.test_h19kpis2_kpis_sums import _filters, generated  # noqa: F401 - the fixture
from tests.kpi.test_kpi_sla import changed  # noqa: F401 - the fixture

START, END = date(2026, 3, 30), date(2026, 4, 13)  # the two weeks of the tickets of ``changed``


def _tables_read(session, run, monkeypatch) -> set[str]:
    """The tables of ours named by the statements ``run`` sends (the tickets' own fetch too: it
    goes through the driver's cursor, unseen by SQLAlchemy's events)."""
    from perception.kpi.services import duration_arrays, ticket_fetch

    sent: list[str] = []

    def watch(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    real_sql = ticket_fetch._sql
    monkeypatch.setattr(ticket_fetch, "_sql", lambda *a, **kw: sent.append(real_sql(*a, **kw)) or sent[-1])
    # The stored durations' binary read on PostgreSQL goes through the driver's cursor as well.
    real_arrays_sql = duration_arrays._pg_sql
    monkeypatch.setattr(duration_arrays, "_pg_sql", lambda *a: sent.append(real_arrays_sql(*a)) or sent[-1])

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", watch)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    names = set(Base.metadata.tables)
    return {t for s in sent for t in re.findall(r"\b(\w+)\b", s) if t in names}


def test_every_table_the_page_reads_moves_its_counter(db_session, changed, catalog, org, monkeypatch):  # noqa: F811
    from perception.kpi.services.compute import compute_kpis
    from perception.kpi.services.ticket_import import ImportOptions, import_tickets
    from perception.setup.models.catalog import Subscription
    from tests.kpi.conftest import csv_bytes, ticket_row

    # Tickets of a second region: the page pools the two regions' percentiles from the durations.
    rows = [
        ticket_row(
            f"W-{i}",
            region="R2",
            customer="R2-C",
            opened=opened,
            first_response=responded,
            resolved="",
            closed="",
            status="open",
        )
        for i, (opened, responded) in enumerate(
            [("2026-03-31 10:00", "2026-03-31 10:30"), ("2026-04-07 10:00", "2026-04-07 11:30")]
        )
    ]
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes(rows))

    # A customer's subscription picks its tier's SLA: it measures the tickets' percentiles.
    customer = org["R1"]["customer"]
    db_session.add(
        Subscription(
            customer_id=customer.id,
            service_id=catalog["DESK"].id,
            tier_id=catalog["GOLD"].id,
            region_id=customer.region_id,
        )
    )
    # The first week computed (its percentiles read from the stored durations), the second not
    # (measured from the tickets): both ways of reading the percentiles run.
    compute_kpis(db_session, START, START + timedelta(weeks=1), as_of=datetime(2026, 5, 1))
    db_session.flush()
    filters = AnalysisFilters(start=START, end=END)
    read = _tables_read(
        db_session, lambda: kpis.kpi_analysis(db_session, filters, region_page=1), monkeypatch
    )
    assert {"kpi_value", "kpi_duration_array", "ticket", "sla", "subscription"} <= read
    # The counters themselves, and the KPI values' running sums and weekly sums, read only while
    # they equal the values (their own counter, KPI_VALUES, says so): derived, they change no figure.
    derived = {
        "data_version",
        "kpi_cumulative_state",
        "kpi_value_cumulative",
        "kpi_week_sum",
        "kpi_week_sum_state",
    }
    assert read - derived <= data_version.WATCHED[data_version.KPI_ANALYSIS]
    for table in read - derived:
        assert data_version.KPI_ANALYSIS in data_version._names(table), table


def test_a_kept_result_is_served_while_nothing_changed_and_the_day_is_in_its_key(db_session, monkeypatch):
    computed: list[AnalysisFilters] = []
    real = kpis._core
    monkeypatch.setattr(kpis, "_core", lambda session, f: computed.append(f) or real(session, f))
    monkeypatch.setattr(kpis, "read_version", lambda session, name: (41, 0, 0))
    kpis.forget_kept()
    noon = datetime(2026, 4, 8, 12, 0)
    running = AnalysisFilters(start=START, end=END)  # ends after noon's day: the SLA of that day
    ended = AnalysisFilters(start=START - timedelta(weeks=2), end=START)
    for filters in (running, ended):
        first = kpis.kpi_analysis(db_session, filters, keep=True, now=noon)
        assert first.computed_at == noon
        # Hours later, the same day: served, whatever its age.
        later = kpis.kpi_analysis(db_session, filters, keep=True, now=noon + timedelta(hours=11))
        assert later.computed_at == noon
    assert computed == [running, ended]
    tomorrow = noon + timedelta(days=1)
    # The next day, the running period's tickets are measured under that day's SLA: computed again.
    assert kpis.kpi_analysis(db_session, running, keep=True, now=tomorrow).computed_at == tomorrow
    # A period that ended before is measured under its last day's SLA whatever the day: served.
    assert kpis.kpi_analysis(db_session, ended, keep=True, now=tomorrow).computed_at == noon
    assert computed == [running, ended, running]
    monkeypatch.setattr(kpis, "read_version", lambda session, name: (42, 0, 0))
    assert kpis.kpi_analysis(db_session, ended, keep=True, now=tomorrow).computed_at == tomorrow
    kpis.forget_kept()


@pytest.mark.parametrize("which", ["all", "scoped", "one_region", "service", "tier", "shorter"])
def test_the_region_cells_from_the_running_sums_are_those_of_the_values(db_session, generated, which):  # noqa: F811
    from perception.kpi.services.kpi_cumulative import (
        cumulative_freshness,
        period_cells,
        refresh_cumulative,
    )
    from perception.kpi.services.kpi_values_stamp import Freshness

    filters = _filters(generated, which)
    # Beside the period: one past the values, and the three weeks before it.
    later = replace(filters, start=filters.end + timedelta(weeks=1), end=filters.end + timedelta(weeks=3))
    earlier = replace(filters, start=filters.start - timedelta(weeks=3), end=filters.start)
    assert cumulative_freshness(db_session) is not Freshness.CURRENT
    # Not current: grouped from the values.
    grouped = {f: kpis._region_cells(db_session, f) for f in (filters, later, earlier)}
    refresh_cumulative(db_session)
    assert cumulative_freshness(db_session) is Freshness.CURRENT
    found = period_cells(
        db_session,
        filters.start,
        filters.end,
        region_ids=filters.region_ids,
        service_id=filters.service_id,
        tier_id=filters.tier_id,
    )
    assert grouped[filters] and found is not None
    assert sorted(found) == sorted(grouped[filters]) and len(found) == len(set(found))
    for f, cells in grouped.items():
        assert sorted(kpis._region_cells(db_session, f)) == sorted(cells)


def test_the_job_computes_the_year_ahead_too(own_app, monkeypatch):  # noqa: F811
    from perception.analysis.kept_pages import year_args
    from perception.analysis.services import changes, experience, overview
    from perception.core.clock import current_clock
    from perception.core.jobs import run_now
    from perception.core.transaction import unit_of_work

    _forget()
    with own_app.app_context(), unit_of_work() as session:
        run_now(session, "refresh_kept_pages")
        today = current_clock().today()
    _forget()  # another process: only the stored rows

    def refuse(*_a, **_kw):
        raise AssertionError("computed in the request")

    monkeypatch.setattr(kpis, "_core", refuse)
    monkeypatch.setattr(changes, "computed_view", refuse)
    monkeypatch.setattr(overview, "overview_figures", refuse)
    monkeypatch.setattr(experience, "computed_experience", refuse)
    client = own_app.test_client()
    assert client.post("/login", data={"username": "m", "password": "pw-0123456789abc"}).status_code == 302
    query = "&".join(f"{k}={v}" for k, v in year_args(today).items())
    for page in ("kpis", "overview", "experience"):
        response = client.get(f"/analysis/{page}?{query}")
        assert response.status_code == 200, (page, response.get_data(as_text=True)[:500])
    _forget()
