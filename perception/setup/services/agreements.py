"""Writing SLAs and OLAs (upsert by code) and exporting them as document entries.

Nested rows (holidays, indicators, communication promises, escalation rules, reporting) are
replaced as a whole list only when the list differs, so re-applying the same definition changes
nothing. An OLA names the SLA it supports; an SLA covers at least one service. Exporting many
agreements looks their references' codes up once for all of them (``slas_to_def_dicts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.models.org import CustomerOrg
from perception.setup.models.catalog import Service, ServiceTier
from perception.setup.models.standards import (
    AgreementKind,
    CommunicationPromise,
    EscalationRule,
    ServiceStandard,
    Sla,
    SlaHoliday,
    SlaIndicator,
    SlaReport,
    SlaService,
    SlaWorkday,
)
from perception.setup.services.defs import SlaDef
from perception.setup.services.errors import Problems
from perception.setup.services.reader import join
from perception.setup.services.refs import Refs, assign, codes_of, looked_up

__all__ = ["save_sla", "sla_to_def_dict", "slas_to_def_dicts"]


def _holiday_rows(sla: Sla) -> list[tuple[Any, ...]]:
    return [(h.day, h.name) for h in sla.holidays]


def _workday_rows(sla: Sla) -> list[tuple[Any, ...]]:
    return [(w.day, w.name) for w in sla.workdays]


def _indicator_rows(sla: Sla, standard_codes: dict[int, str]) -> list[tuple[Any, ...]]:
    return [
        (
            i.name_zh,
            i.name_en,
            looked_up(standard_codes, i.standard_id),
            i.comparator,
            i.target,
            i.unit,
        )
        for i in sla.indicators
    ]


def _promise_rows(sla: Sla) -> list[tuple[Any, ...]]:
    return [(p.description_zh, p.description_en, p.within_minutes, p.channel) for p in sla.promises]


def _escalation_rows(sla: Sla) -> list[tuple[Any, ...]]:
    return [
        (e.after_minutes, tuple(e.roles), tuple(e.emails), e.description_zh, e.description_en)
        for e in sla.escalations
    ]


def _report_rows(sla: Sla) -> list[tuple[Any, ...]]:
    return [
        (
            r.frequency,
            tuple(x.strip() for x in r.recipients.split(",") if x.strip()),
            r.description_zh,
            r.description_en,
        )
        for r in sla.reports
    ]


def save_sla(session: Session, d: SlaDef, path: str = "", problems: Problems | None = None) -> Sla | None:
    p = problems if problems is not None else Problems()
    start = len(p.items)
    refs = Refs(session, p)
    supports = refs.optional(Sla, d.supports, join(path, "supports"))
    if supports is not None and supports.kind != AgreementKind.SLA:
        p.add(join(path, "supports"), "OLA 只能支持一个 SLA", "An OLA supports an SLA (not another OLA).")
    if d.kind == AgreementKind.SLA and d.supports is not None:
        p.add(join(path, "supports"), "只有 OLA 才关联所支持的 SLA", "Only an OLA names an SLA it supports.")
    customer_id = refs.id_of(CustomerOrg, d.customer, join(path, "customer"))
    tier_id = refs.id_of(ServiceTier, d.tier, join(path, "tier"))
    service_ids = [refs.id_of(Service, c, join(join(path, "services"), i)) for i, c in enumerate(d.services)]
    standard_ids = [
        refs.id_of(ServiceStandard, ind.standard, join(join(join(path, "indicators"), i), "standard"))
        for i, ind in enumerate(d.indicators)
    ]
    if d.effective_from and d.effective_to and d.effective_to <= d.effective_from:
        p.add(
            join(path, "effective_to"), "结束日期应晚于开始日期", "The end date must be after the start date."
        )
    if len({h.day for h in d.holidays}) != len(d.holidays):
        p.add(join(path, "holidays"), "节假日日期重复", "A holiday date is listed twice.")
    if len({w.day for w in d.workdays}) != len(d.workdays):
        p.add(join(path, "workdays"), "调休工作日日期重复", "A make-up working day is listed twice.")
    both = sorted({w.day for w in d.workdays} & {h.day for h in d.holidays})
    if both:
        p.add(
            join(path, "workdays"),
            f"{both[0].isoformat()} 同时列为节假日和调休工作日",
            f"{both[0].isoformat()} is listed both as a holiday and as a make-up working day.",
        )
    if problems is None:
        p.raise_if_any()
    if len(p.items) > start or any(i is None for i in service_ids):
        return None
    sla = session.scalar(select(Sla).where(Sla.code == d.code))
    if sla is None:
        sla = Sla(code=d.code)
        session.add(sla)
    assign(
        sla,
        kind=d.kind,
        supports_sla_id=None if supports is None else supports.id,
        team_zh=d.team_zh,
        team_en=d.team_en,
        name_zh=d.name_zh,
        name_en=d.name_en,
        definition_zh=d.definition_zh,
        definition_en=d.definition_en,
        customer_id=customer_id,
        tier_id=tier_id,
        covered_hours=d.covered_hours,
        timezone=d.timezone,
        effective_from=d.effective_from,
        effective_to=d.effective_to,
        active=d.active,
    )
    session.flush()
    _set_services(sla, [i for i in service_ids if i is not None])
    _replace_children(session, sla, d, standard_ids)
    session.flush()
    return sla


def _set_services(sla: Sla, service_ids: list[int]) -> None:
    want = list(dict.fromkeys(service_ids))
    if set(sla.service_ids) == set(want):
        return
    keep = [link for link in sla.services if link.service_id in want]
    have = {link.service_id for link in keep}
    sla.services = keep + [SlaService(service_id=s) for s in want if s not in have]


def _replace_children(session: Session, sla: Sla, d: SlaDef, standard_ids: list[int | None]) -> None:
    if _holiday_rows(sla) != [(h.day, h.name) for h in d.holidays]:
        sla.holidays = [SlaHoliday(day=h.day, name=h.name) for h in d.holidays]
    if _workday_rows(sla) != [(w.day, w.name) for w in d.workdays]:
        sla.workdays = []
        session.flush()  # the old rows go first: a renamed day keeps its (sla, day) key
        sla.workdays = [SlaWorkday(day=w.day, name=w.name) for w in d.workdays]
    standard_codes = codes_of(session, ServiceStandard, (i.standard_id for i in sla.indicators))
    if _indicator_rows(sla, standard_codes) != [
        (i.name_zh, i.name_en, i.standard, i.comparator, i.target, i.unit) for i in d.indicators
    ]:
        sla.indicators = [
            SlaIndicator(
                name_zh=i.name_zh,
                name_en=i.name_en,
                standard_id=sid,
                comparator=i.comparator,
                target=i.target,
                unit=i.unit,
            )
            for i, sid in zip(d.indicators, standard_ids, strict=True)
        ]
    if _promise_rows(sla) != [
        (x.description_zh, x.description_en, x.within_minutes, x.channel) for x in d.promises
    ]:
        sla.promises = [
            CommunicationPromise(
                description_zh=x.description_zh,
                description_en=x.description_en,
                within_minutes=x.within_minutes,
                channel=x.channel,
            )
            for x in d.promises
        ]
    wanted_esc = sorted(d.escalations, key=lambda e: e.after_minutes)
    if _escalation_rows(sla) != [
        (e.after_minutes, e.notify_roles, e.notify_emails, e.description_zh, e.description_en)
        for e in wanted_esc
    ]:
        sla.escalations = [
            EscalationRule(
                after_minutes=e.after_minutes,
                notify_roles=",".join(e.notify_roles),
                notify_emails=",".join(e.notify_emails),
                description_zh=e.description_zh,
                description_en=e.description_en,
            )
            for e in wanted_esc
        ]
    if _report_rows(sla) != [
        (r.frequency, r.recipients, r.description_zh, r.description_en) for r in d.reports
    ]:
        sla.reports = [
            SlaReport(
                frequency=r.frequency,
                recipients=",".join(r.recipients),
                description_zh=r.description_zh,
                description_en=r.description_en,
            )
            for r in d.reports
        ]


@dataclass(frozen=True)
class _Codes:
    """The codes an export of some agreements refers to, each looked up once for all of them."""

    slas: dict[int, str]
    customers: dict[int, str]
    tiers: dict[int, str]
    services: dict[int, str]
    standards: dict[int, str]

    @classmethod
    def of(cls, session: Session, slas: Sequence[Sla]) -> _Codes:
        return cls(
            slas=codes_of(session, Sla, (s.supports_sla_id for s in slas)),
            customers=codes_of(session, CustomerOrg, (s.customer_id for s in slas)),
            tiers=codes_of(session, ServiceTier, (s.tier_id for s in slas)),
            services=codes_of(session, Service, (i for s in slas for i in s.service_ids)),
            standards=codes_of(session, ServiceStandard, (i.standard_id for s in slas for i in s.indicators)),
        )


def sla_to_def_dict(session: Session, sla: Sla) -> dict[str, Any]:
    """The document entry of an SLA/OLA (also the API representation)."""
    return slas_to_def_dicts(session, [sla])[0]


def slas_to_def_dicts(session: Session, slas: Sequence[Sla]) -> list[dict[str, Any]]:
    """``sla_to_def_dict`` of each agreement, with the codes they refer to looked up once."""
    codes = _Codes.of(session, slas)
    return [_def_dict(sla, codes) for sla in slas]


def _def_dict(sla: Sla, codes: _Codes) -> dict[str, Any]:
    return {
        "code": sla.code,
        "kind": sla.kind,
        "supports": looked_up(codes.slas, sla.supports_sla_id),
        "team_zh": sla.team_zh,
        "team_en": sla.team_en,
        "name_zh": sla.name_zh,
        "name_en": sla.name_en,
        "definition_zh": sla.definition_zh,
        "definition_en": sla.definition_en,
        "customer": looked_up(codes.customers, sla.customer_id),
        "tier": looked_up(codes.tiers, sla.tier_id),
        "services": sorted(codes.services.get(s, "") for s in sla.service_ids),
        "covered_hours": sla.covered_hours,
        "timezone": sla.timezone,
        "effective_from": sla.effective_from.isoformat() if sla.effective_from else None,
        "effective_to": sla.effective_to.isoformat() if sla.effective_to else None,
        "active": sla.active,
        "holidays": [{"date": d.isoformat(), "name": n} for d, n in _holiday_rows(sla)],
        "workdays": [{"date": d.isoformat(), "name": n} for d, n in _workday_rows(sla)],
        "indicators": [
            dict(zip(("name_zh", "name_en", "standard", "comparator", "target", "unit"), row, strict=True))
            for row in _indicator_rows(sla, codes.standards)
        ],
        "promises": [
            dict(zip(("description_zh", "description_en", "within_minutes", "channel"), row, strict=True))
            for row in _promise_rows(sla)
        ],
        "escalations": [
            {
                "after_minutes": e[0],
                "notify_roles": list(e[1]),
                "notify_emails": list(e[2]),
                "description_zh": e[3],
                "description_en": e[4],
            }
            for e in _escalation_rows(sla)
        ],
        "reports": [
            {"frequency": r[0], "recipients": list(r[1]), "description_zh": r[2], "description_en": r[3]}
            for r in _report_rows(sla)
        ],
    }
