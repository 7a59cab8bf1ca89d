"""The review page's slow sections are stored with the signature of their inputs
(perception.review.page_cache, perception.review.services.inputs): the stored sections equal a
direct computation; a change of the facts, the KPI values or the standards makes the copy out of
date (the page says so and asks once for a new one, or computes live when nothing runs in the
background); a finding shows at once and leaves the copy current; a signed review keeps its
frozen figures whatever changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from perception.core.clock import Clock
from perception.core.models.jobs import Job, JobStatus
from perception.kpi.models import KpiValue
from perception.review import jobs as review_jobs
from perception.review import page_cache
from perception.review.models import ReviewSectionCache
from perception.review.services import inputs
from perception.review.services import signoff as review_signoff
from perception.review.services.sections import SectionContext, builders, previous_review
from tests.conftest import post_form

TODAY = date(2026, 7, 2)
MELON_ROW = 'id="ev-watermelon-DESK-R1"'


@pytest.fixture
def fixed_today(monkeypatch):
    """The organisation's today inside the page, the jobs and the signature."""
    clock = Clock(fixed_now=datetime(2026, 7, 2, 9, 0))
    for module in ("perception.review.views.reviews", "perception.review.jobs"):
        monkeypatch.setattr(f"{module}.current_clock", lambda *a, **k: clock)
    return clock


@pytest.fixture
def queued(monkeypatch) -> list[Job]:
    """The page as with a worker: ``request_page`` queues (the jobs recorded, never run) and the
    page shows what is stored instead of computing the slow sections."""
    calls: list[Job] = []

    def enqueue(name: str, *, job_subject: str, **kwargs: Any) -> str:
        job = Job(
            id=f"job{len(calls)}", name=name, kwargs=kwargs, subject=job_subject, status=JobStatus.QUEUED,
            attempts=0, max_attempts=3, created_at=datetime(2026, 7, 2, 1, 0),
        )  # fmt: skip
        calls.append(job)
        return job.id

    def latest_for(subject: str) -> Job | None:
        return next((j for j in reversed(calls) if j.subject == subject), None)

    monkeypatch.setattr(review_jobs, "enqueue", enqueue)
    monkeypatch.setattr(review_jobs, "latest_for", latest_for)
    monkeypatch.setattr(review_jobs, "in_background", lambda: True)
    monkeypatch.setattr("perception.review.views.reviews.latest_for", latest_for)
    monkeypatch.setattr("perception.review.views.reviews.in_background", lambda: True)
    return calls


def _finish_jobs(queued: list[Job]) -> None:
    for job in queued:
        job.status = JobStatus.DONE


def _prepare(db_session, review) -> int:
    from perception.core.jobs import run_now

    return int(run_now(db_session, "prepare_review_page", review_id=review.id))


def _state(html: str) -> str:
    marker = 'data-testid="review-freshness" data-state="'
    return html[html.index(marker) + len(marker) :].split('"', 1)[0]


def test_stored_sections_equal_a_direct_computation(db_session, h1, watermelon, fixed_today):
    from perception.review.services.scorecard import scorecard

    assert _prepare(db_session, h1) == len(page_cache.STORED)
    # As the job computes them: the organisation's clock (today and now), as sign-off does.
    ctx = SectionContext(db_session, h1, TODAY, fixed_today.now(), previous_review(db_session, h1))
    direct = {code: builders()[code](ctx) for code in page_cache.SLOW_SECTIONS}
    direct["scorecard"] = scorecard(ctx)
    rows = db_session.scalars(select(ReviewSectionCache).where(ReviewSectionCache.review_id == h1.id)).all()
    assert {r.code: r.content for r in rows} == direct
    assert {r.basis for r in rows} == {inputs.signature(db_session, TODAY)}
    cached = page_cache.load(db_session, h1, "en", inputs.signature(db_session, TODAY))
    assert cached is not None and cached.fresh
    # Unchanged inputs: the job computes nothing again.
    assert _prepare(db_session, h1) == 0


def _change_facts(db_session, watermelon, observe) -> None:
    observe(watermelon["r1"], watermelon["desk"], "csat", [5] * 400, day=date(2026, 4, 6))


def _change_kpis(db_session, watermelon, observe) -> None:
    from perception.core.models.base import utcnow

    # The KPI values re-imported in place (perception.kpi.services.value_import): 80% against 95%.
    for row in db_session.scalars(select(KpiValue).where(KpiValue.region_id == watermelon["r1"].id)):
        row.value, row.met, row.stored_at = 0.80, False, utcnow()
    db_session.flush()


def _change_standards(db_session, watermelon, observe) -> None:
    from perception.setup.models.standards import StandardVersion

    # The CSAT standard's target revised from 85% to 40% (its version written in place).
    for version in db_session.scalars(select(StandardVersion).where(StandardVersion.metric == "csat_share")):
        version.target = 0.40
    db_session.flush()


@pytest.mark.parametrize("change", [_change_facts, _change_kpis, _change_standards])
def test_a_change_of_the_inputs_makes_the_copy_outdated(
    db_session, h1, watermelon, observe, fixed_today, login_as, change
):
    _prepare(db_session, h1)
    before = inputs.signature(db_session, TODAY)
    change(db_session, watermelon, observe)
    after = inputs.signature(db_session, TODAY)
    assert after != before
    cached = page_cache.load(db_session, h1, "en", after)
    assert cached is not None and not cached.fresh


def test_the_page_says_its_copy_is_outdated_and_asks_once(
    db_session, h1, watermelon, observe, fixed_today, login_as, queued
):
    client = login_as("reviewer")
    # No copy yet: the slow sections say they are being computed, one computation is queued.
    html = client.get(f"/reviews/{h1.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _state(html) == "pending" and "being computed in the background" in html
    assert MELON_ROW not in html
    assert [c.name for c in queued] == ["prepare_review_page"]
    client.get(f"/reviews/{h1.id}")
    assert len(queued) == 1  # not again while it is queued
    _prepare(db_session, h1)
    _finish_jobs(queued)
    html = client.get(f"/reviews/{h1.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _state(html) == "current" and MELON_ROW in html and len(queued) == 1

    # The facts change: the old figures are shown, said to be out of date, and one job is queued.
    _change_facts(db_session, watermelon, observe)
    html = client.get(f"/reviews/{h1.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _state(html) == "outdated" and "The data changed after these figures were computed" in html
    assert MELON_ROW in html
    assert len(queued) == 2 and queued[1].kwargs["inputs"] == inputs.signature(db_session, TODAY)
    _finish_jobs(queued)  # finished (say, failed) without a copy: not again for the same inputs
    client.get(f"/reviews/{h1.id}")
    assert len(queued) == 2
    _prepare(db_session, h1)
    html = client.get(f"/reviews/{h1.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _state(html) == "current" and MELON_ROW not in html  # 412 of 500 satisfied: no watermelon

    # A finding shows at once and leaves the stored sections current.
    post_form(
        client,
        f"/reviews/{h1.id}/findings",
        {"kind": "finding", "text": "西瓜效应需要跟进", "evidence": "health|"},
        token_from=f"/reviews/{h1.id}",
    )
    html = client.get(f"/reviews/{h1.id}").get_data(as_text=True)
    assert "西瓜效应需要跟进" in html and _state(html) == "current" and len(queued) == 2

    # The refresh button asks again whatever the signature says.
    post_form(client, f"/reviews/{h1.id}/refresh", {}, token_from=f"/reviews/{h1.id}")
    assert len(queued) == 3 and queued[2].kwargs["force"] is True


def test_without_background_an_outdated_copy_is_computed_live(
    db_session, h1, watermelon, observe, fixed_today, login_as
):
    client = login_as("reviewer")
    _prepare(db_session, h1)
    assert MELON_ROW in client.get(f"/reviews/{h1.id}").get_data(as_text=True)
    _change_facts(db_session, watermelon, observe)
    html = client.get(f"/reviews/{h1.id}").get_data(as_text=True)
    assert _state(html) == "live" and MELON_ROW not in html
    # The refresh without a worker computes and stores them now.
    post_form(client, f"/reviews/{h1.id}/refresh", {}, token_from=f"/reviews/{h1.id}")
    html = client.get(f"/reviews/{h1.id}").get_data(as_text=True)
    assert _state(html) == "current" and MELON_ROW not in html


def test_a_signed_review_keeps_its_frozen_figures(
    db_session, h1, watermelon, observe, make_user, fixed_today, login_as, queued
):
    _prepare(db_session, h1)  # a copy of the open review's figures
    owner = make_user("boss", "system_owner")
    review_signoff.sign(db_session, h1, owner, clock=Clock(fixed_now=datetime(2026, 7, 6, 9, 0)))
    client = login_as("reviewer")
    page = client.get(f"/reviews/{h1.id}").get_data(as_text=True)
    assert MELON_ROW in page and "review-freshness" not in page
    assert [c.kwargs["review_id"] for c in queued] == [h1.id]  # the snapshot's views to be drawn
    _prepare(db_session, h1)
    rows = db_session.scalars(select(ReviewSectionCache).where(ReviewSectionCache.review_id == h1.id)).all()
    assert {r.basis for r in rows} == {h1.snapshot_sha256}
    assert {r.code: r.content for r in rows} == {
        s["code"]: s for s in h1.snapshot["sections"] if s["code"] in page_cache.SLOW_SECTIONS
    } | {"scorecard": h1.snapshot["scorecard"]}
    _change_facts(db_session, watermelon, observe)
    _change_kpis(db_session, watermelon, observe)
    after = client.get(f"/reviews/{h1.id}").get_data(as_text=True)
    assert MELON_ROW in after  # the frozen watermelon, whatever the data says now
    assert len(queued) == 1
    refused = post_form(client, f"/reviews/{h1.id}/refresh", {}, token_from=f"/reviews/{h1.id}")
    assert refused.status_code == 302 and len(queued) == 1
