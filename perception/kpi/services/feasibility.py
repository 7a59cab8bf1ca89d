"""Feasibility of a proposed ticket standard: the rule replayed on the tickets it speaks of.

Registered with the setup phase as a measured-history provider (setup_standards.register_history_provider),
so the five-principle check and the propose gate judge "99% of desk incidents resolved within 1 hour"
on the share of the service's tickets resolved within 1 hour, and never on the weekly KPI of the
4-hour limit in force (issue 14). The replay takes the tickets of the standard's service, narrowed to
its tier, customer and priority where the standard names them, over the complete periods (the
standard's window; a day window replays per week) of the last half year (a year for quarters),
measured in covered seconds of each ticket's SLA business calendar (kpi_ticket_frame). Rates
(first-contact resolution, reopen) replay per period over the resolved tickets.

Metrics with nothing to replay (imported KPIs such as answered-by-the-2nd-ring) are left to the KPI
value provider (kpi_values.measured_history).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from sqlalchemy.orm import Session

from perception.core.models.base import utcnow
from perception.kpi.services.targets import PRIORITIES, share_percent
from perception.kpi.services.ticket_frame import TicketFrame, load_frame
from perception.kpi.services.ticket_time import period_start, period_starts
from perception.setup.models.standards import StandardVersion
from perception.setup.services.standards import ReplayScope, register_history_provider
from scoring.feasibility import ReplayedHistory, format_minutes, period_values, replay_time_share

#: metric -> (which duration, per-ticket limit in the target: True for "<= N minutes" standards)
TIME_METRICS = {
    "response_within_target_share": ("response", False),
    "resolution_within_target_share": ("resolution", False),
    "first_response_minutes": ("response", True),
    "resolution_minutes": ("resolution", True),
}
RATE_METRICS = ("first_contact_resolution_rate", "reopen_rate")
REPLAYED_METRICS = frozenset(TIME_METRICS) | frozenset(RATE_METRICS)

_WINDOW = {"day": "week", "week": "week", "month": "month", "quarter": "quarter"}
_PER = {"week": ("按周", "per week"), "month": ("按月", "per month"), "quarter": ("按季度", "per quarter")}
_STEP = {"week": 7, "month": 32, "quarter": 93}  # days from a period's start into the next one


def replay_bounds(granularity: str, scope: ReplayScope | None, today: date) -> tuple[date, date]:
    """[start, end) of the complete periods a replay reads (setup_standards.ReplayScope): without a
    scope the last half-year (a year for quarters) before today's period; with one, the periods that
    start on or after its start and end by its end, never the current (incomplete) period."""
    current = period_start(today, granularity)
    if scope is None:
        back = timedelta(days=364 if granularity == "quarter" else 182)
        return period_start(current - back, granularity), current
    start = period_start(scope.start, granularity)
    if start < scope.start:
        start = period_start(start + timedelta(days=_STEP[granularity]), granularity)
    return start, max(start, min(period_start(scope.end, granularity), current))


def _scope(
    session: Session, version: StandardVersion, frame: TicketFrame, customer_id: int | None = None
) -> tuple[np.ndarray, str, str]:
    standard = version.standard
    mask = frame.in_period & (frame.service == standard.service_id)
    zh, en = [f"{standard.service.code} 的工单"], [f"{standard.service.code}'s tickets"]
    if version.priority:
        code = PRIORITIES.index(version.priority) if version.priority in PRIORITIES else -2
        mask &= frame.priority == code
        zh.append(version.priority)
        en.append(version.priority)
    if standard.tier_id is not None:
        mask &= frame.tier == standard.tier_id
        zh.append(f"等级 {standard.tier.code}" if standard.tier else "")
        en.append(f"tier {standard.tier.code}" if standard.tier else "")
    if standard.customer_id is not None:
        mask &= frame.customer == standard.customer_id
        zh.append(f"客户 {standard.customer.code}" if standard.customer else "")
        en.append(f"customer {standard.customer.code}" if standard.customer else "")
    if customer_id is not None and customer_id != standard.customer_id:
        mask &= frame.customer == customer_id  # one customer's view: its own tickets only
        zh.append("贵单位")
        en.append("your organisation's")
    what_zh = zh[0] + (f"（{'，'.join(zh[1:])}）" if len(zh) > 1 else "")
    what_en = en[0] + (f" ({', '.join(en[1:])})" if len(en) > 1 else "")
    return mask, what_zh, what_en


def replay_standard(
    session: Session,
    version: StandardVersion,
    *,
    today: date | None = None,
    scope: ReplayScope | None = None,
) -> ReplayedHistory | None:
    """The version's rule replayed on its tickets (module docstring) over the periods of ``scope``
    (replay_bounds); None for a metric that tickets do not measure, or a rule without a usable target."""
    metric = version.metric
    if metric not in REPLAYED_METRICS or version.target is None:
        return None
    granularity = _WINDOW.get(version.window or "", "week")
    start, end = replay_bounds(granularity, scope, today or utcnow().date())  # complete periods only
    key = ("ticket_frame", start, end)
    if scope is not None and key in scope.cache:
        frame = scope.cache[key]
    else:
        frame = load_frame(session, start, end)
        if scope is not None:
            scope.cache[key] = frame
    mask, what_zh, what_en = _scope(session, version, frame, scope.customer_id if scope else None)
    sub = frame.subset(mask)
    starts = period_starts(sub.local_day, granularity)
    labels_days, codes = np.unique(starts, return_inverse=True)
    labels = [str(d) for d in labels_days.astype("datetime64[D]").tolist()]
    per_zh, per_en = _PER[granularity]
    if metric in TIME_METRICS:
        kind, per_ticket = TIME_METRICS[metric]
        if per_ticket:
            limit_min, required = float(version.target), 100.0
        else:
            if version.time_limit_minutes is None:
                return None
            limit_min, required = (
                float(version.time_limit_minutes),
                share_percent(version.target, version.unit),
            )
        required = min(required, 100.0)
        periods, supported_s = replay_time_share(
            codes,
            labels,
            getattr(sub, f"{kind}_s"),
            getattr(sub, f"{kind}_elapsed_s"),
            limit_min * 60.0,
            required,
        )
        verb_zh, verb_en = ("首次响应", "responded") if kind == "response" else ("解决", "resolved")
        return ReplayedHistory(
            what_zh=f"{what_zh}，{per_zh}统计 SLA 服务时间内 {format_minutes(limit_min, 'zh')}内"
            f"{verb_zh}的比例",
            what_en=f"{what_en}, the share {verb_en} within {format_minutes(limit_min)} of the SLA's "
            f"covered hours {per_en}",
            periods=periods,
            target=required,
            comparator=">=",
            unit="%",
            limit_minutes=limit_min,
            supported_limit_minutes=None if supported_s is None else supported_s / 60.0,
        )
    resolved = ~np.isnan(sub.resolution_s)
    numerator = (sub.transfers == 0) if metric == "first_contact_resolution_rate" else (sub.reopen > 0)
    name_zh, name_en = (
        ("一次解决率", "first-contact resolution") if metric == RATE_METRICS[0] else ("重开率", "reopen rate")
    )
    return ReplayedHistory(
        what_zh=f"{what_zh}，{per_zh}统计{name_zh}",
        what_en=f"{what_en}, the {name_en} {per_en}",
        periods=period_values(codes, labels, numerator, resolved),
        target=share_percent(float(version.target), version.unit),
        comparator=version.comparator,
        unit="%",
    )


@register_history_provider
def replayed_history(
    session: Session, version: StandardVersion, scope: ReplayScope | None = None
) -> ReplayedHistory | None:
    return replay_standard(session, version, scope=scope)
