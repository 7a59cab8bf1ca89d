"""Review section 2, service standards: attainment per standard over the period, the standards
that look infeasible or too weak, and the standards changed during the period.

History of a standard in the period: one value per ISO week (weeks whose Monday lies in the
period). KPI standards (measured by a KPI feed): the weekly KpiValue rows stored against one of
the standard's versions, pooled over regions weighted by their n. Experience standards: the
period's ExperienceObservation rows of the standard's service (and tier/customer when the
standard is bound to one): csat_share = top-2 share, csat_mean / ces_mean / dimension rating =
mean, nps = 100 (P - D) / n. Shares are scaled to percent when the target is written in percent.

Attainment: ``scoring.standard_attainment`` of the weekly values against the target of the
version in force in each week. Feasibility: the one definition the setup check and the propose gate
use (setup_standards.measured_history, issue 14): the rule of the version in force at the end
replayed on the raw history it speaks of over the review period's complete periods (the service's
tickets for a ticket rule, the answers for an experience rule; a representative's view replays on
its own organisation's), judged by ``scoring.check_principles``; the section states per standard the
value per period, the best, median and latest period with their n, and the threshold the history
supports. No history to replay: "feasibility unproven", never feasible.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Float, case, cast, func, or_, select

from perception.core.models.facts import ExperienceObservation
from perception.review.services.blocks import column, paragraph, section, t, table
from perception.review.services.sections import SECTION_TITLES, SectionContext
from perception.setup.models.standards import (
    IN_FORCE_STATUSES,
    ServiceStandard,
    StandardVersion,
)
from perception.setup.services.standards import History, ReplayScope, measured_history, to_spec
from scoring import check_principles, standard_attainment
from scoring.feasibility import ReplayedHistory, supported_thresholds

EXPERIENCE_KIND = {
    "csat_share": ("csat", "share"),
    "csat_mean": ("csat", "mean"),
    "nps": ("nps", "nps"),
    "ces_mean": ("ces", "mean"),
    "dimension_rating_mean": ("rating", "mean"),
}


def is_share(metric: str) -> bool:
    return metric.endswith("_share") or metric.endswith("_rate")


def _scale(version: StandardVersion) -> float:
    """Values are computed as 0..1 shares; a target written in percent needs them x100."""
    target = version.target or 0.0
    if is_share(version.metric or "") and (target > 1.0 or (version.unit or "") in ("%", "percent", "％")):
        return 100.0
    return 1.0


def _versions(ctx: SectionContext) -> dict[int, list[StandardVersion]]:
    stmt = (
        select(StandardVersion)
        .join(ServiceStandard, ServiceStandard.id == StandardVersion.standard_id)
        .where(
            ServiceStandard.active.is_(True),
            StandardVersion.status.in_(IN_FORCE_STATUSES),
            StandardVersion.effective_from.is_not(None),
            StandardVersion.effective_from < ctx.end,
            or_(StandardVersion.effective_to.is_(None), StandardVersion.effective_to > ctx.start),
        )
        .order_by(ServiceStandard.code, StandardVersion.version)
    )
    out: dict[int, list[StandardVersion]] = defaultdict(list)
    for version in ctx.session.scalars(stmt):
        out[version.standard_id].append(version)
    return out


def _in_force(versions: list[StandardVersion], day: date) -> StandardVersion | None:
    for v in versions:
        if (
            v.effective_from is not None
            and v.effective_from <= day
            and (v.effective_to is None or v.effective_to > day)
        ):
            return v
    return None


def _kpi_history(ctx: SectionContext, versions: list[StandardVersion]) -> dict[date, float]:
    """Weekly n-weighted mean of the KPI values stored against the versions, as a ratio for
    KPIs kept in percent (KpiDefinition.unit "%")."""
    from perception.kpi.models import KpiDefinition, KpiValue

    weight = func.coalesce(KpiValue.n, 1)
    ratio = case((KpiDefinition.unit.in_(("%", "percent", "％")), 0.01), else_=1.0)
    rows = ctx.session.execute(
        select(
            KpiValue.period_start, func.sum(cast(KpiValue.value, Float) * weight * ratio), func.sum(weight)
        )
        .join(KpiDefinition, KpiDefinition.id == KpiValue.definition_id)
        .where(
            KpiValue.standard_version_id.in_([v.id for v in versions]),
            KpiValue.granularity == "week",
            KpiValue.value.is_not(None),
            KpiValue.period_start >= ctx.week_start,
            KpiValue.period_start < ctx.week_end,
        )
        .group_by(KpiValue.period_start)
    )
    return {week: total / n for week, total, n in rows if n}


def _experience_history(
    ctx: SectionContext, standard: ServiceStandard, version: StandardVersion, customer_id: int | None = None
) -> dict[date, float]:
    kind, measure = EXPERIENCE_KIND[version.metric]
    obs = ExperienceObservation
    value = cast(obs.value, Float)
    stmt = select(
        obs.period_start,
        func.count(obs.id),
        func.sum(value),
        func.sum(case((obs.value > obs.scale_max - 2, 1), else_=0)),
        func.sum(case((obs.value >= 9, 1), else_=0)),
        func.sum(case((obs.value <= 6, 1), else_=0)),
    ).where(
        obs.kind == kind,
        obs.service_id == standard.service_id,
        obs.period_start >= ctx.week_start,
        obs.period_start < ctx.week_end,
    )
    if version.metric == "dimension_rating_mean":
        stmt = stmt.where(obs.dimension == version.dimension)
    if customer_id is not None or standard.customer_id is not None:
        stmt = stmt.where(obs.customer_id == (customer_id or standard.customer_id))
    if standard.tier_id is not None:
        stmt = stmt.where(obs.tier_id == standard.tier_id)
    out: dict[date, float] = {}
    for week, n, total, top, promoters, detractors in ctx.session.execute(stmt.group_by(obs.period_start)):
        if not n:
            continue
        if measure == "share":
            out[week] = (top or 0) / n
        elif measure == "nps":
            out[week] = 100.0 * ((promoters or 0) - (detractors or 0)) / n
        else:
            out[week] = (total or 0.0) / n
    return out


def _history(
    ctx: SectionContext,
    standard: ServiceStandard,
    versions: list[StandardVersion],
    customer_id: int | None = None,
) -> dict[date, float] | None:
    """The weekly values; with ``customer_id`` that customer's own (None: not measured per
    customer, as a KPI feed's values are per region)."""
    latest = versions[-1]
    if latest.measured_by == "kpi" and latest.metric not in EXPERIENCE_KIND:
        return None if customer_id is not None else _kpi_history(ctx, versions)
    if latest.metric in EXPERIENCE_KIND:
        return _experience_history(ctx, standard, latest, customer_id)
    return None  # servqual gap, sampling agreement ...: not measured weekly here


def _kpi_histories(ctx: SectionContext, wanted: list[list[StandardVersion]]) -> dict[int, dict[date, float]]:
    """``_kpi_history`` of many standards in one query (one per standard was a scan of the period's
    KPI values each: minutes at national scale): standard id -> its weekly values. The same rows
    per standard, summed in the database per standard and week."""
    from perception.kpi.models import KpiDefinition, KpiValue

    ids = [v.id for versions in wanted for v in versions]
    out: dict[int, dict[date, float]] = {versions[0].standard_id: {} for versions in wanted}
    if not ids:
        return out
    weight = func.coalesce(KpiValue.n, 1)
    ratio = case((KpiDefinition.unit.in_(("%", "percent", "％")), 0.01), else_=1.0)
    rows = ctx.session.execute(
        select(
            StandardVersion.standard_id,
            KpiValue.period_start,
            func.sum(cast(KpiValue.value, Float) * weight * ratio),
            func.sum(weight),
        )
        .join(KpiDefinition, KpiDefinition.id == KpiValue.definition_id)
        .join(StandardVersion, StandardVersion.id == KpiValue.standard_version_id)
        .where(
            KpiValue.standard_version_id.in_(ids),
            KpiValue.granularity == "week",
            KpiValue.value.is_not(None),
            KpiValue.period_start >= ctx.week_start,
            KpiValue.period_start < ctx.week_end,
        )
        .group_by(StandardVersion.standard_id, KpiValue.period_start)
    )
    for standard_id, week, total, n in rows:
        if n:
            out[standard_id][week] = total / n
    return out


def _experience_histories(
    ctx: SectionContext, wanted: list[tuple[ServiceStandard, StandardVersion]]
) -> dict[int, dict[date, float]]:
    """``_experience_history`` of many standards bound to no customer, from one query: the
    period's answers of their kinds and services counted per kind, dimension, service, tier and
    week, then summed per standard over the dimensions and tiers it does not name (counts are
    integers; the sums of values are exact for whole-number answers, else equal to 1e-12)."""
    out: dict[int, dict[date, float]] = {standard.id: {} for standard, _ in wanted}
    if not wanted:
        return out
    obs = ExperienceObservation
    value = cast(obs.value, Float)
    kinds = sorted({EXPERIENCE_KIND[v.metric][0] for _, v in wanted})
    services = sorted({s.service_id for s, _ in wanted if s.service_id is not None})
    null_service = any(s.service_id is None for s, _ in wanted)
    service_filter: Any = obs.service_id.in_(services)
    if null_service:
        service_filter = or_(service_filter, obs.service_id.is_(None))
    rows = ctx.session.execute(
        select(
            obs.kind,
            obs.dimension,
            obs.service_id,
            obs.tier_id,
            obs.period_start,
            func.count(obs.id),
            func.sum(value),
            func.sum(case((obs.value > obs.scale_max - 2, 1), else_=0)),
            func.sum(case((obs.value >= 9, 1), else_=0)),
            func.sum(case((obs.value <= 6, 1), else_=0)),
        )
        .where(
            obs.kind.in_(kinds),
            service_filter,
            obs.period_start >= ctx.week_start,
            obs.period_start < ctx.week_end,
        )
        .group_by(obs.kind, obs.dimension, obs.service_id, obs.tier_id, obs.period_start)
    ).all()
    by_key: dict[tuple[str, int | None], list[Any]] = defaultdict(list)
    for row in rows:
        by_key[(row[0], row[2])].append(row)
    for standard, version in wanted:
        kind, measure = EXPERIENCE_KIND[version.metric]
        sums: dict[date, list[Any]] = {}
        for _kind, dimension, _service, tier_id, week, n, total, top, promoters, detractors in by_key.get(
            (kind, standard.service_id), []
        ):
            if version.metric == "dimension_rating_mean" and dimension != version.dimension:
                continue
            if standard.tier_id is not None and tier_id != standard.tier_id:
                continue
            acc = sums.setdefault(week, [0, [], 0, 0, 0])
            acc[0] += n or 0
            acc[1].append(total or 0.0)
            acc[2] += top or 0
            acc[3] += promoters or 0
            acc[4] += detractors or 0
        history = out[standard.id]
        for week in sorted(sums):
            n, totals, top, promoters, detractors = sums[week]
            if not n:
                continue
            if measure == "share":
                history[week] = top / n
            elif measure == "nps":
                history[week] = 100.0 * (promoters - detractors) / n
            else:
                history[week] = math.fsum(totals) / n
    return out


def _histories(
    ctx: SectionContext, all_versions: list[list[StandardVersion]], customer_id: int | None
) -> dict[int, dict[date, float] | None]:
    """``_history`` of every standard of ``all_versions`` (standard id -> weekly values or None),
    the KPI ones and the experience ones of no customer each from one query."""
    out: dict[int, dict[date, float] | None] = {}
    kpi: list[list[StandardVersion]] = []
    experience: list[tuple[ServiceStandard, StandardVersion]] = []
    for versions in all_versions:
        standard, latest = versions[0].standard, versions[-1]
        if latest.measured_by == "kpi" and latest.metric not in EXPERIENCE_KIND:
            if customer_id is None:
                kpi.append(versions)
            else:
                out[standard.id] = None
        elif latest.metric in EXPERIENCE_KIND:
            if customer_id is None and standard.customer_id is None:
                experience.append((standard, latest))
            else:
                out[standard.id] = _experience_history(ctx, standard, latest, customer_id)
        else:
            out[standard.id] = None
    out.update(_kpi_histories(ctx, kpi))
    out.update(_experience_histories(ctx, experience))
    return out


def _target_text(version: StandardVersion) -> str:
    unit = version.unit or ""
    suffix = "%" if unit in ("%", "percent", "％") else f" {unit}" if unit else ""
    return f"{version.comparator} {version.target:g}{suffix}" if version.target is not None else "—"


VERDICTS = {
    "feasible_unreachable": t("回放历史：不可达", "unreachable on its history"),
    "feasible_too_weak": t("回放历史：过低", "too weak on its history"),
    "feasible_ok": t("回放历史：可行", "feasible on its history"),
    "feasible_no_history": t("无可回放的历史：可行性未经证明", "no history to replay: feasibility unproven"),
    "feasible_no_procedure": t("缺少工作流程", "no procedure"),
    "feasible_no_target": t("没有数值目标，无法检验", "no numeric target to check"),
}


def _verdict(code: str) -> dict[str, str]:
    """The feasibility verdict's label in both languages (never the internal code)."""
    return VERDICTS.get(code, t("未判定", "not judged"))


def _period(value: float, unit: str, n: int | None, period: str | None) -> str:
    shown = f"{value:.3g}%" if unit in ("%", "％") else f"{value:.3g}{f' {unit}' if unit else ''}"
    parts = [p for p in (f"n={n}" if n is not None else "", period or "") if p]
    return f"{shown} ({', '.join(parts)})" if parts else shown


def _replay_cells(history: History | None) -> dict[str, Any]:
    """The replay's figures for the row: what was replayed, per period, best, median, latest (with
    their n) and the thresholds the history supports; measured values without n (an imported KPI)
    are shown as they are."""
    empty = {"replayed_on": None, "periods": None, "per_period": None, "best": None, "median": None,
             "latest": None, "summary": None, "supported": None}  # fmt: skip
    if isinstance(history, ReplayedHistory):
        best, median, latest = history.best(), history.median(), history.latest()
        if best is None or median is None or latest is None:
            return empty | {"replayed_on": t(history.what_zh, history.what_en), "periods": 0}
        u, k = history.unit, len(history.periods)
        cells = {
            "best": _period(best.value, u, best.n, best.period),
            "median": _period(median.value, u, median.n, median.period),
            "latest": _period(latest.value, u, latest.n, latest.period),
        }
        ns = sorted(p.n for p in history.periods)
        n_zh = f"每期 n={ns[0]}" if ns[0] == ns[-1] else f"n={ns[0]}–{ns[-1]}"
        n_en = f"n={ns[0]} each" if ns[0] == ns[-1] else f"n={ns[0]}–{ns[-1]}"
        shares = " · ".join(_period(p.value, u, None, None) for p in history.periods)
        span = f"{history.periods[0].period} – {history.periods[-1].period}"
        return {
            "replayed_on": t(history.what_zh, history.what_en),
            "periods": k,
            "per_period": t(f"{span}：{shares}（{n_zh}）", f"{span}: {shares} ({n_en})"),
            **cells,
            "summary": t(
                f"{k} 期：最好 {cells['best']}；中位 {cells['median']}；最近 {cells['latest']}",
                f"{k} periods: best {cells['best']}; median {cells['median']}; latest {cells['latest']}",
            ),
            "supported": t(
                "；".join(supported_thresholds(history, "zh")), "; ".join(supported_thresholds(history))
            ),
        }
    values = [float(v) for v in (history or [])]
    if not values:
        return empty | {"periods": 0}
    ordered = sorted(values)
    top, middle, last = f"{max(values):.3g}", f"{ordered[(len(ordered) - 1) // 2]:.3g}", f"{values[-1]:.3g}"
    return empty | {
        "replayed_on": t("本期每周的 KPI 值", "the period's weekly KPI values"),
        "periods": len(values),
        "per_period": " · ".join(f"{v:.3g}" for v in values),
        "best": top,
        "median": middle,
        "latest": last,
        "summary": t(
            f"{len(values)} 期：最好 {top}；中位 {middle}；最近 {last}",
            f"{len(values)} periods: best {top}; median {middle}; latest {last}",
        ),
    }


def _standard_rows(
    ctx: SectionContext, customer_id: int | None = None, codes: frozenset[str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    flags: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    weeks = [ctx.week_start + timedelta(weeks=i) for i in range((ctx.week_end - ctx.week_start).days // 7)]
    scope = ReplayScope(ctx.start, ctx.end, customer_id)  # one scope: the period's tickets are read once
    chosen = [vs for vs in _versions(ctx).values() if codes is None or vs[0].standard.code in codes]
    histories = _histories(ctx, chosen, customer_id)
    for versions in chosen:
        standard, latest = versions[0].standard, versions[-1]
        key = f"standard:{standard.code}"
        history = histories[standard.id]
        attainment = None
        if history is not None and latest.comparator and latest.target is not None:
            measured = [w for w in weeks if w in history]
            scale = _scale(latest)
            values = [history[w] * scale for w in measured]
            targets = [(v.target if (v := _in_force(versions, w)) else None) for w in measured]
            attainment = standard_attainment(measured, values, latest.comparator, targets)
        replay = measured_history(ctx.session, latest, scope)
        feasible = (
            None
            if replay is None and customer_id is not None
            else check_principles(to_spec(latest), replay).result("feasible")
        )
        row = {
            "_key": key,
            "code": standard.code,
            "service": ctx.name("service", standard.service_id),
            "statement": t(latest.statement_zh or "", latest.statement_en or ""),
            "target": _target_text(latest),
            "weeks": attainment.n_measured if attainment else None,
            "share_met": attainment.share_met if attainment else None,
            "mean_margin": attainment.mean_margin if attainment else None,
            "verdict": _verdict(feasible.code)
            if feasible
            else t("未单独衡量贵单位", "not measured for your organisation alone"),
            "feasibility": t(feasible.reason_zh, feasible.reason_en) if feasible else None,
            **_replay_cells(replay),
        }
        rows.append(row)
        if feasible is not None and feasible.code in ("feasible_unreachable", "feasible_too_weak"):
            flags.append(
                {
                    "key": key,
                    "code": standard.code,
                    "verdict": feasible.code,
                    "reason": t(feasible.reason_zh, feasible.reason_en),
                    "service": row["service"],
                }
            )
        for before, after in zip(versions, versions[1:], strict=False):
            if after.effective_from is not None and ctx.start <= after.effective_from < ctx.end:
                changes.append(
                    {
                        "_key": f"standard_change:{standard.code}:v{after.version}",
                        "code": standard.code,
                        "version": f"v{before.version} → v{after.version}",
                        "before": _target_text(before),
                        "after": _target_text(after),
                        "effective_from": after.effective_from.isoformat(),
                        "statement": t(after.statement_zh or "", after.statement_en or ""),
                    }
                )
        first = versions[0]
        if (
            first.version == 1
            and first.effective_from is not None
            and ctx.start <= first.effective_from < ctx.end
        ):
            changes.append(
                {
                    "_key": f"standard_change:{standard.code}:v1",
                    "code": standard.code,
                    "version": "v1",
                    "before": t("（新标准）", "(new)"),
                    "after": _target_text(first),
                    "effective_from": first.effective_from.isoformat(),
                    "statement": t(first.statement_zh or "", first.statement_en or ""),
                }
            )
    return rows, flags, changes


def customer_rows(ctx: SectionContext, customer_id: int, codes: frozenset[str]) -> list[dict[str, Any]]:
    """Attainment rows of the standards ``codes`` from ``customer_id``'s own data (a customer
    representative's view of a general standard: their organisation's answers, not the
    service's over all customers)."""
    rows, _flags, _changes = _standard_rows(ctx, customer_id, codes)
    return rows


def build(ctx: SectionContext) -> dict[str, Any]:
    rows, flags, changes = _standard_rows(ctx)
    code, service = column("code", t("标准", "Standard")), column("service", t("服务", "Service"))
    unproven = sum(1 for r in rows if r["verdict"] == VERDICTS["feasible_no_history"])
    blocks = [
        paragraph(
            t(
                f"本期共有 {len(rows)} 项标准生效，{len(flags)} "
                "项把规则回放到其所指的原始历史上看似不可达或过低，"
                f"{unproven} 项没有可回放的历史（可行性未经证明），{len(changes)} 项在本期新增或变更。",
                f"{len(rows)} standards were in force in the period; {len(flags)} look unreachable or too "
                f"weak with their rule replayed on the raw history it speaks of; {unproven} have no history "
                f"to replay (feasibility unproven); {len(changes)} were added or changed during the period.",
            )
        ),
        table(
            "attainment",
            t("各标准的达成情况（按周）", "Attainment per standard (weekly)"),
            [
                code,
                service,
                column("target", t("目标", "Target")),
                column("weeks", t("衡量周数", "Weeks"), "int"),
                column("share_met", t("达标周占比", "Weeks met"), "pct"),
                column("mean_margin", t("平均余量", "Mean margin"), "num2"),
                column("verdict", t("可行性", "Feasibility")),
            ],
            rows,
            weights=[1.2, 1.6, 1.2, 0.8, 1, 1, 1.3],
        ),
        table(
            "feasibility",
            t(
                "可行性：把规则回放到其所指的原始历史上（工单或回答，按本期完整周期）",
                "Feasibility: each rule replayed on the raw history it speaks of (tickets or answers, "
                "the period's complete periods)",
            ),
            [
                code,
                column("replayed_on", t("回放的历史", "Replayed on")),
                column("per_period", t("每期的值", "Value per period")),
                column("summary", t("最好、中位、最近（n）", "Best, median, latest (n)")),
                column("supported", t("历史支持的目标", "Threshold the history supports")),
                column("verdict", t("可行性", "Feasibility")),
            ],
            [{**r, "_key": f"feasibility:{r['code']}"} for r in rows],
            weights=[1.4, 2, 2.6, 2.6, 1.8, 1.5],
        ),
        table(
            "flags",
            t(
                "回放历史后看似不可达或过低的标准（五项原则检查的“可行性”）",
                "Standards that look unreachable or too weak on their replayed history "
                "(five-principle check, 'feasible')",
            ),
            [code, service, column("reason", t("原因与建议", "Reason and advice"))],
            [
                {
                    "_key": f"flag:{f['code']}",
                    "code": f["code"],
                    "service": f["service"],
                    "reason": f["reason"],
                }
                for f in flags
            ],
            empty=t("没有看似不可达或过低的标准", "No standard looks unreachable or too weak"),
            weights=[1, 1.5, 5],
        ),
        table(
            "changes",
            t("本期变更的标准", "Standards changed during the period"),
            [
                code,
                column("version", t("版本", "Version")),
                column("before", t("原目标", "Before")),
                column("after", t("新目标", "After")),
                column("effective_from", t("生效日期", "Effective from")),
                column("statement", t("表述", "Statement")),
            ],
            changes,
            empty=t("本期没有标准变更", "No standard changed during the period"),
            weights=[1, 1, 1, 1, 1.1, 3],
        ),
    ]
    return section(
        "standards", SECTION_TITLES["standards"], blocks, {"flags": flags, "changed": len(changes)}
    )
