"""The executive summary: the three things that matter most in a review, computed from its sections.

Ranking rule (documented so reviewers can argue with it):

1. Candidates come in three categories, in this order of weight, because the system exists to
   catch customer harm that internal KPIs hide, then to catch customer harm in general, and only
   then to keep its own machinery running:
   a. evidenced watermelons (KPI met, experience missed, interval excludes the target, n >= 30),
      in the analysis' rank order (largest relative shortfall first), one per service x region
      cell (the cell's best-ranked KPI);
   b. regions whose CSAT dropped significantly against the previous period (two-proportion z
      test, p < 0.05), largest drop first;
   c. collection points with incomplete weekly reporting, lowest completeness first (ties: more
      missing weeks first).
2. The summary takes the top candidate of a, b and c (those that exist), in that order.
3. Free places are filled, in order, from: the remaining candidates of a, then b; standards that
   look infeasible or too weak; overdue improvement items; watermelons not yet evidenced; the
   remaining candidates of c.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perception.review.services.blocks import pick, t


def _facts(content: Mapping[str, Any], code: str) -> dict[str, Any]:
    for sec in [*content.get("sections", []), content.get("register") or {}]:
        if sec.get("code") == code:
            facts: dict[str, Any] = sec.get("facts", {})
            return facts
    return {}


def _watermelon(f: Mapping[str, Any]) -> dict[str, Any]:
    def value(v: float) -> str:
        return f"{v * 100:.1f}%" if f.get("share") else f"{v:.2f}"

    evidence_zh = "证据充分" if f["evidenced"] else "尚无充分证据"
    evidence_en = "evidenced" if f["evidenced"] else "not yet evidenced"
    est, target = value(f["estimate"]), value(f["target"])
    return {
        "kind": "watermelon",
        "section": "kpi_experience",
        "key": f["key"],
        "text": t(
            f"西瓜效应：{pick(f['service'], 'zh')} · "
            f"{pick(f['region'], 'zh')} 的 {pick(f['kpi'], 'zh')}达标，"
            f"但用户体验只有 {est}，低于目标 {target}（n={f['n']}，{evidence_zh}）。",
            f"Watermelon: {pick(f['service'], 'en')} · "
            f"{pick(f['region'], 'en')} meets {pick(f['kpi'], 'en')} "
            f"but experience is {est} against a target of {target} (n={f['n']}, {evidence_en}).",
        ),
    }


def _drop(f: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": "drop",
        "section": "kpi_experience",
        "key": f["key"],
        "text": t(
            f"{pick(f['region'], 'zh')} 的满意度 CSAT 从 "
            f"{f['before'] * 100:.1f}% 降至 {f['after'] * 100:.1f}%"
            f"（{f['difference'] * 100:+.1f} 个百分点，p = {f['p_value']:.3g}），下降显著。",
            f"CSAT in {pick(f['region'], 'en')} fell from "
            f"{f['before'] * 100:.1f}% to {f['after'] * 100:.1f}% "
            f"({f['difference'] * 100:+.1f} pp, p = {f['p_value']:.3g}): a significant drop.",
        ),
    }


def _point(f: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": "completeness",
        "section": "health",
        "key": f["key"],
        "text": t(
            f"采集点 {pick(f['point'], 'zh')}（{pick(f['region'], 'zh')}）每周报告完整率仅 "
            f"{f['rate'] * 100:.1f}%："
            f"{f['counted']} 周中缺交 {f['missing']} 周、迟交 {f['late']} 周。",
            f"Collection point {pick(f['point'], 'en')} ({pick(f['region'], 'en')}) submitted only "
            f"{f['rate'] * 100:.1f}% of its weekly reports: {f['missing']} missing and {f['late']} late "
            f"of {f['counted']} weeks.",
        ),
    }


def _standard(f: Mapping[str, Any]) -> dict[str, Any]:
    reason = f["reason"]
    return {
        "kind": "standard",
        "section": "standards",
        "key": f["key"],
        "text": t(f"标准 {f['code']}：{reason['zh']}", f"Standard {f['code']}: {reason['en']}"),
    }


def _overdue(f: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": "overdue_improvement",
        "section": "improvements",
        "key": f["key"],
        "text": t(
            f"改进事项 {f['code']}“{pick(f['title'], 'zh')}”已逾期未完成。",
            f"Improvement {f['code']} '{pick(f['title'], 'en')}' is overdue.",
        ),
    }


def candidates(content: Mapping[str, Any]) -> tuple[list[list[dict[str, Any]]], list[dict[str, Any]]]:
    """(the three ranked categories a, b, c; the ordered fillers) — see the module docstring."""
    kpi = _facts(content, "kpi_experience")
    melons, cells = [], set()
    for f in sorted(kpi.get("watermelons", []), key=lambda f: f.get("rank") or 0):
        cell = (str(f["service"]), str(f["region"]))
        if cell not in cells:
            cells.add(cell)
            melons.append(f)
    evidenced = [_watermelon(f) for f in melons if f["evidenced"]]
    unevidenced = [_watermelon(f) for f in melons if not f["evidenced"]]
    drops = [_drop(f) for f in sorted(kpi.get("drops", []), key=lambda f: f["difference"])]
    points = [
        _point(f)
        for f in sorted(_facts(content, "health").get("points", []), key=lambda f: (f["rate"], -f["missing"]))
        if f["rate"] < 1.0
    ]
    standards = [_standard(f) for f in _facts(content, "standards").get("flags", [])]
    overdue = [_overdue(f) for f in _facts(content, "improvements").get("overdue", [])]
    categories = [evidenced, drops, points]
    fillers = evidenced[1:] + drops[1:] + standards + overdue + unevidenced + points[1:]
    return categories, fillers


def top_three(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The summary items, each with its rank, kind, bilingual text and evidence (section, key)."""
    categories, fillers = candidates(content)
    chosen = [category[0] for category in categories if category]
    for item in fillers:
        if len(chosen) >= 3:
            break
        if item not in chosen:
            chosen.append(item)
    return [{"rank": i + 1, **item} for i, item in enumerate(chosen[:3])]
