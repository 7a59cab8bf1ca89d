"""Shared builders for the setup tests: a small catalogue on top of the ``org`` fixture, and the
people who agree standards (system owner, provider manager, a representative per customer)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pytest

from perception.core.models.auth import Role
from perception.setup.services import catalog as setup_catalog
from perception.setup.services.confirm import confirm, confirm_need, propose
from perception.setup.services.defs import ServiceDef, StandardDef, SubscriptionDef, TierDef, VersionDef
from perception.setup.services.standard_io import save_standard


@dataclass
class World:
    org: dict[str, Any]
    service: Any
    tier: Any
    owner: Any
    manager: Any
    rep1: Any
    rep2: Any


def content(**kw: Any) -> VersionDef:
    """A version that passes every principle once the customer has confirmed its need."""
    base = VersionDef(
        statement_zh="P1 事件 95% 在 30 分钟内响应",
        statement_en="95% of P1 incidents responded within 30 minutes",
        metric="response_within_target_share",
        dimension=None,
        measured_by="kpi",
        comparator=">=",
        target=0.95,
        unit="ratio",
        window="month",
        time_limit_minutes=30,
        priority="P1",
        customer_need="Users want a fast first response",
        procedure="Duty rota with two engineers per shift",
        classification_standard=None,
        handling_norms=None,
        requested_effective_from=None,
    )
    return replace(base, **kw)


def standard_def(
    code: str = "DESK-P1", customer: str | None = None, tier: str | None = None, **kw: Any
) -> StandardDef:
    return StandardDef(code, "DESK", tier, customer, "efficiency", None, True, (content(**kw),))


def agree(session: Any, world: World, standard: Any, on: date, reps: tuple[Any, ...] | None = None) -> Any:
    """Run the whole joint confirmation for the latest version of ``standard`` on day ``on``."""
    version = standard.versions[-1]
    reps = reps if reps is not None else (world.rep1,)
    confirm_need(session, version, reps[0])
    propose(session, version, world.owner, accept_without_history=True)
    confirm(session, version, world.manager, today=on)
    for rep in reps:
        confirm(session, version, rep, today=on)
    return version


@pytest.fixture
def world(db_session: Any, org: dict[str, Any], make_user: Any) -> World:
    tier = setup_catalog.save_tier(db_session, TierDef("GOLD", "黄金", "Gold", 2))
    service = setup_catalog.save_service(
        db_session,
        ServiceDef("DESK", "桌面运维", "Desktop support", None, None, "reactive", None, True, ("R1", "R2")),
    )
    setup_catalog.save_subscription(db_session, SubscriptionDef("R1-C", "DESK", "GOLD"))
    return World(
        org=org,
        service=service,
        tier=tier,
        owner=make_user("owner", Role.SYSTEM_OWNER),
        manager=make_user("manager", Role.MANAGER),
        rep1=make_user("rep1", Role.CUSTOMER_REP, region="R1"),
        rep2=make_user("rep2", Role.CUSTOMER_REP, region="R2"),
    )


def make_standard(session: Any, world: World, d: StandardDef | None = None) -> Any:
    return save_standard(session, d or standard_def(), world.owner)
