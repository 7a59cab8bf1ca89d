"""Fixtures for the KPI phase: a small catalogue (services, tiers, subscriptions) on top of ``org``,
and helpers that write ticket files the way service-desk exports look."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import Any

import pytest

HEADER = (
    "id",
    "kind",
    "service",
    "region",
    "customer",
    "tier",
    "priority",
    "contact",
    "opened",
    "first_response",
    "resolved",
    "closed",
    "engineer",
    "status",
    "reopen_count",
)


@pytest.fixture
def catalog(db_session: Any, org: dict[str, Any]) -> dict[str, Any]:
    from perception.setup.models.catalog import Service, ServiceTier, Subscription

    desk = Service(code="DESK", name_zh="服务台", name_en="Service desk")
    net = Service(code="NET", name_zh="网络运维", name_en="Network operations")
    gold = ServiceTier(code="GOLD", name_zh="金牌", name_en="Gold", rank=2)
    silver = ServiceTier(code="SILVER", name_zh="银牌", name_en="Silver", rank=3)
    db_session.add_all([desk, net, gold, silver])
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
    return {"DESK": desk, "NET": net, "GOLD": gold, "SILVER": silver, **org}


def ticket_row(external_id: str, **kw: Any) -> dict[str, str]:
    row = {
        "id": external_id,
        "kind": "incident",
        "service": "DESK",
        "region": "R1",
        "customer": "R1-C",
        "tier": "",
        "priority": "P2",
        "contact": "张三",
        "opened": "2026-03-02 09:00",
        "first_response": "2026-03-02 09:20",
        "resolved": "2026-03-02 11:00",
        "closed": "2026-03-02 12:00",
        "engineer": "李工",
        "status": "closed",
        "reopen_count": "0",
    }
    row.update({k: str(v) for k, v in kw.items()})
    return row


def csv_bytes(
    rows: Sequence[dict[str, str]], encoding: str = "utf-8", header: Sequence[str] = HEADER
) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(header), extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


@pytest.fixture
def make_csv() -> Callable[..., bytes]:
    return csv_bytes


def add_standard(
    session: Any,
    code: str,
    service: Any,
    versions: Sequence[dict[str, Any]],
    *,
    tier: Any = None,
    customer: Any = None,
) -> Any:
    """A standard with confirmed versions; each dict gives metric, target, time_limit_minutes,
    priority, effective_from, effective_to (the setup phase's in-force rule reads these)."""
    from perception.setup.models.standards import ServiceStandard, StandardVersion

    standard = ServiceStandard(
        code=code,
        service_id=service.id,
        tier_id=tier.id if tier is not None else None,
        customer_id=customer.id if customer is not None else None,
    )
    session.add(standard)
    session.flush()
    for number, spec in enumerate(versions, start=1):
        session.add(
            StandardVersion(
                standard_id=standard.id,
                version=number,
                status="superseded" if spec.get("effective_to") else "confirmed",
                statement_zh=f"{code} v{number}",
                statement_en=f"{code} v{number}",
                measured_by="kpi",
                comparator=spec.get("comparator", ">="),
                unit=spec.get("unit", "%"),
                window=spec.get("window", "month"),
                **{k: v for k, v in spec.items() if k not in ("comparator", "unit", "window")},
            )
        )
    session.flush()
    return standard


def add_sla(
    session: Any,
    code: str,
    services: Sequence[Any],
    *,
    covered: str = "mon-fri 09:00-18:00",
    holidays: Sequence[Any] = (),
    rules: Sequence[tuple[float, str]] = (),
    tz: str = "Asia/Shanghai",
) -> Any:
    from perception.setup.models.standards import EscalationRule, Sla, SlaHoliday, SlaService

    sla = Sla(code=code, name_zh=code, name_en=code, covered_hours=covered, timezone=tz)
    session.add(sla)
    session.flush()
    for service in services:
        session.add(SlaService(sla_id=sla.id, service_id=service.id))
    for day in holidays:
        session.add(SlaHoliday(sla_id=sla.id, day=day, name="holiday"))
    for minutes, roles in rules:
        session.add(EscalationRule(sla_id=sla.id, after_minutes=minutes, notify_roles=roles))
    session.flush()
    session.expire(sla)
    return sla
