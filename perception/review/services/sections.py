"""Computing a review's content: the six sections, the improvement register and the summary.

``compute_content(session, review, today=...)`` calls one builder per section (modules
``section_*``), each of which reads the period's data through the other phases' services
and returns a JSON section (perception.review.services.blocks). ``content_for`` answers the
content to show: the frozen snapshot of a signed review, else the live computation.

Sections, in order: 1 system health, 2 standards, 3 KPI versus experience, 4 demand,
5 the previous review's improvement actions and their measured results, 6 findings and decisions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.models.base import utcnow
from perception.core.models.org import CollectionPoint, Region
from perception.review.models import Review
from perception.review.services.blocks import SCHEMA_VERSION, Text, clean, t
from perception.review.services.periods import previous_review
from perception.setup.models.catalog import Service

SECTION_TITLES: dict[str, Text] = {
    "health": t("一、体系运行状况", "1. System health"),
    "standards": t("二、服务标准", "2. Service standards"),
    "kpi_experience": t("三、KPI 与用户体验", "3. KPI versus experience"),
    "demand": t("四、需求", "4. Demand"),
    "improvements": t(
        "五、上期改进措施及其衡量结果", "5. Previous improvement actions and their measured results"
    ),
    "findings": t("六、发现与决定", "6. Findings and decisions"),
}
SECTION_CODES = tuple(SECTION_TITLES)


def monday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


@dataclass
class SectionContext:
    """What every section builder gets: the period, the previous review and a shared cache."""

    session: Session
    review: Review
    today: date
    now: datetime
    previous: Review | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def start(self) -> date:
        return self.review.period_start

    @property
    def end(self) -> date:
        return self.review.period_end

    @property
    def week_start(self) -> date:
        """First Monday on or after the period start: weeks belong to the period their Monday is in."""
        return monday_on_or_after(self.start)

    @property
    def week_end(self) -> date:
        """First Monday on or after the period end (exclusive)."""
        return monday_on_or_after(self.end)

    @property
    def last_week(self) -> date:
        return self.week_end - timedelta(weeks=1)

    @property
    def previous_content(self) -> dict[str, Any] | None:
        return self.previous.snapshot if self.previous is not None and self.previous.signed else None

    def names(self, kind: str) -> dict[int, dict[str, Any]]:
        """id -> {"code", "name": {"zh", "en"}} of regions, services or collection points (cached)."""
        if kind not in self.cache:
            model: Any = {"region": Region, "service": Service, "point": CollectionPoint}[kind]
            rows = self.session.execute(select(model.id, model.code, model.name_zh, model.name_en))
            self.cache[kind] = {i: {"code": c, "name": t(zh, en)} for i, c, zh, en in rows}
        table: dict[int, dict[str, Any]] = self.cache[kind]
        return table

    def name(self, kind: str, object_id: int | None) -> Text:
        if object_id is None:
            return t("全部", "all")
        entry = self.names(kind).get(object_id)
        return entry["name"] if entry else t(str(object_id), str(object_id))

    def code(self, kind: str, object_id: int | None) -> str:
        entry = self.names(kind).get(object_id) if object_id is not None else None
        return entry["code"] if entry else str(object_id)

    def previous_facts(self, code: str) -> dict[str, Any] | None:
        content = self.previous_content
        if not content:
            return None
        return next((s.get("facts", {}) for s in content.get("sections", []) if s.get("code") == code), None)


Builder = Callable[[SectionContext], dict[str, Any]]


def builders() -> dict[str, Builder]:
    from perception.review.services import section_demand as review_section_demand
    from perception.review.services import section_findings as review_section_findings
    from perception.review.services import section_health as review_section_health
    from perception.review.services import section_improvements as review_section_improvements
    from perception.review.services import section_kpi as review_section_kpi
    from perception.review.services import section_standards as review_section_standards

    return {
        "health": review_section_health.build,
        "standards": review_section_standards.build,
        "kpi_experience": review_section_kpi.build,
        "demand": review_section_demand.build,
        "improvements": review_section_improvements.build,
        "findings": review_section_findings.build,
    }


def compute_content(
    session: Session,
    review: Review,
    *,
    today: date,
    now: datetime | None = None,
    precomputed: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The review's content computed from the data now (what sign-off freezes). ``today`` is the
    organisation's date (what is overdue, how far the period has run); ``now`` stamps it.
    ``precomputed`` sections (computed ahead, perception.review.page_cache) are taken as given."""
    from perception.review.services import section_improvements as review_section_improvements
    from perception.review.services import summary as review_summary

    now = now or utcnow()
    ctx = SectionContext(session, review, today, now, previous_review(session, review))
    ready = precomputed or {}
    sections = [ready.get(code) or builders()[code](ctx) for code in SECTION_CODES]
    content: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "review": {
            "id": review.id,
            "code": review.code,
            "label": t(review.label_zh, review.label_en),
            "start": review.period_start.isoformat(),
            "end": review.period_end.isoformat(),
        },
        "previous": None
        if ctx.previous is None
        else {"code": ctx.previous.code, "label": t(ctx.previous.label_zh, ctx.previous.label_en)},
        "computed_at": now.replace(microsecond=0).isoformat(),
        "sections": sections,
        "register": review_section_improvements.register(ctx),
    }
    content["summary"] = review_summary.top_three(content)
    from perception.review.services.scorecard import scorecard

    content["scorecard"] = ready.get("scorecard") or scorecard(ctx)
    return clean(content)


def content_for(session: Session, review: Review, *, today: date) -> dict[str, Any]:
    """The frozen snapshot of a signed review; a live computation for an open one."""
    if review.signed and review.snapshot is not None:
        return review.snapshot
    return compute_content(session, review, today=today)


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys), to tell whether two renderings match."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def section_of(content: dict[str, Any], code: str) -> dict[str, Any] | None:
    return next((s for s in content.get("sections", []) if s.get("code") == code), None)
