"""The alert conditions, checked by the daily background job ``check_analysis_alerts``
(perception.analysis.jobs) for the last complete ISO week of the organisation's clock:

- experience drop: CSAT, NPS, CES, the index or a dimension of the organisation, a region, a
  service or a cell fell in the last four complete weeks against the eight before, in customers'
  own answers, by the overview's rule (services.changes: customers' answers only, minimum n,
  exact tests, Benjamini-Hochberg; collectors' weekly-report ratings raise no drop alert);
- new watermelon: an evidenced watermelon over the last four weeks that was not a watermelon in
  the four weeks before (analysis_kpi_experience);
- standard missed for N periods: a KPI's last N (default 3) weekly values all missed the target;
  the occurrence is the streak, keyed by its first week, so a continuing streak alerts once;
- missing reports: a collection point's weekly report is missing after its deadline.
Each check finds the occurrences (AlertSpecs); ``check_alerts`` raises them, each once
(services.alerts.raise_alert).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.analysis.models import Alert, AlertKind
from perception.analysis.services.alerts import AlertSpec, raise_alert
from perception.analysis.services.changes import (
    MEASURE_NAMES,
    RECENT_WEEKS,
    change_summary,
    shown_value,
    unit_key,
)
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.kpi_experience import kpi_vs_experience, watermelon_cells
from perception.analysis.services.names import load_names
from perception.core.clock import Clock
from perception.core.models.org import CollectionPoint
from perception.core.periods import iso_week_label
from perception.kpi.models import Granularity, KpiDefinition, KpiValue
from scoring.attainment import pooled_met

WINDOW_WEEKS = 4
MISSED_PERIODS = 3


def _url(path: str, **args: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items() if v is not None)
    return f"/analysis/{path}" + (f"?{query}" if query else "")


def check_experience_drops(session: Session, last_week: date) -> list[AlertSpec]:
    """The overview's change rule (services.changes: last four complete weeks against the eight
    before, minimum n, exact tests, Benjamini-Hochberg) on the weeks up to ``last_week``; a
    (unit, measure) that alerted within the last RECENT_WEEKS weeks is not raised again."""
    end = last_week + timedelta(weeks=1)
    # The flags alone (the overview's summary, kept under the same key): not every test of the look.
    view = change_summary(session, AnalysisFilters(start=last_week, end=end), today=end)
    if view.window is None:
        return []
    out = []
    for row in view.flags:
        t = row.test
        key = f"experience_drop:{unit_key(row.unit)}:{t.measure}"
        recent = session.scalar(
            select(Alert.id).where(
                Alert.kind == AlertKind.EXPERIENCE_DROP,
                Alert.occurrence_key.like(f"{key}:%"),
                Alert.period_start >= last_week - timedelta(weeks=RECENT_WEEKS - 1),
            )
        )
        if recent is not None:
            continue
        where_zh = "·".join(x for x in (row.service_zh, row.region_zh) if x) or "全部"
        where_en = " in ".join(x for x in (row.service_en, row.region_en) if x) or "Everything"
        name_zh, name_en = MEASURE_NAMES.get(t.measure, (t.measure, t.measure))
        span = f"{iso_week_label(view.window.recent_start)}–{iso_week_label(last_week)}"
        numbers = (
            f"{shown_value(t.measure, t.baseline_estimate)} → {shown_value(t.measure, t.recent_estimate)} "
            f"(n={t.n_baseline}/{t.n_recent}, p={t.p_value:.2g}, q={t.q_value:.2g})"
        )
        out.append(
            AlertSpec(
                kind=AlertKind.EXPERIENCE_DROP,
                occurrence_key=f"{key}:{last_week.isoformat()}",
                message_zh=f"{where_zh} {span} 客户答复中的{name_zh}显著下降：{numbers}（精确检验，BH 校正）",
                message_en=f"{where_en}: {name_en} in customers' answers fell in {span}: {numbers} "
                "(exact test, BH-corrected)",
                evidence_url=_url(
                    "overview",
                    region=row.region_id,
                    service=row.service_id,
                    **{"from": view.window.baseline_start.isoformat(), "to": last_week.isoformat()},
                ),
                region_id=row.region_id,
                service_id=row.service_id,
                period_start=last_week,
            )
        )
    return out


def check_new_watermelons(session: Session, last_week: date, *, use_rollup: bool = True) -> list[AlertSpec]:
    end = last_week + timedelta(weeks=1)
    window = AnalysisFilters(start=end - timedelta(weeks=WINDOW_WEEKS), end=end)
    current = kpi_vs_experience(session, window, use_rollup=use_rollup)
    previous = kpi_vs_experience(session, window.previous(), use_rollup=use_rollup)
    before = {(c.service_id, c.region_id) for c in previous.cells if c.comparison.quadrant == "watermelon"}
    out = []
    # One alert per region x service cell with its KPIs (watermelon_cells: the page's definition).
    for cell in watermelon_cells(current).evidenced:
        if (cell.service_id, cell.region_id) in before:
            continue
        recent = session.scalar(
            select(Alert.id).where(
                Alert.kind == AlertKind.NEW_WATERMELON,
                Alert.occurrence_key.like(f"new_watermelon:{cell.key}:%"),
                Alert.period_start >= window.start - timedelta(weeks=WINDOW_WEEKS),
            )
        )
        if recent is not None:
            continue
        c = cell.lead.comparison
        kpis_zh = "、".join(k.kpi_name_zh for k in cell.kpis)
        kpis_en = ", ".join(k.kpi_name_en for k in cell.kpis)
        out.append(
            AlertSpec(
                kind=AlertKind.NEW_WATERMELON,
                occurrence_key=f"new_watermelon:{cell.key}:{window.start.isoformat()}",
                message_zh=f"新的西瓜效应：{cell.service_name_zh}·{cell.region_name_zh} 的 "
                f"{kpis_zh} 达标，但体验 {c.experience_estimate:.3g} "
                f"低于目标 {c.experience_target:.3g}（n={c.n}）",
                message_en=f"New watermelon: {cell.service_name_en} in {cell.region_name_en} meets "
                f"{kpis_en}, but experience {c.experience_estimate:.3g} misses "
                f"{c.experience_target:.3g} (n={c.n})",
                evidence_url=_url(
                    "kpi-vs-experience",
                    **{"from": window.start.isoformat(), "to": last_week.isoformat()},
                )
                + f"#cell-{cell.service_code}-{cell.region_code}",
                region_id=cell.region_id,
                service_id=cell.service_id,
                period_start=window.start,
            )
        )
    return out


def check_missed_standards(
    session: Session, last_week: date, periods: int = MISSED_PERIODS
) -> list[AlertSpec]:
    start = last_week - timedelta(weeks=26)
    rows = session.execute(
        select(
            KpiValue.definition_id,
            KpiValue.service_id,
            KpiValue.region_id,
            KpiValue.period_start,
            KpiValue.met,
        )
        .where(
            KpiValue.granularity == Granularity.WEEK,
            KpiValue.period_start >= start,
            KpiValue.period_start <= last_week,
            KpiValue.met.is_not(None),
        )
        .order_by(KpiValue.period_start)
    ).all()
    series: dict[tuple[int, int, int], dict[date, bool]] = defaultdict(dict)
    by_week: dict[tuple[int, int, int], dict[date, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for d, s, r, p, met in rows:
        by_week[(d, s, r)][p].append(bool(met))
    for key, weeks_met in by_week.items():
        # Tiers pooled by the one rule the KPI pages use (scoring.pooled_met): a week is missed
        # when any tier missed its own target.
        series[key] = {p: bool(pooled_met(mets)) for p, mets in weeks_met.items()}
    names = load_names(session, customers=False)
    kpis = {
        i: (code, zh or code, en or code)
        for i, code, zh, en in session.execute(
            select(KpiDefinition.id, KpiDefinition.code, KpiDefinition.name_zh, KpiDefinition.name_en)
        )
    }
    out = []
    for (d, s, r), weeks in sorted(series.items()):
        ordered = sorted(weeks)
        streak: list[date] = []
        for p in reversed(ordered):
            if weeks[p]:
                break
            streak.insert(0, p)
        if len(streak) < periods or ordered[-1] != last_week:
            continue
        region, service = names.region(r), names.service(s)
        code, name_zh, name_en = kpis.get(d, (str(d), str(d), str(d)))
        since = iso_week_label(streak[0])
        out.append(
            AlertSpec(
                kind=AlertKind.STANDARD_MISSED,
                occurrence_key=f"standard_missed:{code}:{service.code}:{region.code}:{streak[0].isoformat()}",
                message_zh=f"{service.name_zh}·{region.name_zh} 的指标“{name_zh}”自 {since} "
                f"起已连续 {len(streak)} 周未达标",
                message_en=f"“{name_en}” for {service.name_en} in {region.name_en} has missed its target "
                f"for {len(streak)} weeks in a row since {since}",
                evidence_url=_url("kpis", region=r, service=s, **{"from": streak[0].isoformat()}),
                region_id=r,
                service_id=s,
                period_start=streak[0],
            )
        )
    return out


def check_missing_reports(session: Session, last_week: date, now: datetime) -> list[AlertSpec]:
    """``now`` (naive UTC) decides which reports are past their deadline."""
    from perception.collection.services.board import Completeness, completeness

    names = load_names(session, customers=False)
    out = []
    for cell in completeness(session, last_week, last_week, now=now):
        if cell.state != Completeness.MISSING:
            continue
        point = session.get(CollectionPoint, cell.collection_point_id)
        if point is None:
            continue
        region = names.region(cell.region_id)
        week = iso_week_label(cell.week_start)
        out.append(
            AlertSpec(
                kind=AlertKind.MISSING_REPORTS,
                occurrence_key=f"missing_reports:{point.code}:{cell.week_start.isoformat()}",
                message_zh=f"{region.name_zh}（{point.name_zh}）{week} 的采集报告逾期未交",
                message_en=f"{region.name_en} ({point.name_en}): the collection report for {week} is missing",
                evidence_url=f"/collection/board?week={cell.week_start.isoformat()}",
                region_id=cell.region_id,
                period_start=cell.week_start,
                extra_recipients=tuple(i for i in (point.lead_id, point.organiser_id) if i is not None),
            )
        )
    return out


def check_alerts(session: Session, clock: Clock, *, base_url: str, use_rollup: bool = True) -> list[Alert]:
    """Run every check for the last complete ISO week of the organisation's ``clock`` and raise
    what it found; returns the alerts that are new. ``base_url`` (PUBLIC_BASE_URL) goes into the
    emails' links, ``use_rollup`` (ANALYSIS_ROLLUP) into the experience aggregates."""
    last_week = clock.week_start() - timedelta(weeks=1)
    found = check_experience_drops(session, last_week)
    found += check_new_watermelons(session, last_week, use_rollup=use_rollup)
    found += check_missed_standards(session, last_week)
    found += check_missing_reports(session, last_week, clock.now())
    raised = (raise_alert(session, spec, base_url=base_url) for spec in found)
    return [alert for alert in raised if alert is not None]
