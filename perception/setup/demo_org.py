"""Demo organisation: 12 regions, a collection point each, customers, contacts and users for every role."""

from __future__ import annotations

import random
from datetime import time
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core import users
from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.demo import DEMO_PASSWORD, DemoContext, demo_password_hash
from perception.core.models.auth import Role, User
from perception.core.models.org import CollectionPoint, Contact, CustomerOrg, Region

REGIONS = (
    ("BJ", "北京", "Beijing"),
    ("SH", "上海", "Shanghai"),
    ("GD", "广东", "Guangdong"),
    ("JS", "江苏", "Jiangsu"),
    ("ZJ", "浙江", "Zhejiang"),
    ("SC", "四川", "Sichuan"),
    ("HB", "湖北", "Hubei"),
    ("SD", "山东", "Shandong"),
    ("HN", "河南", "Henan"),
    ("FJ", "福建", "Fujian"),
    ("SN", "陕西", "Shaanxi"),
    ("LN", "辽宁", "Liaoning"),
)

CUSTOMER_KINDS = (
    ("BANK", "银行", "Bank"),
    ("HOSP", "人民医院", "People's Hospital"),
    ("GRID", "电网公司", "Power Grid Co."),
)

SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"


# The demo's models that are looked up by their unique ``code``.
_Coded = TypeVar("_Coded", Region, CollectionPoint, CustomerOrg)


def _get_or_create(session: Session, model: type[_Coded], code: str, **values: object) -> _Coded:
    obj = session.scalar(select(model).where(model.code == code))
    if obj is None:
        obj = model(code=code, **values)
        session.add(obj)
        session.flush()
    return obj


def _user(session: Session, username: str, name: str, roles: set[Role], **kw: object) -> User:
    existing = session.scalar(select(User).where(User.username == username))
    if existing is not None:
        return existing
    return users.create_user(
        session,
        users.UserSpec(
            username=username,
            display_name=name,
            roles=frozenset(roles),
            password=DEMO_PASSWORD,
            email=f"{username}@demo.perception.local",
            **kw,  # type: ignore[arg-type]
        ),
        password_hash=demo_password_hash(),
    )


def load(session: Session, ctx: DemoContext) -> None:
    rng = random.Random(ctx.seed)
    regions: dict[str, Region] = {}
    points: dict[str, CollectionPoint] = {}
    customers: list[CustomerOrg] = []
    for code, zh, en in REGIONS:
        region = _get_or_create(session, Region, code, name_zh=zh, name_en=en, timezone=DEFAULT_TIMEZONE)
        regions[code] = region
        points[code] = _get_or_create(
            session,
            CollectionPoint,
            f"CP-{code}",
            name_zh=f"{zh}运维服务组",
            name_en=f"{en} service team",
            region_id=region.id,
            report_due_weekday=1,
            report_due_time=time(12, 0),
            active_from=ctx.first_week_start,  # the demo's weekly reports start then
        )
        for kind, kzh, ken in CUSTOMER_KINDS:
            customer = _get_or_create(
                session,
                CustomerOrg,
                f"{code}-{kind}",
                name_zh=f"{zh}{kzh}",
                name_en=f"{en} {ken}",
                region_id=region.id,
                industry=ken,
            )
            customers.append(customer)
            if not customer.contacts:
                for i in range(4):
                    name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
                    session.add(
                        Contact(
                            customer_id=customer.id,
                            region_id=region.id,
                            name=name,
                            email=f"{customer.code.lower()}.{i + 1}@customer.example",
                            phone=f"1{rng.randint(3, 9)}{rng.randint(100000000, 999999999)}",
                            language="zh_CN" if i % 3 else "en",
                            title=("IT经理", "运维主管", "信息中心主任", "业务联络人")[i],
                        )
                    )
    session.flush()

    _user(session, "owner", "体系负责人 Owner", {Role.SYSTEM_OWNER})
    _user(session, "organiser", "汇总专员 Organiser", {Role.ORGANISER})
    _user(session, "analyst", "分析师 Analyst", {Role.ANALYST})
    _user(session, "manager", "服务经理 Manager", {Role.MANAGER})
    _user(session, "reviewer", "评审员 Reviewer", {Role.REVIEWER})
    _user(session, "market", "市场拓展 Market", {Role.MARKET})
    bank_bj = next(c for c in customers if c.code == "BJ-BANK")
    _user(session, "customer.rep", "客户代表 Customer rep", {Role.CUSTOMER_REP}, customer_id=bank_bj.id)
    for code, point in points.items():
        collector = _user(
            session,
            f"collector.{code.lower()}",
            f"{point.name_zh} 采集员",
            {Role.COLLECTOR},
            collection_point_id=point.id,
        )
        if point.lead_id is None:
            point.lead_id = collector.id
    organiser = session.scalar(select(User).where(User.username == "organiser"))
    for point in points.values():
        if point.organiser_id is None and organiser is not None:
            point.organiser_id = organiser.id
    session.flush()
    ctx.shared.update(regions=regions, points=points, customers=customers)
    ctx.summary.append(
        f"Organisation: {len(regions)} regions, {len(points)} collection points, {len(customers)} customers."
    )
