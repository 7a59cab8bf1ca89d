"""Readers of the setup document's entries: untrusted dicts (JSON, YAML, form data) become the
frozen definitions of setup_defs, with a problem per bad field naming its path. One reader per
entry kind is shared by import, the JSON API and the HTML forms, so the same rule gives the same
message everywhere.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from perception.core.clock import DEFAULT_TIMEZONE
from perception.setup.models.catalog import ServiceKind
from perception.setup.models.standards import (
    COMPARATORS,
    DIMENSIONS,
    EXPERIENCE_METRICS,
    MEASURED_BY,
    METRICS,
    METRICS_NEEDING_DIMENSION,
    PERCEPTION_MEANS,
    PLAN_FREQUENCIES,
    PRIORITIES,
    REPORT_FREQUENCIES,
    SERVQUAL_DIMENSIONS,
    SHARE_METRICS,
    STANDARD_CATEGORIES,
    WINDOWS,
    AgreementKind,
    VersionStatus,
)
from perception.setup.services.defs import (
    ContactDef,
    CustomerDef,
    EscalationDef,
    EventDef,
    HolidayDef,
    IndicatorDef,
    PlanDef,
    PointDef,
    PromiseDef,
    RegionDef,
    ReportDef,
    ServiceDef,
    SlaDef,
    StandardDef,
    StrategyDef,
    SubscriptionDef,
    TierDef,
    TrainingDef,
    VersionDef,
)
from perception.setup.services.errors import Problems
from perception.setup.services.reader import Reader
from scoring.calendar import BusinessCalendar

CODE_MAX = 32


def _code(r: Reader, key: str = "code") -> str:
    return r.req(key, CODE_MAX)


def read_region(data: Any, path: str, p: Problems, *, default_timezone: str = DEFAULT_TIMEZONE) -> RegionDef:
    """``default_timezone``: the zone of a region that names none (callers pass the organisation's)."""
    r = Reader(data, path, p)
    return RegionDef(
        _code(r), r.req("name_zh", 120), r.req("name_en", 120), r.text("timezone") or default_timezone
    )


def read_point(data: Any, path: str, p: Problems) -> PointDef:
    r = Reader(data, path, p)
    weekday = r.integer("report_due_weekday", minimum=1) or 1
    if weekday > 7:
        r.bad("report_due_weekday", "应为 1（周一）到 7（周日）", "Use 1 (Monday) to 7 (Sunday).")
    return PointDef(
        _code(r),
        r.req("name_zh", 120),
        r.req("name_en", 120),
        r.req("region", CODE_MAX),
        weekday,
        r.clock("report_due_time", time(12, 0)),
        r.flag("active"),
        r.day("active_from"),
    )


def read_customer(data: Any, path: str, p: Problems) -> CustomerDef:
    r = Reader(data, path, p)
    return CustomerDef(
        _code(r),
        r.req("name_zh", 200),
        r.req("name_en", 200),
        r.req("region", CODE_MAX),
        r.text("industry", max_len=80),
    )


def read_contact(data: Any, path: str, p: Problems) -> ContactDef:
    r = Reader(data, path, p)
    email = r.text("email", max_len=254)
    if email is not None and "@" not in email:
        r.bad("email", "电子邮件地址无效", "Not a valid email address.")
    return ContactDef(
        r.req("customer", CODE_MAX),
        r.req("name", 120),
        email,
        r.text("phone", max_len=40),
        r.text("title", max_len=120),
        r.choice("language", ("zh_CN", "en")) or "zh_CN",
    )


def read_tier(data: Any, path: str, p: Problems) -> TierDef:
    r = Reader(data, path, p)
    return TierDef(_code(r), r.req("name_zh", 80), r.req("name_en", 80), r.integer("rank", minimum=1) or 1)


def read_service(data: Any, path: str, p: Problems) -> ServiceDef:
    r = Reader(data, path, p)
    return ServiceDef(
        _code(r),
        r.req("name_zh", 200),
        r.req("name_en", 200),
        r.text("description_zh"),
        r.text("description_en"),
        r.choice("kind", [k.value for k in ServiceKind], required=True) or ServiceKind.REACTIVE.value,
        r.text("owner"),
        r.flag("active"),
        r.codes("regions"),
    )


def read_subscription(data: Any, path: str, p: Problems) -> SubscriptionDef:
    r = Reader(data, path, p)
    return SubscriptionDef(r.req("customer", CODE_MAX), r.req("service", CODE_MAX), r.text("tier"))


def read_strategy(data: Any, path: str, p: Problems) -> StrategyDef:
    r = Reader(data, path, p)
    return StrategyDef(
        r.integer("version", minimum=1),
        r.req("title_zh", 200),
        r.req("title_en", 200),
        r.req("statement_zh"),
        r.req("statement_en"),
        r.text("principles_zh") or "",
        r.text("principles_en") or "",
        r.text("owner"),
        r.day("effective_from", required=True) or date.min,
    )


def read_event(data: Any, path: str, p: Problems) -> EventDef:
    r = Reader(data, path, p)
    return EventDef(
        r.req("action", 24),
        r.choice("side", ("provider", "customer")),
        r.text("user"),
        r.text("customer"),
        r.text("comment"),
        r.instant("at"),
    )


def read_version(data: Any, path: str, p: Problems, *, with_state: bool = False) -> VersionDef:
    """The measurable fields (forms, API drafts); ``with_state`` also reads status/confirmations (import)."""
    r = Reader(data, path, p)
    metric = r.choice("metric", METRICS, required=True) or ""
    dimension = r.choice("dimension", DIMENSIONS + SERVQUAL_DIMENSIONS)
    if metric in METRICS_NEEDING_DIMENSION and dimension is None:
        r.bad("dimension", "该指标需要指定维度", "This metric needs a dimension.")
    content: dict[str, Any] = {
        "statement_zh": r.req("statement_zh"),
        "statement_en": r.req("statement_en"),
        "metric": metric,
        "dimension": dimension,
        "measured_by": r.choice("measured_by", MEASURED_BY, required=True) or "",
        "comparator": r.choice("comparator", COMPARATORS, required=True) or "",
        "target": r.number("target"),
        "unit": r.text("unit", max_len=16),
        "window": r.choice("window", WINDOWS),
        "time_limit_minutes": r.number("time_limit_minutes", minimum=0),
        "priority": r.choice("priority", PRIORITIES),
        "customer_need": r.text("customer_need"),
        "procedure": r.text("procedure"),
        "classification_standard": r.text("classification_standard"),
        "handling_norms": r.text("handling_norms"),
        "requested_effective_from": r.day("requested_effective_from"),
    }
    target = content["target"]
    if metric in SHARE_METRICS and target is not None and not 0 <= target <= 1:
        r.bad(
            "target",
            "比例类指标的目标应在 0 到 1 之间（如 96% 写作 0.96）",
            "A share/rate target is between 0 and 1 (write 96% as 0.96).",
        )
    if metric in EXPERIENCE_METRICS and content["measured_by"] == "kpi":
        r.bad(
            "measured_by",
            "体验类指标须由感知手段（回访、抽样、问卷、反馈记录）测量",
            "An experience metric is measured by a perception means "
            "(callback, sampling, questionnaire, feedback).",
        )
    if not with_state:
        return VersionDef(**content)
    events = tuple(read_event(v, path_, p) for path_, v in r.items("events"))
    return VersionDef(
        **content,
        version=r.integer("version", required=True, minimum=1),
        status=r.choice("status", VersionStatus) or VersionStatus.DRAFT,
        effective_from=r.day("effective_from"),
        effective_to=r.day("effective_to"),
        need_confirmed_by=r.text("need_confirmed_by"),
        need_confirmed_at=r.instant("need_confirmed_at"),
        provider_confirmed_by=r.text("provider_confirmed_by"),
        provider_confirmed_at=r.instant("provider_confirmed_at"),
        customer_confirmed_by=r.text("customer_confirmed_by"),
        customer_confirmed_at=r.instant("customer_confirmed_at"),
        events=events,
    )


def read_standard(data: Any, path: str, p: Problems, *, with_state: bool = True) -> StandardDef:
    r = Reader(data, path, p)
    versions = tuple(read_version(v, vp, p, with_state=with_state) for vp, v in r.items("versions"))
    if not versions:
        r.bad("versions", "至少需要一个版本", "At least one version is needed.")
    return StandardDef(
        _code(r),
        r.req("service", CODE_MAX),
        r.text("tier"),
        r.text("customer"),
        r.choice("category", STANDARD_CATEGORIES) or "efficiency",
        r.text("experience_standard"),
        r.flag("active"),
        versions,
    )


def _split(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return ()


def read_sla(data: Any, path: str, p: Problems, *, default_timezone: str = DEFAULT_TIMEZONE) -> SlaDef:
    """``default_timezone``: the zone of covered hours when the agreement names none (callers pass
    the organisation's)."""
    r = Reader(data, path, p)
    kind = r.choice("kind", AgreementKind) or AgreementKind.SLA
    covered = r.text("covered_hours") or "24x7"
    tz = r.text("timezone") or default_timezone
    try:
        BusinessCalendar.parse(covered, tz=tz)
    except ValueError as exc:
        r.bad("covered_hours", f"服务时段无效：{exc}", f"Covered hours are not valid: {exc}")
    holidays = []
    for hp, h in r.items("holidays"):
        hr = Reader(h, hp, p)
        holidays.append(HolidayDef(hr.day("date", required=True) or date.min, hr.text("name", max_len=120)))
    workdays = []
    for wp, w in r.items("workdays"):
        wr = Reader(w, wp, p)
        workdays.append(HolidayDef(wr.day("date", required=True) or date.min, wr.text("name", max_len=120)))
    indicators = []
    for ip, i in r.items("indicators"):
        ir = Reader(i, ip, p)
        indicators.append(
            IndicatorDef(
                ir.req("name_zh", 200),
                ir.req("name_en", 200),
                ir.text("standard"),
                ir.choice("comparator", COMPARATORS),
                ir.number("target"),
                ir.text("unit", max_len=16),
            )
        )
    promises = []
    for pp, pr_ in r.items("promises"):
        pr = Reader(pr_, pp, p)
        promises.append(
            PromiseDef(
                pr.req("description_zh", 300),
                pr.req("description_en", 300),
                pr.number("within_minutes", minimum=0),
                pr.text("channel", max_len=32),
            )
        )
    escalations = []
    for ep, e in r.items("escalations"):
        er = Reader(e, ep, p)
        roles, emails = _split(er.data.get("notify_roles")), _split(er.data.get("notify_emails"))
        if not roles and not emails:
            er.bad("notify_roles", "请指定通知的角色或邮箱", "Name the roles or addresses to notify.")
        for email in emails:
            if "@" not in email:
                er.bad("notify_emails", f"“{email}”不是邮箱地址", f"'{email}' is not an email address.")
        escalations.append(
            EscalationDef(
                er.number("after_minutes", required=True, minimum=0) or 0.0,
                roles,
                emails,
                er.text("description_zh", max_len=300),
                er.text("description_en", max_len=300),
            )
        )
    reports = []
    for rp, rep in r.items("reports"):
        rr = Reader(rep, rp, p)
        recipients = _split(rr.data.get("recipients"))
        if not recipients:
            rr.bad("recipients", "请指定接收人", "Name the recipients.")
        reports.append(
            ReportDef(
                rr.choice("frequency", REPORT_FREQUENCIES, required=True) or "monthly",
                recipients,
                rr.text("description_zh", max_len=300),
                rr.text("description_en", max_len=300),
            )
        )
    services = r.codes("services")
    supports = r.text("supports")
    if kind == AgreementKind.OLA and supports is None:
        r.bad("supports", "运营级协议（OLA）必须关联所支持的 SLA", "An OLA must name the SLA it supports.")
    if kind == AgreementKind.SLA and not services:
        r.bad("services", "SLA 至少覆盖一项服务", "An SLA covers at least one service.")
    return SlaDef(
        _code(r),
        kind,
        supports,
        r.text("team_zh", max_len=200),
        r.text("team_en", max_len=200),
        r.req("name_zh", 200),
        r.req("name_en", 200),
        r.text("definition_zh"),
        r.text("definition_en"),
        r.text("customer"),
        r.text("tier"),
        services,
        covered,
        tz,
        r.day("effective_from"),
        r.day("effective_to"),
        r.flag("active"),
        tuple(holidays),
        tuple(indicators),
        tuple(promises),
        tuple(escalations),
        tuple(reports),
        workdays=tuple(workdays),
    )


def read_plan(data: Any, path: str, p: Problems) -> PlanDef:
    r = Reader(data, path, p)
    share = r.number("sample_share", minimum=0)
    if share is not None and share > 1:
        r.bad("sample_share", "抽样比例应在 0 到 1 之间", "The sample share is between 0 and 1.")
    return PlanDef(
        r.req("service", CODE_MAX),
        r.text("region"),
        r.text("customer"),
        r.text("tier"),
        r.choice("means", PERCEPTION_MEANS, required=True) or "",
        r.choice("frequency", PLAN_FREQUENCIES, required=True) or "",
        r.integer("sample_size", minimum=1),
        share,
        r.text("owner"),
        r.text("notes"),
        r.flag("active"),
    )


def read_training(data: Any, path: str, p: Problems) -> TrainingDef:
    r = Reader(data, path, p)
    return TrainingDef(
        r.req("trainee", 120),
        r.text("user"),
        r.text("region"),
        r.day("held_on", required=True) or date.min,
        r.req("topic_zh", 200),
        r.req("topic_en", 200),
        r.text("trainer", max_len=120),
        r.number("hours", minimum=0),
    )
