"""Demo setup: strategy, 8 services, 3 tiers, subscriptions, SLAs/OLAs, plan and training come in
as one configuration document (the same import a provider would use); the standards are then
agreed through the real joint-confirmation path (drafted, the need confirmed by the customers,
proposed, confirmed by the provider and every bound customer), one of them twice so an earlier
version is superseded. The plan deliberately leaves IT training and two regions' security
inspections uncovered, so the coverage view has something to show.

Puts into ``ctx.shared``: services, tiers (by code), standards (code -> ServiceStandard), slas.
"""

# ruff: noqa: E501 - demo data tables read best one record per line
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core import users
from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.demo import DEMO_PASSWORD, DemoContext, demo_password_hash
from perception.core.models.auth import Role, User
from perception.core.models.org import CustomerOrg
from perception.setup.models.catalog import Service, ServiceTier
from perception.setup.models.standards import ServiceStandard, Sla
from perception.setup.services.config import import_document
from perception.setup.services.confirm import bound_customers, confirm, confirm_need, propose
from perception.setup.services.errors import Problems
from perception.setup.services.schema import read_standard
from perception.setup.services.standard_io import edit_content, save_standard

SERVICES = (
    ("DESK", "桌面运维", "Desktop support", "reactive", "终端、打印与办公软件的故障处理和服务请求", "Incidents and requests for PCs, printers and office software"),
    ("SD", "服务台", "Service desk", "reactive", "7x24 统一受理电话、邮件与门户请求", "Single point of contact for calls, e-mail and portal requests"),
    ("NET", "网络运维", "Network operations", "reactive", "局域网、广域网与无线网络的故障处理和变更", "LAN, WAN and Wi-Fi incidents and changes"),
    ("DC", "数据中心运维", "Data-centre operations", "proactive", "机房环境、电力与服务器的日常巡检和维护", "Routine checks and maintenance of rooms, power and servers"),
    ("APP", "应用系统运维", "Application operations", "reactive", "业务应用系统的故障处理、问题管理与发布支持", "Incidents, problems and releases of business applications"),
    ("SEC", "信息安全巡检", "Security inspection", "proactive", "定期漏洞扫描、基线核查与安全巡检报告", "Scheduled vulnerability scans, baseline checks and reports"),
    ("BAK", "备份与恢复", "Backup and recovery", "proactive", "数据备份作业监控与定期恢复演练", "Backup job monitoring and scheduled restore drills"),
    ("TRN", "IT培训", "IT training", "proactive", "面向客户用户的信息化培训", "IT training for the customer's staff"),
)  # fmt: skip
TIERS = (("PLAT", "白金", "Platinum", 1), ("GOLD", "黄金", "Gold", 2), ("SILV", "白银", "Silver", 3))
# Customer kind -> (tier, services subscribed).
PORTFOLIO = {
    "BANK": ("PLAT", ("SD", "DESK", "NET", "DC", "APP", "SEC", "BAK")),
    "GRID": ("GOLD", ("SD", "DESK", "NET", "DC", "SEC", "TRN")),
    "HOSP": ("SILV", ("SD", "DESK", "APP", "BAK", "TRN")),
}
NEED = {
    "speed": "客户希望报障后尽快有人响应 / Users want a fast first response after reporting",
    "fix": "客户希望故障一次解决、不反复 / Users want faults fixed once, without repeats",
    "phone": "客户希望电话很快有人接听 / Callers want the phone answered quickly",
    "proactive": "客户希望隐患被主动发现 / Customers want risks found before they hurt",
    "learn": "客户希望员工会用新系统 / Customers want staff able to use new systems",
}
PROC = "按《{}》执行，值班表保证每班至少两名工程师 / Follow the '{}' procedure; the rota keeps two engineers per shift"

# code, service, tier, category, metric, dimension, measured_by, cmp, target, unit, window, limit, prio,
# need, statement zh, statement en, experience standard
STANDARDS: tuple[tuple[Any, ...], ...] = (
    ("DESK-EXP-SPEED", "DESK", None, "experience", "csat_share", "response_speed", "questionnaire", ">=", 0.85, "ratio", "month", 4320, None, "speed", "结单后 3 天内调查，响应速度满意（4-5 分）的比例不低于 85%", "Surveyed within 3 days of closure, at least 85% rate response speed 4-5", None),
    ("DESK-EXP-FIX", "DESK", None, "experience", "dimension_rating_mean", "fault_handling", "phone_callback", ">=", 4.2, "points", "month", 2880, None, "fix", "结单后 2 天内回访，故障处理效果平均分不低于 4.2 分", "Called back within 2 days of closure, fault handling rated at least 4.2 on average", None),
    ("DESK-RESP-P1-PLAT", "DESK", "PLAT", "efficiency", "response_within_target_share", None, "kpi", ">=", 0.95, "ratio", "month", 15, "P1", "speed", "P1 事件 95% 在 15 分钟内响应", "95% of P1 incidents responded within 15 minutes", "DESK-EXP-SPEED"),
    ("DESK-RESP-P1-GOLD", "DESK", "GOLD", "efficiency", "response_within_target_share", None, "kpi", ">=", 0.95, "ratio", "month", 30, "P1", "speed", "P1 事件 95% 在 30 分钟内响应", "95% of P1 incidents responded within 30 minutes", "DESK-EXP-SPEED"),
    ("DESK-RESP-P1-SILV", "DESK", "SILV", "efficiency", "response_within_target_share", None, "kpi", ">=", 0.90, "ratio", "month", 60, "P1", "speed", "P1 事件 90% 在 60 分钟内响应", "90% of P1 incidents responded within 60 minutes", "DESK-EXP-SPEED"),
    ("DESK-RES-P2", "DESK", None, "efficiency", "resolution_within_target_share", None, "kpi", ">=", 0.90, "ratio", "month", 480, "P2", "fix", "P2 事件 90% 在 8 小时内解决", "90% of P2 incidents resolved within 8 hours", "DESK-EXP-FIX"),
    ("DESK-FCR", "DESK", None, "quality", "first_contact_resolution_rate", None, "kpi", ">=", 0.70, "ratio", "month", 30, None, "fix", "70% 的请求在首次联系的 30 分钟内解决", "70% of requests resolved at first contact, within 30 minutes", "DESK-EXP-FIX"),
    ("SD-ANSWER", "SD", None, "efficiency", "answered_by_2nd_ring_share", None, "kpi", ">=", 0.96, "ratio", "month", 1, None, "phone", "96% 的来电在响铃 2 声内接听", "96% of calls answered by the 2nd ring", "SD-EXP-SPEED"),
    ("SD-EXP-SPEED", "SD", None, "experience", "csat_share", "response_speed", "questionnaire", ">=", 0.85, "ratio", "month", 4320, None, "phone", "受理后 3 天内调查，服务台响应速度满意比例不低于 85%", "Surveyed within 3 days, at least 85% satisfied with service-desk response speed", None),
    ("NET-RES-P1", "NET", None, "efficiency", "resolution_within_target_share", None, "kpi", ">=", 0.90, "ratio", "month", 240, "P1", "fix", "P1 网络故障 90% 在 4 小时内恢复", "90% of P1 network incidents resolved within 4 hours", "NET-EXP-FIX"),
    ("NET-EXP-FIX", "NET", None, "experience", "sampling_agreement_share", None, "sampling_comparison", ">=", 0.90, "ratio", "month", None, None, "fix", "抽样复核中客户认可处理结果的比例不低于 90%", "Customers confirm at least 90% of sampled closed work", None),
    ("APP-REOPEN", "APP", None, "quality", "reopen_rate", None, "kpi", "<=", 0.05, "ratio", "month", None, None, "fix", "重开率不高于 5%", "At most 5% of tickets reopened", "APP-EXP-FIX"),
    ("APP-EXP-FIX", "APP", None, "experience", "csat_share", "fault_handling", "phone_callback", ">=", 0.85, "ratio", "month", 2880, None, "fix", "结单后 2 天内回访，故障处理效果满意比例不低于 85%", "Called back within 2 days of closure, at least 85% satisfied with fault handling", None),
    ("DC-INSPECT", "DC", None, "proactive", "inspection_completion_share", None, "feedback_record", ">=", 0.98, "ratio", "month", 1440, None, "proactive", "98% 的计划巡检在计划日 1 天内完成", "98% of planned inspections done within 1 day of the planned date", None),
    ("SEC-INSPECT", "SEC", None, "proactive", "inspection_completion_share", None, "feedback_record", ">=", 1.0, "ratio", "quarter", None, None, "proactive", "每季度 100% 完成安全巡检并提交报告", "100% of quarterly security inspections done and reported", None),
    ("BAK-SUCCESS", "BAK", None, "proactive", "backup_success_share", None, "kpi", ">=", 0.99, "ratio", "week", None, None, "proactive", "99% 的备份作业成功", "99% of backup jobs succeed", None),
    ("TRN-EXP", "TRN", None, "experience", "dimension_rating_mean", "training_effect", "questionnaire", ">=", 4.0, "points", "quarter", None, None, "learn", "培训效果平均分不低于 4.0 分", "Training effect rated at least 4.0 on average", None),
)  # fmt: skip
CLASSIFICATION = "P1 全部用户或核心业务中断；P2 部分用户受影响；P3 单个用户；P4 咨询 / P1 all users or core business down; P2 some users; P3 one user; P4 questions"
HANDLING = "受理-分派-处理-回访-关闭，重大事件 30 分钟内通报 / Log-assign-resolve-call back-close; major incidents reported within 30 minutes"


#: China's public holidays and make-up working days (调休) as the State Council announced them:
#: 国办发明电〔2024〕12号 of 12 November 2024 for 2025, the notice of 4 November 2025 for 2026.
#: (first day, last day, name) of each holiday; (day, name) of each make-up working day.
CHINA_HOLIDAYS: dict[int, tuple[tuple[str, str, str], ...]] = {
    2025: (("01-01", "01-01", "元旦 New Year"), ("01-28", "02-04", "春节 Spring Festival"),
           ("04-04", "04-06", "清明节 Qingming"), ("05-01", "05-05", "劳动节 Labour Day"),
           ("05-31", "06-02", "端午节 Dragon Boat"), ("10-01", "10-08", "国庆节、中秋节 National Day, Mid-Autumn")),
    2026: (("01-01", "01-03", "元旦 New Year"), ("02-15", "02-23", "春节 Spring Festival"),
           ("04-04", "04-06", "清明节 Qingming"), ("05-01", "05-05", "劳动节 Labour Day"),
           ("06-19", "06-21", "端午节 Dragon Boat"), ("09-25", "09-27", "中秋节 Mid-Autumn"),
           ("10-01", "10-07", "国庆节 National Day")),
}  # fmt: skip
CHINA_WORKDAYS: dict[int, tuple[tuple[str, str], ...]] = {
    2025: (("01-26", "春节调休 Spring Festival make-up"), ("02-08", "春节调休 Spring Festival make-up"),
           ("04-27", "劳动节调休 Labour Day make-up"), ("09-28", "国庆调休 National Day make-up"),
           ("10-11", "国庆调休 National Day make-up")),
    2026: (("01-04", "元旦调休 New Year make-up"), ("02-14", "春节调休 Spring Festival make-up"),
           ("02-28", "春节调休 Spring Festival make-up"), ("05-09", "劳动节调休 Labour Day make-up"),
           ("09-20", "国庆调休 National Day make-up"), ("10-10", "国庆调休 National Day make-up")),
}  # fmt: skip
#: Years without an announced schedule here: only the fixed-date statutory days (the lunar ones
#: and the make-up days move every year, so none is guessed).
FIXED_HOLIDAYS = (("01-01", "元旦 New Year"), ("05-01", "劳动节 Labour Day"), ("05-02", "劳动节 Labour Day"),
                  ("10-01", "国庆节 National Day"), ("10-02", "国庆节 National Day"),
                  ("10-03", "国庆节 National Day"))  # fmt: skip


def _holidays(years: range) -> list[dict[str, str]]:
    out = []
    for y in years:
        if y not in CHINA_HOLIDAYS:
            out += [{"date": f"{y}-{md}", "name": name} for md, name in FIXED_HOLIDAYS]
            continue
        for first, last, name in CHINA_HOLIDAYS[y]:
            day, end = date.fromisoformat(f"{y}-{first}"), date.fromisoformat(f"{y}-{last}")
            while day <= end:
                out.append({"date": day.isoformat(), "name": name})
                day += timedelta(days=1)
    return out


def _workdays(years: range) -> list[dict[str, str]]:
    return [{"date": f"{y}-{md}", "name": name} for y in years for md, name in CHINA_WORKDAYS.get(y, ())]


def _sla(
    code: str, zh: str, en: str, services: list[str], hours: str, ctx: DemoContext, **kw: Any
) -> dict[str, Any]:
    years = range(ctx.first_week_start.year - 1, ctx.today.year + 2)
    return {
        "code": code, "name_zh": zh, "name_en": en, "services": services, "covered_hours": hours,
        "timezone": DEFAULT_TIMEZONE, "holidays": _holidays(years), "workdays": _workdays(years),
        "promises": [{"description_zh": "报障后 5 分钟内回电确认", "description_en": "Call back within 5 minutes of a report",
                      "within_minutes": 5, "channel": "phone"}],
        "escalations": [
            {"after_minutes": 30, "notify_roles": ["provider_project_manager"],
             "description_zh": "30 分钟未恢复：通知服务方项目经理", "description_en": "Not recovered in 30 min: provider project manager"},
            {"after_minutes": 240, "notify_roles": ["provider_regional_manager", "customer_regional_manager"],
             "description_zh": "4 小时未恢复：通知双方区域经理", "description_en": "Not recovered in 4 h: both sides' regional managers"},
        ],
        "reports": [
            {"frequency": "monthly", "recipients": ["project_managers"], "description_zh": "月度 SLA 未达标报告", "description_en": "Monthly SLA-failure report"},
            {"frequency": "quarterly", "recipients": ["regional_managers"], "description_zh": "季度 SLA 报告", "description_en": "Quarterly SLA report"},
        ],
        **kw,
    }  # fmt: skip


def _document(ctx: DemoContext, customers: list[CustomerOrg], regions: list[str]) -> dict[str, Any]:
    start = ctx.first_week_start - timedelta(weeks=26)
    subs = []
    for c in customers:
        tier, codes = PORTFOLIO.get(c.code.split("-")[-1], ("SILV", ("SD", "DESK")))
        subs += [{"customer": c.code, "service": s, "tier": tier} for s in codes]
    plan = [
        {"service": "SD", "means": "questionnaire", "frequency": "monthly", "sample_size": 30},
        {"service": "SD", "means": "phone_callback", "frequency": "weekly", "sample_share": 0.1},
        {"service": "DESK", "means": "phone_callback", "frequency": "per_ticket", "sample_share": 0.2},
        {"service": "DESK", "means": "questionnaire", "frequency": "monthly", "sample_size": 30},
        {"service": "NET", "means": "sampling_comparison", "frequency": "monthly", "sample_size": 10},
        {"service": "APP", "means": "phone_callback", "frequency": "weekly", "sample_size": 10},
        {"service": "DC", "means": "feedback_record", "frequency": "weekly", "sample_size": 5},
        {"service": "BAK", "means": "feedback_record", "frequency": "monthly", "sample_size": 5},
    ] + [
        {"service": "SEC", "region": r, "means": "feedback_record", "frequency": "monthly", "sample_size": 3}
        for r in regions if r not in ("SN", "LN")
    ]  # fmt: skip
    trainees = [("owner", None), ("organiser", None), ("analyst", None)] + [
        (f"collector.{r.lower()}", r) for r in regions
    ]
    training = [
        {"trainee": u, "user": u, "region": r, "held_on": (start + timedelta(days=7 + i)).isoformat(),
         "topic_zh": "用户感知体系与采集规范", "topic_en": "The perception system and collection rules",
         "trainer": "体系负责人 Owner", "hours": 3}
        for i, (u, r) in enumerate(trainees)
    ] + [
        {"trainee": u, "user": u, "region": r, "held_on": (ctx.first_week_start + timedelta(days=10)).isoformat(),
         "topic_zh": "电话回访话术与记录", "topic_en": "Phone callback script and recording", "trainer": "organiser", "hours": 2}
        for u, r in trainees[3:9]
    ]  # fmt: skip
    return {
        "format": "perception-setup/1",
        "tiers": [{"code": c, "name_zh": zh, "name_en": en, "rank": rank} for c, zh, en, rank in TIERS],
        "services": [
            {"code": c, "name_zh": zh, "name_en": en, "kind": k, "description_zh": dz, "description_en": de,
             "owner": "manager", "regions": regions if c != "TRN" else regions[:6]}
            for c, zh, en, k, dz, de in SERVICES
        ],
        "subscriptions": subs,
        "strategy": [
            {"version": 1, "title_zh": "以客户为中心的运维服务", "title_en": "Customer-centred operations",
             "statement_zh": "以合理成本提供稳定的运维服务。", "statement_en": "Stable operations at a reasonable cost.",
             "principles_zh": "稳定优先\n成本可控", "principles_en": "Stability first\nCost under control",
             "owner": "owner", "effective_from": start.isoformat()},
            {"version": 2, "title_zh": "客户感知驱动的服务策略", "title_en": "A perception-driven service strategy",
             "statement_zh": "以合理的服务成本，持续提升客户满意度与忠诚度；用客户感知而不只是内部 KPI 衡量服务。",
             "statement_en": "Raise customer satisfaction and loyalty at a reasonable cost; judge the service by what "
                             "customers perceive, not only by internal KPIs.",
             "principles_zh": "标准由双方共同确认\n感知结果定期回顾并改进\n统计工作与被考核者分离",
             "principles_en": "Standards are agreed by both sides\nPerception results are reviewed and acted on\n"
                              "Measurement is done by people other than those measured",
             "owner": "owner", "effective_from": ctx.first_week_start.isoformat()},
        ],
        "slas": [
            _sla("SLA-STD", "标准服务级别协议", "Standard SLA", ["SD", "DESK", "NET", "APP"], "mon-fri 09:00-18:00", ctx),
            _sla("SLA-PLAT", "白金服务级别协议", "Platinum SLA", ["SD", "DESK", "NET", "APP", "DC"], "24x7", ctx, tier="PLAT"),
            _sla("SLA-BJ-BANK", "北京银行专属协议", "Beijing Bank SLA", ["DESK", "NET"], "daily 07:00-23:00", ctx,
                 customer="BJ-BANK"),
            {"code": "OLA-NOC", "kind": "ola", "supports": "SLA-PLAT", "name_zh": "网络运营中心 OLA",
             "name_en": "Network operations centre OLA", "team_zh": "网络运营中心", "team_en": "Network operations centre",
             "covered_hours": "24x7", "indicators": [{"name_zh": "二线接单 10 分钟内", "name_en": "Second line accepts within 10 min",
                                                     "comparator": "<=", "target": 10, "unit": "min"}],
             "escalations": [{"after_minutes": 20, "notify_roles": ["noc_shift_lead"]}]},
        ],
        "plan": plan,
        "roles": {"system_owner": "owner", "provider": {"zh": "华信数智运维服务有限公司", "en": "Huaxin Digital IT Services Co., Ltd."}},
        "training": training,
    }  # fmt: skip


def _rep(session: Session, customer: CustomerOrg) -> User:
    existing = session.scalar(
        select(User).where(User.customer_id == customer.id, User.active.is_(True)).order_by(User.id).limit(1)
    )
    if existing is not None:
        return existing
    return users.create_user(
        session,
        users.UserSpec(
            username=f"rep.{customer.code.lower()}",
            display_name=f"{customer.name_zh} 客户代表",
            roles=frozenset({Role.CUSTOMER_REP}),
            password=DEMO_PASSWORD,
            customer_id=customer.id,
            email=f"rep.{customer.code.lower()}@customer.example",
        ),
        password_hash=demo_password_hash(),
    )


def _standard_doc(row: tuple[Any, ...]) -> dict[str, Any]:
    code, svc, tier, cat, metric, dim, by, cmp_, target, unit, window, limit, prio, need, zh, en, exp = row
    return {
        "code": code, "service": svc, "tier": tier, "category": cat, "experience_standard": exp,
        "versions": [{
            "statement_zh": zh, "statement_en": en, "metric": metric, "dimension": dim, "measured_by": by,
            "comparator": cmp_, "target": target, "unit": unit, "window": window, "time_limit_minutes": limit,
            "priority": prio, "customer_need": NEED[need], "procedure": PROC.format(code, code),
            "classification_standard": CLASSIFICATION if prio else None, "handling_norms": HANDLING if prio else None,
        }],
    }  # fmt: skip


def _agree(
    session: Session, standard: ServiceStandard, provider: User, reps: dict[int, User], on: date
) -> None:
    version = standard.versions[-1]
    bound = bound_customers(session, standard)
    confirm_need(session, version, reps[bound[0]])
    # The demo agrees its standards as it loads them, before the history that would replay them:
    # the proposer accepts that explicitly, as a person would (setup_confirm.propose).
    propose(session, version, provider, accept_without_history=True)
    confirm(session, version, provider, today=on)
    for customer_id in bound:
        confirm(session, version, reps[customer_id], today=on)
    _date_the_agreement(version, on)


#: When each step of an agreement happened, counted back from the day it came into force
#: (the operations stamp the real time; a demo history needs the days it would have taken).
_STEP_DAYS_BEFORE = {
    "need_confirmed": 12,
    "proposed": 9,
    "accepted_without_history": 9,  # with the proposal it accompanies (setup_confirm.propose)
    "provider_confirmed": 6,
    "customer_confirmed": 2,
}


def _date_the_agreement(version: Any, in_force: date) -> None:
    def when(step: str, minutes: int = 0) -> datetime:
        return datetime.combine(in_force - timedelta(days=_STEP_DAYS_BEFORE[step]), time(2, 0)) + timedelta(
            minutes=minutes
        )  # 10:00 in China, stored as UTC

    version.need_confirmed_at = when("need_confirmed")
    version.proposed_at = when("proposed")
    version.provider_confirmed_at = when("provider_confirmed")
    version.customer_confirmed_at = when("customer_confirmed", 37 * len(version.events))
    for index, event in enumerate(version.events):
        event.at = when(event.action, 37 * index) if event.action in _STEP_DAYS_BEFORE else event.at


def load(session: Session, ctx: DemoContext) -> None:
    customers = list(
        ctx.shared.get("customers") or session.scalars(select(CustomerOrg).order_by(CustomerOrg.code))
    )
    regions = (
        sorted(ctx.shared["regions"])
        if "regions" in ctx.shared
        else sorted({c.region.code for c in customers})
    )
    import_document(session, _document(ctx, customers, regions))
    provider = session.scalar(select(User).where(User.username == "manager"))
    assert provider is not None, "the org demo creates the 'manager' user"
    reps = {c.id: _rep(session, c) for c in customers}
    first = ctx.first_week_start - timedelta(weeks=8)
    for row in sorted(STANDARDS, key=lambda r: r[-1] is not None):  # experience targets first
        if session.scalar(select(ServiceStandard).where(ServiceStandard.code == row[0])) is not None:
            continue
        problems = Problems()
        d = read_standard(_standard_doc(row), row[0], problems, with_state=False)
        problems.raise_if_any()
        final = d.versions[0]
        if row[0] == "DESK-RESP-P1-GOLD":
            # Version 1 (90%) was agreed first; version 2 raised the target half-way through the period.
            first_version = replace(
                final,
                target=0.90,
                statement_zh="P1 事件 90% 在 30 分钟内响应",
                statement_en="90% of P1 incidents responded within 30 minutes",
            )
            d = replace(d, versions=(first_version,))
        standard = save_standard(session, d, provider)
        assert standard is not None
        _agree(session, standard, provider, reps, first)
        if d.versions[0] is not final:
            edit_content(session, standard, final, provider)
            _agree(session, standard, provider, reps, ctx.today - timedelta(weeks=max(ctx.weeks // 2, 1)))
    services = {s.code: s for s in session.scalars(select(Service))}
    ctx.shared.update(
        services=services,
        tiers={t.code: t for t in session.scalars(select(ServiceTier))},
        standards={s.code: s for s in session.scalars(select(ServiceStandard))},
        slas={s.code: s for s in session.scalars(select(Sla))},
    )
    ctx.summary.append(
        f"Setup: {len(services)} services, {len(STANDARDS)} confirmed standards, "
        f"{len(ctx.shared['slas'])} SLAs/OLAs, perception plan with deliberate gaps."
    )
