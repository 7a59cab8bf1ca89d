"""SLA-failure reports: monthly for project managers, quarterly for regional managers.

Both read the same ticket frame (kpi_ticket_frame) as KPI computation and group the tickets opened
in the report period by region x service x month. Per line: tickets, response and resolution
attainment (share within the per-ticket limit vs the required share, as kpi_compute), breaches and
the worst overrun; a line *fails* when either attainment is not met or it has a breach. The monthly
report lists the breaches ticket by ticket; both have CSV (kpi_report_csv) and PDF
(kpi_report_pdf) forms in zh and en.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.core.models.org import Region
from perception.kpi.models import Escalation
from perception.kpi.services.arrays import distinct_rows
from perception.kpi.services.compute import WithinTarget, within_target
from perception.kpi.services.messages import KpiError
from perception.kpi.services.sla import Breach, breach_mask, list_breaches
from perception.kpi.services.targets import met_or_none
from perception.kpi.services.ticket_frame import TicketFrame, load_frame
from perception.kpi.services.ticket_time import parse_period, period_end, period_label, period_starts
from perception.setup.models.catalog import Service

MONTHLY, QUARTERLY = "monthly", "quarterly"


@dataclass(frozen=True)
class ReportLine:
    period: str
    region_code: str
    region_zh: str
    region_en: str
    service_code: str
    service_zh: str
    service_en: str
    tickets: int
    response_measured: int
    response_hits: int
    response_share: float | None
    response_required: float | None
    response_met: bool | None
    resolution_measured: int
    resolution_hits: int
    resolution_share: float | None
    resolution_required: float | None
    resolution_met: bool | None
    breaches: int
    worst_over_minutes: float | None

    @property
    def failed(self) -> bool:
        return self.response_met is False or self.resolution_met is False or self.breaches > 0


@dataclass(frozen=True)
class SlaFailureReport:
    kind: str
    start: date
    end: date
    label: str
    lines: tuple[ReportLine, ...]
    total: ReportLine
    breaches: tuple[Breach, ...]
    breach_count: int
    escalations: int
    generated_at: datetime


def report_period(kind: str, text: str | None, today: date) -> tuple[date, date]:
    """[start, end) of '2026-03' (monthly) or '2026-Q1' (quarterly); default: the last full one."""
    granularity = "month" if kind == MONTHLY else "quarter"
    if not text:
        this = period_starts(np.array([today], dtype="datetime64[D]"), granularity)[0]
        start = date.fromisoformat(
            str(period_starts(np.array([this - 1], dtype="datetime64[D]"), granularity)[0])
        )
        return start, period_end(start, granularity)
    parsed = parse_period(text)
    if parsed is None or parsed[1] != granularity:
        raise KpiError.one(
            "period",
            "月份格式为 2026-03" if kind == MONTHLY else "季度格式为 2026-Q1",
            "use a month like 2026-03" if kind == MONTHLY else "use a quarter like 2026-Q1",
            code="bad_period",
            value=text[:80],
        )
    return parsed[0], period_end(parsed[0], granularity)


def _num(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)


def _line(
    g: int,
    period: str,
    region: tuple[str, str, str],
    service: tuple[str, str, str],
    n: int,
    resp: WithinTarget,
    res: WithinTarget,
    breaches: np.ndarray,
    worst: np.ndarray,
) -> ReportLine:
    def met(w: WithinTarget) -> bool | None:
        share, required = _num(w.share[g]), _num(w.required[g])
        return met_or_none(share, required, ">=")

    return ReportLine(
        period,
        *region,
        *service,
        n,
        int(resp.measured[g]),
        int(resp.hits[g]),
        _num(resp.share[g]),
        _num(resp.required[g]),
        met(resp),
        int(res.measured[g]),
        int(res.hits[g]),
        _num(res.share[g]),
        _num(res.required[g]),
        met(res),
        int(breaches[g]),
        _num(worst[g]) if breaches[g] else None,
    )


def _aggregate(
    frame: TicketFrame, codes: np.ndarray, size: int
) -> tuple[WithinTarget, WithinTarget, np.ndarray, np.ndarray]:
    t = frame.targets
    resp = within_target(
        codes,
        size,
        frame.response_s,
        frame.response_overdue,
        t.response_limit_s,
        t.response_share,
        t.response_version,
    )
    res = within_target(
        codes,
        size,
        frame.resolution_s,
        frame.resolution_overdue,
        t.resolution_limit_s,
        t.resolution_share,
        t.resolution_version,
    )
    b_resp, b_res = breach_mask(frame, "response"), breach_mask(frame, "resolution")
    count = np.bincount(codes, weights=b_resp, minlength=size) + np.bincount(
        codes, weights=b_res, minlength=size
    )
    over = (
        np.fmax(
            np.where(b_resp, frame.response_elapsed_s - t.response_limit_s, np.nan),
            np.where(b_res, frame.resolution_elapsed_s - t.resolution_limit_s, np.nan),
        )
        / 60.0
    )
    worst = np.full(size, -np.inf)
    ok = ~np.isnan(over)
    np.maximum.at(worst, codes[ok], over[ok])
    return resp, res, count.astype(np.int64), np.where(np.isinf(worst), np.nan, worst)


def sla_failure_report(
    session: Session,
    kind: str,
    start: date,
    end: date,
    *,
    region_ids: frozenset[int] | None = None,
    as_of: datetime | None = None,
    breach_limit: int = 1000,
) -> SlaFailureReport:
    """The report for [start, end): lines per region x service x month, total, breaches."""
    frame = load_frame(session, start, end, region_ids=region_ids, as_of=as_of)
    sub = frame.subset(frame.in_period)
    month = period_starts(sub.local_day, "month")
    (u_region, u_service, u_month), codes = distinct_rows(sub.region, sub.service, month.astype(np.int64))
    regions = {r.id: (r.code, r.name_zh, r.name_en) for r in session.scalars(select(Region))}
    services = {s.id: (s.code, s.name_zh, s.name_en) for s in session.scalars(select(Service))}
    resp, res, count, worst = _aggregate(sub, codes, int(u_region.size))
    n = np.bincount(codes, minlength=int(u_region.size))
    lines = []
    for g, (region_id, service_id, m) in enumerate(
        zip(u_region.tolist(), u_service.tolist(), u_month.tolist(), strict=True)
    ):
        label = period_label(date.fromisoformat(str(np.datetime64(m, "D"))), "month")
        lines.append(
            _line(g, label, regions[region_id], services[service_id], int(n[g]), resp, res, count, worst)
        )
    lines.sort(key=lambda line: (line.period, line.region_code, line.service_code))
    zero = np.zeros(len(sub), dtype=np.intp)
    t_resp, t_res, t_count, t_worst = _aggregate(sub, zero, 1)
    granularity = "month" if kind == MONTHLY else "quarter"
    total = _line(
        0,
        period_label(start, granularity),
        ("", "合计", "Total"),
        ("", "", ""),
        len(sub),
        t_resp,
        t_res,
        t_count,
        t_worst,
    )
    escalations = select(func.count(Escalation.id)).where(
        Escalation.fired_at >= datetime.combine(start, datetime.min.time()),
        Escalation.fired_at < datetime.combine(end, datetime.min.time()),
    )
    if region_ids is not None:
        escalations = escalations.where(Escalation.region_id.in_(sorted(region_ids)))
    return SlaFailureReport(
        kind=kind,
        start=start,
        end=end,
        label=period_label(start, granularity),
        lines=tuple(lines),
        total=total,
        breaches=tuple(list_breaches(session, sub, limit=breach_limit)) if kind == MONTHLY else (),
        breach_count=int(t_count[0]) if len(sub) else 0,
        escalations=int(session.scalar(escalations) or 0),
        generated_at=frame.as_of,
    )
