"""Demo collection: weekly reports from every collection point over the demo's weeks (older
history weeks with fewer rows, perception.core.demo; most on time, some late, a few missing, a few
returned and resubmitted), then phone callbacks and one sampling run
(``demo_fieldwork``, when the tickets demo has tickets).

Entries are realistic and bilingual: customer events (核心系统升级 / ERP upgrade, supplier and
personnel changes), feedback on the six dimensions and requirements. One need, mobile ticket
reporting (移动端报修), is raised by several customers in at least three regions, IPv6 consulting
(IPv6 改造咨询) in four, each in several wordings, so the analysis finds real common needs. The
planted "watermelon" (service, region) of the tickets demo gets poor feedback ratings and the
"reverse" one good ratings. Reports and entries are bulk-inserted; the facts and standard checks
go through the same service as a real submission. Re-running adds nothing (a point that already
has reports is skipped).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from perception.collection.models.reports import CollectionReport, ReportEntry, ReportRevision
from perception.collection.services import facts as collection_facts
from perception.collection.services import feedback_check as collection_feedback_check
from perception.collection.services.board import point_deadline
from perception.core.demo import DemoContext
from perception.core.models.auth import User
from perception.core.models.base import utcnow
from perception.core.models.org import CollectionPoint, CustomerOrg, Region
from perception.setup.models.catalog import Service, Subscription

DYNAMIC = (
    (
        "system_change",
        "核心业务系统升级至新版本，周末停机窗口 8 小时",
        "Core system upgrade, 8-hour weekend outage",
        "升级期间需加派驻场工程师 / extra on-site engineers during the upgrade",
    ),
    ("system_change", "ERP 系统切换上线 (ERP upgrade go-live)", "ERP go-live", "月底结账前需重点保障"),
    (
        "system_change",
        "办公电脑统一升级 Windows 11",
        "Desktop fleet moves to Windows 11",
        "桌面工单量预计增加 30%",
    ),
    (
        "supplier_change",
        "更换互联网专线运营商",
        "Internet line moves to a new carrier",
        "割接当晚可能中断 2 小时",
    ),
    ("supplier_change", "打印机租赁供应商变更", "New printer leasing supplier", "需要更新备件与报修流程"),
    (
        "personnel_change",
        "信息中心主任调任，新主任下周到岗",
        "New head of the IT department next week",
        "需安排服务汇报会 / schedule a service review",
    ),
    ("personnel_change", "客户方运维对接人离职", "The customer's IT contact has left", "联系人名单需更新"),
    ("major_event", "年度审计进场，需提供近一年服务记录", "Annual audit on site", "准备 SLA 报告与工单统计"),
    (
        "major_event",
        "医院等级评审，信息系统需零故障保障",
        "Hospital accreditation visit",
        "评审期间 7x24 值守",
    ),
    ("other", "新办公楼启用，增加 200 个信息点", "New office building opens", "需新增网络与桌面支持"),
)
# Needs as customers phrase them: each need in several wordings (Chinese and English), as different
# customers write the same thing. (wordings, area, urgency, size, regions raising it; None: any)
NEEDS = (
    (
        (
            "希望开放移动端报修，手机拍照即可提交故障",
            "Mobile app or WeChat mini-program to report incidents",
            "需要手机移动端报修和进度查询",
            "能否支持微信报修？现在只能打电话给服务台",
        ),
        "mobile ticket reporting",
        "high",
        "medium",
        ("BJ", "GD", "SC", "ZJ", "HB", "SH"),
    ),
    (
        (
            "IPv6 改造咨询：想了解现有网络要改哪些设备",
            "希望提供 IPv6 改造的咨询服务，上级要求年底前完成",
            "Need consulting on IPv6 migration for our data centre network",
            "门户网站需要支持 IPv6 访问，请安排专家咨询改造方案",
        ),
        "IPv6 consulting",
        "medium",
        "large",
        ("BJ", "JS", "SD", "FJ"),
    ),
    (
        (
            "自助密码重置，减少服务台电话",
            "Self-service password reset portal",
            "员工经常忘记密码，希望能自助重置",
        ),
        "self-service",
        "medium",
        "small",
        None,
    ),
    (
        ("每月自动推送服务报表到领导邮箱", "希望每月提供服务报告，包括工单数量和处理时长"),
        "reporting",
        "medium",
        "small",
        None,
    ),
    (
        ("节假日增加夜间值守人员", "希望服务台提供 7x24 小时服务，夜间也能报修"),
        "on-site support",
        "high",
        "large",
        None,
    ),
    (
        ("为新员工提供 Office 与 OA 系统培训", "希望组织一次新版 OA 系统的使用培训"),
        "training",
        "low",
        "small",
        None,
    ),
    (
        ("机房巡检报告电子化并可在线查阅", "希望机房巡检结果每周发给我们"),
        "data centre",
        "medium",
        "medium",
        None,
    ),
    (
        ("希望提供数据备份恢复演练报告", "Please run a backup restore drill every quarter"),
        "backup",
        "medium",
        "small",
        None,
    ),
)
MOBILE_REGIONS = NEEDS[0][4]  # regions whose customers raise the mobile-reporting common need
PRAISE = (
    "工程师到场及时，处理专业。",
    "服务台接听很快，沟通清楚。",
    "Quick response and a clear explanation.",
    "培训内容实用，同事反馈很好。",
    "交付的文档规范完整。",
)
COMPLAINTS = (
    "同一故障反复出现，处理不彻底。",
    "工程师迟到一个多小时，也没有提前通知。",
    "The fix took three days although the ticket was closed the same day.",
    "报修后无人回电，只能反复催促。",
    "现场人员不按规范登记变更。",
)
DIMENSIONS = (
    "response_speed",
    "fault_handling",
    "deliverable_quality",
    "staff_attitude",
    "service_conformity",
    "training_effect",
)
MEANS = ("callback", "visit", "questionnaire", "complaint", "other")
BASE = (0.03, 0.07, 0.20, 0.40, 0.30)
POOR = (0.25, 0.35, 0.28, 0.10, 0.02)
GOOD = (0.0, 0.01, 0.05, 0.34, 0.60)


class _World:
    """What the demo needs to pick realistic values, loaded once."""

    def __init__(self, session: Session, ctx: DemoContext) -> None:
        self.rng = random.Random(ctx.seed + 5)
        self.customers: dict[int, list[CustomerOrg]] = {}
        for c in session.scalars(select(CustomerOrg).order_by(CustomerOrg.code)):
            self.customers.setdefault(c.region_id, []).append(c)
        self.subs: dict[int, list[int]] = {}
        for customer_id, service_id in session.execute(
            select(Subscription.customer_id, Subscription.service_id).order_by(Subscription.id)
        ):
            self.subs.setdefault(customer_id, []).append(service_id)
        services = {s.code: s for s in session.scalars(select(Service).where(Service.active.is_(True)))}
        self.all_services = sorted(s.id for s in services.values())
        self.planted: dict[tuple[int, str], tuple[float, ...]] = {}
        for key, probs in (("watermelon", POOR), ("reverse", GOOD)):
            cell = (ctx.shared.get("planted") or {}).get(key)
            if cell and cell[0] in services:
                self.planted[(services[cell[0]].id, cell[1])] = probs

    def rating(self, service_id: int | None, region_code: str) -> int:
        probs = self.planted.get((service_id or 0, region_code), BASE)
        return self.rng.choices(range(1, 6), weights=probs)[0]

    def service_for(self, customer: CustomerOrg) -> int | None:
        options = self.subs.get(customer.id) or self.all_services
        return self.rng.choice(options) if options else None


NEUTRAL = ("一般，基本满足要求。", "OK.")


def _planted_ratings(world: _World, region: Region, week: date) -> list[dict[str, Any]]:
    """The planted cells' customers rate, every week, the dimensions their experience standards
    name, so those standards are measured on the dimension itself (issue 14: never on overall
    CSAT). A separate generator keeps the rest of the demo's random sequence unchanged."""
    rng = random.Random(f"{region.code}:{week.isoformat()}")
    customers = world.customers.get(region.id, [])
    out: list[dict[str, Any]] = []
    for (service_id, code), probs in sorted(world.planted.items()):
        if code != region.code or not customers:
            continue
        for dimension in ("response_speed", "fault_handling"):
            for _ in range(5):
                rating = rng.choices(range(1, 6), weights=probs)[0]
                said = COMPLAINTS if rating <= 2 else PRAISE if rating >= 4 else NEUTRAL
                out.append(
                    {
                        "kind": "feedback",
                        "customer_id": rng.choice(customers).id,
                        "service_id": service_id,
                        "dimension": dimension,
                        "rating": rating,
                        "means": rng.choice(MEANS[:3]),
                        "contact_name": None,
                        "text": rng.choice(said),
                    }
                )
    return out


def _entries(world: _World, region: Region, week: date, share: float = 1.0) -> list[dict[str, Any]]:
    """A report's rows; an older history week (``share`` < 1, perception.core.demo) has fewer."""
    rng = world.rng
    customers = world.customers.get(region.id, [])
    if not customers:
        return []
    out: list[dict[str, Any]] = _planted_ratings(world, region, week)
    if rng.random() < 0.35:
        category, zh, en, impact = rng.choice(DYNAMIC)
        out.append(
            {
                "kind": "dynamic",
                "customer_id": rng.choice(customers).id,
                "category": category,
                "event_date": week + timedelta(days=rng.randint(0, 13)),
                "text": f"{zh} / {en}",
                "impact": impact,
            }
        )
    for _ in range(max(1, round(rng.randint(3, 6) * share))):
        customer = rng.choice(customers)
        service_id = world.service_for(customer)
        rating = world.rating(service_id, region.code)
        dimension = rng.choice(DIMENSIONS)
        text = rng.choice(
            COMPLAINTS if rating <= 2 else PRAISE if rating >= 4 else ("一般，基本满足要求。", "OK.")
        )
        out.append(
            {
                "kind": "feedback",
                "customer_id": customer.id,
                "service_id": service_id,
                "dimension": dimension,
                "rating": rating,
                "means": "complaint" if rating == 1 else rng.choice(MEANS[:3]),
                "contact_name": rng.choice(sorted(customer.contacts, key=lambda c: c.id)).name
                if customer.contacts
                else None,
                "text": text,
            }
        )
    pool = [need for need in NEEDS if need[4] is None or region.code in need[4]]
    for _ in range(rng.choices((0, 1, 2), weights=(0.45, 0.4, 0.15))[0]):
        wordings, area, urgency, size, _regions = rng.choice(pool)
        text = rng.choice(wordings)
        out.append(
            {
                "kind": "requirement",
                "customer_id": rng.choice(customers).id,
                "text": text,
                "area": area,
                "urgency": urgency,
                "size": size,
            }
        )
    return out


def _fate(rng: random.Random, index: int, weeks: int) -> str:
    roll = rng.random()
    if index == weeks - 1 and roll < 0.15:  # the newest week: a couple of points have not reported
        return "missing"
    return "missing" if roll < 0.04 else "late" if roll < 0.16 else "returned" if roll < 0.19 else "on_time"


def _reports(session: Session, ctx: DemoContext, world: _World) -> int:
    points: dict[str, CollectionPoint] = ctx.shared.get("points") or {
        p.code: p for p in session.scalars(select(CollectionPoint))
    }
    organiser = session.scalar(select(User).where(User.username == "organiser"))
    rng, now = world.rng, utcnow()
    created: list[int] = []
    weeks = [ctx.first_week_start + timedelta(weeks=i) for i in range(ctx.total_weeks)]
    for point in sorted(points.values(), key=lambda p: p.code):
        if session.scalar(
            select(CollectionReport.id).where(CollectionReport.collection_point_id == point.id).limit(1)
        ):
            continue
        region = session.get(Region, point.region_id)
        assert region is not None
        collector = session.scalar(
            select(User).where(User.collection_point_id == point.id).order_by(User.id).limit(1)
        )
        for index, week in enumerate(weeks):
            fate = _fate(rng, index, len(weeks))
            if fate == "missing" and rng.random() < 0.5:
                continue  # never opened
            deadline = point_deadline(point, region, week)
            rows = _entries(world, region, week, ctx.share(index))
            report: dict[str, Any] = {
                "region_id": point.region_id,
                "collection_point_id": point.id,
                "week_start": week,
                "status": "draft",
                "revision": 0,
                "created_by_id": collector.id if collector else None,
                "source": "form",
            }
            first = deadline + (
                timedelta(hours=rng.uniform(1, 60))
                if fate == "late"
                else -timedelta(hours=rng.uniform(2, 90))
            )
            if fate != "missing" and first < now:
                again = first + timedelta(days=rng.randint(2, 4)) if fate == "returned" else None
                if again is not None and again >= now:
                    again = None
                accepted = (again or first) + timedelta(days=rng.randint(1, 3))
                old = index < len(weeks) - 2 and accepted < now
                report |= {
                    "status": "accepted" if old else ("resubmitted" if again else "submitted"),
                    "revision": 2 if again else 1,
                    "first_submitted_at": first,
                    "submitted_at": again or first,
                    "submitted_by_id": report["created_by_id"],
                    "reviewed_at": accepted if old else (first + timedelta(days=1) if again else None),
                    "reviewed_by_id": organiser.id if organiser and (old or again) else None,
                    "organiser_comment": "请补充客户联系人和具体影响 / add the contact and the impact"
                    if again
                    else None,
                }
            report_id = session.execute(
                insert(CollectionReport).returning(CollectionReport.id), [report]
            ).scalar_one()
            if rows:
                session.execute(
                    insert(ReportEntry),
                    [
                        {"report_id": report_id, "region_id": point.region_id, "position": i, **row}
                        for i, row in enumerate(rows, start=1)
                    ],
                )
            if report["revision"]:
                snapshot = [
                    {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()} for row in rows
                ]
                session.execute(
                    insert(ReportRevision),
                    [
                        {
                            "report_id": report_id,
                            "region_id": point.region_id,
                            "number": n,
                            "submitted_at": report["first_submitted_at"]
                            if n == 1
                            else report["submitted_at"],
                            "submitted_by_id": report["created_by_id"],
                            "entries": snapshot,
                        }
                        for n in range(1, report["revision"] + 1)
                    ],
                )
            if report["revision"]:
                created.append(report_id)
    session.flush()
    counted = session.scalars(
        select(CollectionReport)
        .where(CollectionReport.id.in_(created))
        .options(selectinload(CollectionReport.entries))
    )
    standards = collection_feedback_check.Standards(session)
    for stored in counted:
        collection_facts.write_report_facts(session, stored, standards)
    return len(created)


def load(session: Session, ctx: DemoContext) -> None:
    world = _World(session, ctx)
    made = _reports(session, ctx, world)
    from perception.collection import demo_fieldwork as collection_fieldwork

    calls, sampled = collection_fieldwork.load(session, ctx, world.rng)
    ctx.summary.append(
        f"Collection: {made} weekly reports over {ctx.total_weeks} weeks "
        "(some late, a few missing or returned), "
        f"{calls} phone callbacks, {sampled} sampled tickets."
    )
