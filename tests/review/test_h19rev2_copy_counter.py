"""Issue 19, the review workspace's stored copy: its signature is the exact write counter
``review_inputs`` (perception.kpi.services.data_version), on PostgreSQL and SQLite alike. A
committed write of any input, an update in place included, outdates the copy at once (the
PostgreSQL tuple counters lagged a commit by up to ten seconds; the SQLite row counts missed an
update in place of a table without ``updated_at``); the hourly job leaves a current copy alone on
SQLite too; sign-off freezes the stored sections when they are current, exactly as computing them
would, and computes them when the copy is outdated (or a collection deadline passed since)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from perception.core.clock import Clock
from perception.core.extensions import db
from perception.core.models.audit import AuditEntry
from perception.core.models.facts import ExperienceObservation
from perception.core.models.org import Region
from perception.review import page_cache
from perception.review.services import inputs
from perception.review.services import sections as review_sections
from perception.review.services import signoff as review_signoff
from perception.review.services.sections import compute_content

SIGN_NOW = datetime(2026, 7, 6, 9, 0)
SIGN_CLOCK = Clock(fixed_now=SIGN_NOW)


def _signature(app) -> str:
    with app.app_context(), Session(db.engine) as session:
        return inputs.signature(session, date(2026, 7, 6))


@pytest.fixture
def committed_region(app):
    """A region and one fact really committed (the usual db_session never commits); removed after."""
    row = {
        "source": "survey", "source_id": 876543, "observed_on": date(2026, 3, 3),
        "period_start": date(2026, 3, 2), "customer_id": None, "service_id": None,
        "kind": "csat", "dimension": None, "item": "csat", "value": 5.0, "scale_min": 1.0, "scale_max": 5.0,
    }  # fmt: skip
    with app.app_context(), Session(db.engine) as session:
        region = Region(code="RV2", name_zh="计数二", name_en="Counter two")
        session.add(region)
        session.flush()
        region_id = region.id
        session.execute(insert(ExperienceObservation.__table__), [{**row, "region_id": region_id}])
        session.commit()
    yield region_id
    with app.app_context(), Session(db.engine) as session:
        session.execute(delete(ExperienceObservation).where(ExperienceObservation.region_id == region_id))
        session.execute(delete(Region).where(Region.id == region_id))
        session.execute(
            delete(AuditEntry).where(
                AuditEntry.object_type == "Region", AuditEntry.object_id == str(region_id)
            )
        )
        session.commit()


def test_a_committed_update_in_place_outdates_the_copy_at_once(app, committed_region):
    """An answer corrected in place (no row added, no ``updated_at``): the next reader's signature
    differs right after the commit; a write of a table the sections never read does not change it."""
    before = _signature(app)
    with app.app_context(), Session(db.engine) as session:
        session.execute(
            update(ExperienceObservation)
            .where(ExperienceObservation.region_id == committed_region)
            .values(value=ExperienceObservation.value - 1)
        )
        session.commit()
    after = _signature(app)
    assert after != before
    with app.app_context(), Session(db.engine) as session:
        session.execute(update(AuditEntry).where(AuditEntry.id < 0).values(summary="x"))  # not an input
        session.commit()
    assert _signature(app) == after
    with app.app_context(), Session(db.engine) as session:
        session.execute(update(Region).where(Region.id == committed_region).values(name_en="Renamed"))
        session.rollback()  # rolled back: nothing changed
    assert _signature(app) == after


def _prepare(db_session, review, monkeypatch, clock: Clock) -> int:
    from perception.core.jobs import run_now

    monkeypatch.setattr("perception.review.jobs.current_clock", lambda *a, **k: clock)
    return int(run_now(db_session, "prepare_review_page", review_id=review.id))


def test_the_hourly_job_leaves_a_current_copy_alone(db_session, h1, watermelon, monkeypatch):
    """SQLite kept no counters: the hourly job recomputed every open review's copy each hour."""
    from perception.core.jobs import run_now

    assert _prepare(db_session, h1, monkeypatch, SIGN_CLOCK) == len(page_cache.STORED)
    assert run_now(db_session, "prepare_review_pages") == 0
    db_session.execute(
        update(ExperienceObservation)
        .where(ExperienceObservation.region_id == watermelon["r1"].id)
        .values(value=ExperienceObservation.value)
    )
    assert run_now(db_session, "prepare_review_pages") == len(page_cache.STORED)


@pytest.fixture
def counted_builders(monkeypatch):
    """The section builders, counting their calls."""
    calls: list[str] = []
    real = review_sections.builders()

    def counting():
        def wrap(code, fn):
            def run(ctx):
                calls.append(code)
                return fn(ctx)

            return run

        return {code: wrap(code, fn) for code, fn in real.items()}

    monkeypatch.setattr(review_sections, "builders", counting)
    monkeypatch.setattr(page_cache, "builders", counting)
    return calls


def _audited(db_session, review) -> list[str]:
    return list(
        db_session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.object_type == "Review", AuditEntry.object_id == str(review.id)
            )
        )
    )


def test_sign_off_freezes_the_current_copy_as_a_live_computation(
    db_session, h1, watermelon, make_user, monkeypatch, counted_builders
):
    _prepare(db_session, h1, monkeypatch, SIGN_CLOCK)
    live = compute_content(db_session, h1, today=SIGN_CLOCK.today(), now=SIGN_NOW)
    counted_builders.clear()
    owner = make_user("boss2", "system_owner")
    review_signoff.sign(db_session, h1, owner, clock=SIGN_CLOCK)
    assert set(counted_builders) == {"findings"}  # the slow sections came from the copy
    assert h1.snapshot == live
    assert h1.snapshot_sha256 == review_sections.content_hash(live)
    assert h1.frozen_at == SIGN_NOW and "review_signed" in _audited(db_session, h1)


def test_sign_off_recomputes_an_outdated_copy(
    db_session, h1, watermelon, observe, make_user, monkeypatch, counted_builders
):
    _prepare(db_session, h1, monkeypatch, SIGN_CLOCK)
    stored = page_cache.load(db_session, h1, "en", None)
    assert stored is not None
    observe(watermelon["r1"], watermelon["desk"], "csat", [5] * 400, day=date(2026, 4, 6))
    live = compute_content(db_session, h1, today=SIGN_CLOCK.today(), now=SIGN_NOW)
    counted_builders.clear()
    review_signoff.sign(db_session, h1, make_user("boss3", "system_owner"), clock=SIGN_CLOCK)
    assert set(page_cache.SLOW_SECTIONS) <= set(counted_builders)
    assert h1.snapshot == live
    kpi = review_sections.section_of(h1.snapshot, "kpi_experience")
    assert kpi != stored.content["kpi_experience"]  # the new answers, not the copy's figures
    assert "review_signed" in _audited(db_session, h1)


def test_a_copy_made_before_a_collection_deadline_is_not_frozen(db_session, h1, watermelon, monkeypatch):
    """The health section counts the reports due by its ``now``: a copy computed before a deadline
    of the period's weeks passed is not what sign-off would compute after it."""
    from perception.collection.services.board import Completeness, completeness
    from perception.review.services.sections import SectionContext

    ctx = SectionContext(db_session, h1, SIGN_CLOCK.today(), SIGN_NOW)
    cells = completeness(db_session, ctx.week_start, ctx.last_week, now=SIGN_NOW)
    due = max(c.deadline for c in cells if c.state == Completeness.MISSING)
    before = Clock(fixed_now=due - timedelta(hours=1))
    _prepare(db_session, h1, monkeypatch, before)
    today = before.today()
    assert review_signoff.current_slow_sections(db_session, h1, today, due - timedelta(minutes=1)) is not None
    assert review_signoff.current_slow_sections(db_session, h1, today, due + timedelta(hours=1)) is None


def test_an_upsert_of_a_bookkeeping_table_is_no_input_write():
    """``INSERT ... ON CONFLICT ... DO UPDATE SET`` (a login's throttle counter) names one table:
    ``SET`` was taken for a second one, unknown, and every login outdated the review's copy."""
    from perception.kpi.services.data_version import _WRITE, REVIEW_INPUTS, _names

    statement = (
        "INSERT INTO throttle_counter (key, n) VALUES (%(k)s, 1) ON CONFLICT (key) DO UPDATE SET n = 2"
    )
    assert _WRITE.findall(statement) == ["throttle_counter"]
    assert REVIEW_INPUTS not in _names("throttle_counter")
    assert REVIEW_INPUTS in _names("experience_observation") and REVIEW_INPUTS in _names("ticket")
    assert _names("set") == frozenset() and _names("h19_index_per") == frozenset()
