"""Fixtures for the collection phase: a catalogue on top of ``org``, report helpers, tickets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest

# A fixed Monday well in the past, so deadlines are behind "now" unless a test says otherwise.
WEEK = date(2026, 3, 2)


@pytest.fixture
def cat(db_session: Any, org: dict[str, Any]) -> dict[str, Any]:
    from perception.setup.models.catalog import Service, ServiceTier, Subscription

    desk = Service(code="DESK", name_zh="服务台", name_en="Service desk")
    net = Service(code="NET", name_zh="网络运维", name_en="Network operations")
    gold = ServiceTier(code="GOLD", name_zh="金牌", name_en="Gold", rank=1)
    db_session.add_all([desk, net, gold])
    db_session.flush()
    for code in ("R1", "R2"):
        customer = org[code]["customer"]
        for service in (desk, net):
            db_session.add(
                Subscription(
                    customer_id=customer.id,
                    service_id=service.id,
                    tier_id=gold.id,
                    region_id=customer.region_id,
                )
            )
    db_session.flush()
    return {"DESK": desk, "NET": net, "GOLD": gold, **org}


def feedback(customer: str = "R1-C", **kw: Any) -> dict[str, Any]:
    row = {
        "kind": "feedback",
        "customer": customer,
        "dimension": "response_speed",
        "rating": 4,
        "means": "visit",
        "service": "DESK",
        "text": "响应很快 / quick response",
    }
    row.update(kw)
    return row


def dynamic(customer: str = "R1-C", **kw: Any) -> dict[str, Any]:
    row = {
        "kind": "dynamic",
        "customer": customer,
        "category": "system_change",
        "date": "2026-03-04",
        "text": "核心系统升级 / core system upgrade",
        "impact": "两天停机窗口",
    }
    row.update(kw)
    return row


def requirement(customer: str = "R1-C", **kw: Any) -> dict[str, Any]:
    row = {
        "kind": "requirement",
        "customer": customer,
        "text": "移动端报修 / mobile ticket reporting",
        "area": "service desk",
        "urgency": "high",
        "size": "medium",
    }
    row.update(kw)
    return row


@pytest.fixture
def collector(make_user: Callable[..., Any]) -> Any:
    return make_user("col_r1", "collector", region="R1")


@pytest.fixture
def put(db_session: Any, org: dict[str, Any], cat: dict[str, Any]) -> Callable[..., Any]:
    """Store a report through the service: put(region, week, rows, user, submit_at=None)."""
    from perception.collection.services import reports as collection_reports

    def _put(
        region: str, week: date, rows: list[dict[str, Any]], user: Any, submit_at: datetime | None = None
    ) -> Any:
        point = org[region]["point"]
        report = collection_reports.put_report(
            db_session, point, week, rows, user, source="form", now=datetime(2026, 6, 1)
        )
        if submit_at is not None:
            collection_reports.submit_report(db_session, report, user, now=submit_at)
        return report

    return _put


@pytest.fixture
def make_ticket(db_session: Any, cat: dict[str, Any]) -> Callable[..., Any]:
    from perception.kpi.models import Ticket

    counter = {"n": 0}

    def _make(region: str = "R1", service: str = "DESK", **kw: Any) -> Any:
        counter["n"] += 1
        values = {
            "external_id": f"T-{region}-{counter['n']:05d}",
            "kind": "incident",
            "service_id": cat[service].id,
            "region_id": cat[region]["region"].id,
            "customer_id": cat[region]["customer"].id,
            "tier_id": cat["GOLD"].id,
            "priority": "P2",
            "contact": cat[region]["contact"].email,
            "opened_at": datetime(2026, 3, 2, 9, 0),
            "first_response_at": datetime(2026, 3, 2, 9, 20),
            "resolved_at": datetime(2026, 3, 2, 11, 0),
            "closed_at": datetime(2026, 3, 2, 12, 0),
            "engineer": "李工",
            "status": "closed",
        }
        values.update(kw)
        ticket = Ticket(**values)
        db_session.add(ticket)
        db_session.flush()
        return ticket

    return _make


@pytest.fixture
def campaign(db_session: Any, cat: dict[str, Any], make_user: Any) -> Any:
    """A callback campaign of region R1 with the built-in phone script, for the past callbacks'
    imports."""
    from perception.collection.services import callbacks
    from perception.surveys.services.definitions import ensure_builtin_surveys

    script = ensure_builtin_surveys(db_session)["phone_callback"]
    return callbacks.create_campaign(
        db_session, region_id=cat["R1"]["region"].id, name="历史回访", survey_version_id=script.id,
        user=make_user("org1", "organiser"), start=date(2026, 1, 1), end=date(2026, 4, 1), sampling_rate=1.0,
        seed="h",
    )  # fmt: skip
