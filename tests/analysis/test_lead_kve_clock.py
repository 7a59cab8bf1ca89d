"""Issue 19 (merge of h19kve5 and h19first): the KPI-versus-experience page's kept view has the
same inputs as the internal KPI page's: a percentile KPI's tickets are measured under the SLAs of
the period's last day or, while the period runs, today's (kpi.services.ticket_frame.sla_day), so a
running period's view is computed again the next day and an ended one is not; and the counter
watches the subscriptions and escalation rules the SLAs are found through."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from perception.analysis.services import kpi_experience
from perception.analysis.services.filters import parse_filters
from perception.kpi.services.data_version import KPI_ANALYSIS, KPI_EXPERIENCE, WATCHED
from perception.kpi.services.ticket_frame import sla_day
from tests.analysis.conftest import MONDAY

PERIOD = {"from": "2026-W10", "to": "2026-W13"}


@pytest.fixture(autouse=True)
def _nothing_kept():
    kpi_experience.forget_kept()
    yield
    kpi_experience.forget_kept()


def _computations(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = kpi_experience.kpi_vs_experience
    monkeypatch.setattr(kpi_experience, "kpi_vs_experience", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def _on(monkeypatch, day: datetime) -> None:
    monkeypatch.setattr(kpi_experience, "utcnow", lambda: day)


def test_a_running_period_is_computed_again_the_next_day(db_session, three_regions, monkeypatch):
    filters = parse_filters(db_session, PERIOD, None, today=MONDAY)
    calls = _computations(monkeypatch)
    running = datetime.combine(MONDAY + timedelta(days=10), datetime.min.time())
    _on(monkeypatch, running + timedelta(hours=9))
    kpi_experience.kept_kpi_vs_experience(db_session, filters)
    _on(monkeypatch, running + timedelta(hours=17))  # the same day: kept
    kpi_experience.kept_kpi_vs_experience(db_session, filters)
    assert len(calls) == 1
    _on(monkeypatch, running + timedelta(days=1, hours=9))  # the next day: today's SLAs
    kpi_experience.kept_kpi_vs_experience(db_session, filters)
    assert len(calls) == 2


def test_an_ended_period_is_kept_across_days(db_session, three_regions, monkeypatch):
    filters = parse_filters(db_session, PERIOD, None, today=MONDAY)
    calls = _computations(monkeypatch)
    after = datetime.combine(filters.end + timedelta(days=30), datetime.min.time())
    for days in range(3):
        _on(monkeypatch, after + timedelta(days=days))
        kpi_experience.kept_kpi_vs_experience(db_session, filters)
    assert len(calls) == 1
    assert sla_day(filters.end, after) == filters.end - timedelta(days=1)


def test_both_kpi_pages_watch_what_their_slas_are_found_through():
    assert {"subscription", "escalation_rule"} <= WATCHED[KPI_EXPERIENCE]
    assert WATCHED[KPI_ANALYSIS] - {"kpi_value", "kpi_definition"} <= WATCHED[KPI_EXPERIENCE]
