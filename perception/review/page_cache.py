"""The review page opens at once: its slow sections are computed ahead, with their charts drawn.

Three sections take seconds on a real organisation (the data's health, the standards, KPI versus
experience: about 2.5 s of queries and 1.2 s of charts on the demo under load); the others
(demand, improvements, findings, the register and the summary) take milliseconds and change with
every finding written on the page, so they are always computed live. The slow ones are stored per
review (``ReviewSectionCache``) with their page view in both languages, by the job
``prepare_review_page``: hourly for every review (the phase's periodic ``prepare_review_pages``),
and whenever the page finds its copy missing or older than REVIEW_PAGE_MAX_AGE_SECONDS. A signed
review's copy never ages: it was computed from the frozen snapshot (``basis``, its hash).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.review.models import Review, ReviewSectionCache
from perception.review.services.blocks import Lang
from perception.review.services.sections import SectionContext, builders, compute_content, previous_review
from perception.review.views.render import render_content

SLOW_SECTIONS = ("health", "standards", "kpi_experience")


@dataclass(frozen=True)
class CachedSections:
    content: dict[str, dict[str, Any]]  # code -> section content
    views: dict[str, dict[str, Any]]  # code -> the section's page view in the asked language
    computed_at: datetime
    fresh: bool


def _basis(review: Review) -> str | None:
    return review.snapshot_sha256 if review.signed else None


def load(
    session: Session, review: Review, lang: Lang, now: datetime, max_age: float
) -> CachedSections | None:
    """The slow sections computed ahead, when all are there and made from what the review now is."""
    rows = session.scalars(
        select(ReviewSectionCache).where(
            ReviewSectionCache.review_id == review.id, ReviewSectionCache.code.in_(SLOW_SECTIONS)
        )
    ).all()
    if len(rows) != len(SLOW_SECTIONS) or any(r.basis != _basis(review) for r in rows):
        return None
    oldest = min(r.computed_at for r in rows)
    fresh = review.signed or oldest >= now - timedelta(seconds=max_age)
    return CachedSections(
        content={r.code: r.content for r in rows},
        views={r.code: (r.view_zh if lang == "zh" else r.view_en) for r in rows},
        computed_at=oldest,
        fresh=fresh,
    )


def _view(section: dict[str, Any], lang: Lang, font_path: str | None) -> dict[str, Any]:
    return render_content({"sections": [section]}, lang, font_path)["sections"][0]  # type: ignore[no-any-return]


def prepare(session: Session, review: Review, *, today: date, now: datetime, font_path: str | None) -> int:
    """Compute the slow sections of ``review`` with their views and store them; returns how many."""
    if review.signed and review.snapshot is not None:
        sections = {
            s["code"]: s for s in review.snapshot.get("sections", []) if s.get("code") in SLOW_SECTIONS
        }
    else:
        ctx = SectionContext(session, review, today, now, previous_review(session, review))
        sections = {code: builders()[code](ctx) for code in SLOW_SECTIONS}
    stored = {
        r.code: r
        for r in session.scalars(select(ReviewSectionCache).where(ReviewSectionCache.review_id == review.id))
    }
    for code, section in sections.items():
        row = stored.get(code) or ReviewSectionCache(review_id=review.id, code=code)
        row.basis = _basis(review)
        row.computed_at = now
        row.content = section
        row.view_zh = _view(section, "zh", font_path)
        row.view_en = _view(section, "en", font_path)
        session.add(row)
    session.flush()
    return len(sections)


def page(
    session: Session,
    review: Review,
    lang: Lang,
    *,
    today: date,
    now: datetime,
    font_path: str | None,
    max_age: float,
) -> tuple[dict[str, Any], dict[str, Any], CachedSections | None]:
    """The review page's content and view: the slow sections from their copy computed ahead when
    there is one (the rest live), else everything live. Also returns the copy used, if any."""
    cached = load(session, review, lang, now, max_age)
    if review.signed and review.snapshot is not None:
        content = review.snapshot
    elif cached is not None:
        content = compute_content(session, review, today=today, precomputed=cached.content)
        content["computed_at"] = cached.computed_at.replace(microsecond=0).isoformat()
    else:
        content = compute_content(session, review, today=today)
    if cached is None:
        return content, render_content(content, lang, font_path), None
    light = {**content, "sections": [s for s in content["sections"] if s["code"] not in SLOW_SECTIONS]}
    view = render_content(light, lang, font_path)
    by_code = {s["code"]: s for s in view["sections"]} | cached.views
    order = [s["code"] for s in content["sections"]]
    if content.get("register"):
        order.append(content["register"]["code"])
    view["sections"] = [by_code[code] for code in order if code in by_code]
    return content, view, cached
