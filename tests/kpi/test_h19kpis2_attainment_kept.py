"""Issue 19: the SLA attainment page measured every ticket of its period on every load (5 months of
a national provider are ~2,000,000 tickets). Its result is now kept per process while the write
counter of its data (kpi.services.data_version.ATTAINMENT) stays the same and for at most MAX_AGE (a
waiting ticket turns overdue without any write); the page says when it was computed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

import perception.kpi.services.attainment_kept as kept_module
from perception.kpi.services import data_version
from perception.kpi.services.attainment_kept import MAX_AGE, forget_all, kept_attainment
from perception.kpi.services.sla import attainment_and_breaches
from tests.kpi.test_kpi_sla import changed  # noqa: F401 - the fixture

NOW = datetime(2026, 5, 1, 8, 0)
START, END = date(2026, 3, 1), date(2026, 5, 1)


@pytest.fixture
def counted(monkeypatch):
    """Counts the computations; the write counter is what ``version`` holds."""
    forget_all()
    calls: list[datetime] = []
    version = {"value": (7, 0, 0)}
    real = kept_module.attainment_and_breaches

    def computing(*args, **kw):
        calls.append(kw["as_of"])
        return real(*args, **kw)

    monkeypatch.setattr(kept_module, "attainment_and_breaches", computing)
    monkeypatch.setattr(kept_module, "read_version", lambda session, name: version["value"])
    yield calls, version
    forget_all()


def _figures(rows, breaches):
    return [(r.standard_code, r.kind, r.labels, r.measured, r.hits, r.result) for r in rows], list(breaches)


def test_the_kept_result_is_the_computed_one_until_its_data_change(db_session, changed, counted):  # noqa: F811
    calls, version = counted
    first = kept_attainment(db_session, START, END, limit=200, now=NOW)
    rows, breaches = attainment_and_breaches(db_session, START, END, limit=200, as_of=NOW)
    assert _figures(first.rows, first.breaches) == _figures(rows, breaches)
    assert first.rows and first.breaches and first.computed_at == NOW
    # The same data, a minute later: the kept result, nothing measured again.
    assert kept_attainment(db_session, START, END, limit=200, now=NOW + timedelta(minutes=1)) is first
    assert len(calls) == 1
    # Another period, scope or limit is another entry.
    kept_attainment(db_session, START, END, limit=200, region_ids=frozenset({-1}), now=NOW)
    kept_attainment(db_session, START, END, limit=50, now=NOW)
    assert len(calls) == 3
    # A committed write to its data: computed again.
    version["value"] = (8, 0, 0)
    again = kept_attainment(db_session, START, END, limit=200, now=NOW + timedelta(minutes=2))
    assert again is not first and len(calls) == 4
    # Older than MAX_AGE: computed again, as of the new moment.
    later = NOW + timedelta(minutes=2) + MAX_AGE
    assert kept_attainment(db_session, START, END, limit=200, now=later).computed_at == later
    assert calls[-1] == later and len(calls) == 5


def test_uncommitted_writes_are_never_kept(db_session, changed, counted):  # noqa: F811
    calls, version = counted
    version["value"] = (3, 11, 2)  # this transaction wrote tickets and has not committed
    kept_attainment(db_session, START, END, limit=200, now=NOW)
    kept_attainment(db_session, START, END, limit=200, now=NOW)
    assert len(calls) == 2


def test_the_counter_watches_what_the_page_reads():
    watched = data_version.WATCHED[data_version.ATTAINMENT]
    assert {"ticket", "standard_version", "service_standard", "sla", "sla_holiday", "sla_workday"} <= watched


def test_the_page_says_when_it_was_computed(login_as, changed, counted):  # noqa: F811
    calls, _ = counted
    client = login_as("manager")
    html = client.get("/kpi/attainment?from=2026-03-01&to=2026-05-01").get_data(as_text=True)
    assert "Computed at" in html and "DESK-RESP" in html
    client.get("/kpi/attainment?from=2026-03-01&to=2026-05-01")
    assert len(calls) == 1
    zh = login_as("manager", language="zh_CN", username="m_zh").get(
        "/kpi/attainment?from=2026-03-01&to=2026-05-01"
    )
    assert "计算于" in zh.get_data(as_text=True)
