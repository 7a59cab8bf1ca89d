"""The review page opens at once: its slow sections are computed ahead, once per change of their
inputs, and the page says when they were computed.

Five sections read the period's data at length or need heavy libraries (the data's health, the
standards, KPI versus experience: seconds on the demo, minutes at the scale of a national
provider; demand and the previous improvements' measured results: SciPy's tests and intervals,
a second to import on a cold start, and the facts of each item's windows); the others (findings,
the register, the scorecard and the summary) take milliseconds and change with every finding
written on the page, so they are always computed live. The slow ones are stored per
review (``ReviewSectionCache``) with their page view in both languages (charts drawn), by the job
``prepare_review_page``, together with the signature of their inputs
(perception.review.services.inputs): a copy is *current* while that signature is unchanged.

An open review's page (``page``) never computes the slow sections in the request when a worker
or a thread of the service can:
- a current copy is shown as it is ("computed at ...");
- an outdated copy is shown with a line saying the data changed since, and a new computation is
  queued (once: not while one is queued or running);
- without a copy, the slow sections say they are being computed, and one computation is queued.
Where nothing runs in the background (JOBS_BACKGROUND off: tests, benchmarks), anything but a
current copy is computed live, as before. The page offers a refresh (``request_page(force)``).

A signed review shows its frozen snapshot (taken at sign-off, perception.review.services.signoff);
its copy holds only the snapshot's drawn views and its ``basis`` is the snapshot's hash.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.review.models import Review, ReviewSectionCache
from perception.review.services.blocks import Lang, paragraph, t
from perception.review.services.inputs import signature
from perception.review.services.sections import (
    SECTION_TITLES,
    SectionContext,
    builders,
    compute_content,
    previous_review,
)
from perception.review.views.render import render_content

SLOW_SECTIONS = ("health", "standards", "kpi_experience", "demand", "improvements")
# Stored beside them: the executive scorecard (the PDF's first page, frozen at sign-off; the page
# does not show it, and its two period totals read every fact: seconds at national scale).
STORED = (*SLOW_SECTIONS, "scorecard")


class CopyState(enum.StrEnum):
    CURRENT = "current"  # the stored sections were computed from the inputs as they are now
    OUTDATED = "outdated"  # shown, but the inputs changed since: a new computation is queued
    PENDING = "pending"  # no copy yet: the slow sections are being computed
    LIVE = "live"  # computed in this request (nothing runs in the background)
    FROZEN = "frozen"  # a signed review's snapshot


@dataclass(frozen=True)
class CachedSections:
    content: dict[str, dict[str, Any]]  # code -> section content
    views: dict[str, dict[str, Any]]  # code -> the section's page view in the asked language
    computed_at: datetime
    fresh: bool  # made from the inputs as they are now (or from the signed snapshot)


@dataclass(frozen=True)
class PageState:
    state: CopyState
    computed_at: datetime | None  # when the slow sections shown were computed
    basis: str | None  # the inputs' current signature (open reviews)
    wants_copy: bool = False  # the stored copy is missing or outdated: ask for a new one


def current_basis(session: Session, review: Review, today: date) -> str | None:
    """What a current copy of ``review`` must have been computed from."""
    if review.signed:
        return review.snapshot_sha256
    return signature(session, today)


def load(session: Session, review: Review, lang: Lang, basis: str | None) -> CachedSections | None:
    """The slow sections computed ahead, when all are there (``fresh`` when made from ``basis``).
    A signed review's copy is used only when it was drawn from its snapshot."""
    # The asked language's view only: at a tenth of a national provider's size the stored sections
    # hold 8 MB of JSON, a third of it the other language's view (issue 19).
    cache = ReviewSectionCache
    view = cache.view_zh if lang == "zh" else cache.view_en
    rows = session.execute(
        select(cache.code, cache.basis, cache.computed_at, cache.content, view.label("view")).where(
            cache.review_id == review.id, cache.code.in_(STORED)
        )
    ).all()
    if len(rows) != len(STORED):
        return None
    fresh = all(r.basis == basis for r in rows)
    if review.signed and not fresh:
        return None  # figures of the open review: never shown for a signed one
    if not review.signed and any(r.basis is None or not r.basis.startswith("in:") for r in rows):
        return None  # not an open review's copy
    return CachedSections(
        content={r.code: r.content for r in rows},
        views={r.code: r.view for r in rows},
        computed_at=min(r.computed_at for r in rows),
        fresh=fresh,
    )


def _view(section: dict[str, Any], lang: Lang, font_path: str | None) -> dict[str, Any]:
    return render_content({"sections": [section]}, lang, font_path)["sections"][0]  # type: ignore[no-any-return]


def prepare(
    session: Session, review: Review, *, today: date, now: datetime, font_path: str | None, force: bool = True
) -> int:
    """Compute the slow sections of ``review`` with their views and store them with the signature
    of the inputs they were computed from; returns how many (0: the copy was current and not
    ``force``)."""
    basis = current_basis(session, review, today)
    stored = {
        r.code: r
        for r in session.scalars(select(ReviewSectionCache).where(ReviewSectionCache.review_id == review.id))
    }
    if not force and all(stored.get(code) and stored[code].basis == basis for code in STORED):
        return 0
    if review.signed and review.snapshot is not None:
        sections = {
            s["code"]: s for s in review.snapshot.get("sections", []) if s.get("code") in SLOW_SECTIONS
        }
        sections["scorecard"] = review.snapshot.get("scorecard") or {"blocks": []}
    else:
        from perception.review.services.scorecard import scorecard

        ctx = SectionContext(session, review, today, now, previous_review(session, review))
        sections = {code: builders()[code](ctx) for code in SLOW_SECTIONS}
        sections["scorecard"] = scorecard(ctx)
    for code, section in sections.items():
        row = stored.get(code) or ReviewSectionCache(review_id=review.id, code=code)
        row.basis = basis
        row.computed_at = now
        row.content = section
        drawn = code in SLOW_SECTIONS
        row.view_zh = _view(section, "zh", font_path) if drawn else {}
        row.view_en = _view(section, "en", font_path) if drawn else {}
        session.add(row)
    session.flush()
    return len(sections)


PENDING_TEXT = t(
    "本节正在后台计算，完成后刷新页面即可看到。",
    "This section is being computed in the background; reload the page when it is done.",
)


def _pending(code: str) -> dict[str, Any]:
    return {"code": code, "title": SECTION_TITLES[code], "blocks": [paragraph(PENDING_TEXT)], "pending": True}


def page(
    session: Session,
    review: Review,
    lang: Lang,
    *,
    today: date,
    now: datetime,
    font_path: str | None,
    background: bool,
) -> tuple[dict[str, Any], dict[str, Any], PageState]:
    """The review page's content and view, and where its slow sections come from (see the module
    docstring). ``background``: whether a computation asked for now runs apart from the request."""
    basis = current_basis(session, review, today)
    cached = load(session, review, lang, basis)
    if review.signed and review.snapshot is not None:
        content = review.snapshot
        state = PageState(CopyState.FROZEN, review.frozen_at, basis, wants_copy=cached is None)
    elif cached is not None and (cached.fresh or background):
        content = compute_content(session, review, today=today, precomputed=cached.content)
        content["computed_at"] = cached.computed_at.replace(microsecond=0).isoformat()
        state = PageState(
            CopyState.CURRENT if cached.fresh else CopyState.OUTDATED,
            cached.computed_at,
            basis,
            wants_copy=not cached.fresh,
        )
    elif background:
        pending = {code: _pending(code) for code in SLOW_SECTIONS} | {"scorecard": {"blocks": []}}
        content = compute_content(session, review, today=today, now=now, precomputed=pending)
        state = PageState(CopyState.PENDING, None, basis, wants_copy=True)
        return content, render_content(content, lang, font_path), state
    else:
        content = compute_content(session, review, today=today, now=now)
        return content, render_content(content, lang, font_path), PageState(CopyState.LIVE, now, basis)
    if cached is None:  # a signed review whose snapshot's views are not drawn yet
        return content, render_content(content, lang, font_path), state
    light = {**content, "sections": [s for s in content["sections"] if s["code"] not in SLOW_SECTIONS]}
    view = render_content(light, lang, font_path)
    by_code = {s["code"]: s for s in view["sections"]} | {
        code: v for code, v in cached.views.items() if code in SLOW_SECTIONS
    }
    order = [s["code"] for s in content["sections"]]
    if content.get("register"):
        order.append(content["register"]["code"])
    view["sections"] = [by_code[code] for code in order if code in by_code]
    return content, view, state
