"""Sampling comparison: sample size and allocation against hand-worked cases, a reproducible and
auditable stratified draw, discrepancies and their Wilson interval against statsmodels."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select
from statsmodels.stats.proportion import proportion_confint

from perception.collection.models.fieldwork import SampledTicket
from perception.collection.services import sampling as collection_sampling
from perception.collection.services import sampling_results as results
from perception.collection.services.errors import CollectionError
from perception.collection.services.sampling_math import allocate, required_sample_size
from perception.core.models.audit import AuditEntry
from tests.conftest import post_form


def test_sample_size_hand_worked_cochran():
    # Cochran (1977) eqs 4.2/4.3 with z = 1.959964 (95 %), p = 0.5:
    # N = 1000, e = 0.05: n0 = 1.959964^2 * 0.25 / 0.0025 = 384.146;
    #                     n = 384.146 / (1 + 383.146/1000) = 277.73 -> 278
    assert required_sample_size(1000, 0.05) == 278
    # N = 100, e = 0.10: n0 = 96.036; n = 96.036 / (1 + 95.036/100) = 49.24 -> 50
    assert required_sample_size(100, 0.10) == 50
    # A practically infinite population gives the textbook 385.
    assert required_sample_size(10**9, 0.05) == 385
    # 99 % confidence, z = 2.575829: n0 = 663.49; N = 5000 -> 663.49 / (1 + 662.49/5000)
    #                                                       = 663.49 / 1.1325 = 585.9 -> 586
    assert required_sample_size(5000, 0.05, confidence=0.99) == 586
    assert required_sample_size(10, 0.01) == 10  # never more than the population
    assert required_sample_size(0, 0.05) == 0


def test_proportional_allocation_largest_remainder():
    assert allocate({"A": 500, "B": 300, "C": 200}, 100) == {"A": 50, "B": 30, "C": 20}
    # quotas 3.5 / 1.0 / 0.5 -> floors 3, 1, 0; one unit left goes to the larger of the tied
    # remainders (A); C then gets its minimum of one unit, so the total is 6.
    assert allocate({"A": 7, "B": 2, "C": 1}, 5) == {"A": 4, "B": 1, "C": 1}
    assert allocate({"A": 3, "B": 0}, 10) == {"A": 3, "B": 0}


@pytest.fixture
def tickets(db_session, cat, make_ticket):
    made = []
    for i in range(40):
        made.append(make_ticket(closed_at=datetime(2026, 3, 2 + i % 20, 12, 0)))
    for _ in range(20):
        made.append(make_ticket(service="NET", closed_at=datetime(2026, 3, 3, 12, 0)))
    for _ in range(30):
        made.append(make_ticket(region="R2", closed_at=datetime(2026, 3, 4, 12, 0)))
    make_ticket(closed_at=datetime(2026, 4, 2, 12, 0))  # after the period
    return made


def _draw(db_session, seed="seed-1", **kw):
    args = {
        "name": "三月抽样",
        "start": date(2026, 3, 1),
        "end": date(2026, 4, 1),
        "margin": 0.2,
        "seed": seed,
    }
    return collection_sampling.draw_sample(db_session, **(args | kw))


def _ids(db_session, run):
    return sorted(db_session.scalars(select(SampledTicket.ticket_id).where(SampledTicket.run_id == run.id)))


def test_stratified_draw_is_reproducible_and_auditable(db_session, cat, tickets, make_ticket):
    run = _draw(db_session)
    # N = 90, e = 0.2: n0 = 24.01, n = 24.01 / (1 + 23.01/90) = 19.12 -> 20, split 40:20:30 -> 9, 4, 7
    assert (run.population, run.sample_size) == (90, 20)
    sizes = {(s.region_id, s.service_id): (s.population, s.sample_size) for s in run.strata}
    r1, r2 = cat["R1"]["region"].id, cat["R2"]["region"].id
    assert sizes == {
        (r1, cat["DESK"].id): (40, 9),
        (r1, cat["NET"].id): (20, 4),
        (r2, cat["DESK"].id): (30, 7),
    }
    again = _draw(db_session)
    assert _ids(db_session, again) == _ids(db_session, run)
    assert _ids(db_session, _draw(db_session, seed="seed-2")) != _ids(db_session, run)
    audit = db_session.scalar(
        select(AuditEntry).where(AuditEntry.action == "sampling_draw", AuditEntry.object_id == str(run.id))
    )
    assert "seed=seed-1" in audit.summary and run.population_digest in audit.summary
    assert collection_sampling.verify_run(db_session, run)
    make_ticket(closed_at=datetime(2026, 3, 10, 12, 0))  # the population changed afterwards
    assert not collection_sampling.verify_run(db_session, run)


def test_region_filter_and_empty_period(db_session, cat, tickets):
    run = _draw(db_session, region_ids=[cat["R2"]["region"].id])
    assert run.population == 30 and {s.region_id for s in run.strata} == {cat["R2"]["region"].id}
    with pytest.raises(CollectionError) as exc:
        _draw(db_session, start=date(2025, 1, 1), end=date(2025, 2, 1))
    assert exc.value.problems[0].field == "period_start"


def test_discrepancy_rate_with_wilson_interval(db_session, cat, tickets, make_user):
    run = _draw(db_session, margin=0.1)
    user = make_user("an", "analyst")
    sampled = db_session.scalars(
        select(SampledTicket).where(SampledTicket.run_id == run.id).order_by(SampledTicket.id)
    ).all()
    r1 = [s for s in sampled if s.region_id == cat["R1"]["region"].id]
    for i, s in enumerate(r1[:20]):
        results.record_confirmation(db_session, s, user, reached=True, resolved=i >= 5, satisfied=i % 2 == 0)
    results.record_confirmation(db_session, r1[20], user, reached=False)
    rates = {r.region_id: r for r in results.discrepancy_rates(db_session, run.id)}
    mine = rates[cat["R1"]["region"].id]
    assert (mine.confirmed, mine.discrepant, mine.rate) == (20, 5, 0.25)
    low, high = proportion_confint(5, 20, alpha=0.05, method="wilson")
    assert mine.low == pytest.approx(low, abs=1e-12) and mine.high == pytest.approx(high, abs=1e-12)
    assert rates[cat["R2"]["region"].id].rate is None  # nothing confirmed there yet
    assert rates[None].confirmed == 20
    assert r1[20].status == "unreachable" and r1[20].discrepancy is None


def test_on_time_disagreement_counts_only_when_the_ticket_could_be_judged(
    db_session, cat, tickets, make_user
):
    run = _draw(db_session)
    s = db_session.scalars(select(SampledTicket).where(SampledTicket.run_id == run.id)).first()
    assert s.ticket_resolved is True and s.ticket_on_time is None  # no standard in force in this test
    results.record_confirmation(db_session, s, None, reached=True, resolved=True, on_time=False)
    assert s.discrepancy is False
    s.ticket_on_time = True
    results.record_confirmation(db_session, s, None, reached=True, resolved=True, on_time=False)
    assert s.discrepancy is True


def test_a_confirmation_is_dated_by_the_organisations_calendar(db_session, cat, tickets):
    """07:30 on Monday 2 March in Beijing is 23:30 on Sunday 1 March in UTC: the observation
    belongs to Monday's week, not to the week before."""
    from datetime import date, datetime

    from perception.core.models.facts import ExperienceObservation

    run = _draw(db_session)
    s = db_session.scalars(select(SampledTicket).where(SampledTicket.run_id == run.id)).first()
    results.record_confirmation(
        db_session,
        s,
        None,
        reached=True,
        resolved=True,
        now=datetime(2026, 3, 1, 23, 30),
        org_timezone="Asia/Shanghai",
    )
    observed = db_session.scalars(
        select(ExperienceObservation).where(
            ExperienceObservation.source_id == s.id, ExperienceObservation.source == "sampling"
        )
    ).all()
    assert observed and {(o.observed_on, o.period_start) for o in observed} == {
        (date(2026, 3, 2), date(2026, 3, 2))
    }


def test_sampling_pages(login_as, db_session, cat, tickets):
    o = login_as("organiser")
    response = post_form(
        o,
        "/collection/sampling/new",
        {
            "name": "Q1",
            "period_start": "2026-03-01",
            "period_end": "2026-04-01",
            "margin": "20",
            "confidence": "0.95",
            "seed": "abc",
        },
        token_from="/collection/sampling",
    )
    assert response.status_code == 302
    run_url = response.headers["Location"]
    page = o.get(run_url + "?verify=1").get_data(as_text=True)
    assert "The draw was recomputed and matches." in page and "abc" in page
    assert login_as("collector", username="cx").get("/collection/sampling").status_code == 403


def test_a_confirmation_of_the_current_week_leaves_the_past_weeks_current(db_session, cat, tickets):
    """A confirmation's rows are of the day's week and declared so (issue 19): like a survey answer
    they do not make the analysis pre-aggregates' past weeks stale (data_version.EXPERIENCE_PAST);
    a correction, which removes the earlier answer's rows of whichever week, does."""
    from perception.core.models.facts import ExperienceObservation
    from perception.core.periods import week_start
    from perception.kpi.services.data_version import EXPERIENCE_PAST, declared_weeks, read_version

    run = _draw(db_session)
    s = db_session.scalars(select(SampledTicket).where(SampledTicket.run_id == run.id)).first()
    now = datetime.utcnow()  # noqa: DTZ003 - stored moments are naive UTC
    before = read_version(db_session, EXPERIENCE_PAST)[2]
    results.record_confirmation(db_session, s, None, reached=True, resolved=True, now=now, org_timezone="UTC")
    week = week_start(now.date())
    assert read_version(db_session, EXPERIENCE_PAST)[2] == before  # declared, not counted
    assert week in declared_weeks(db_session)
    rows = db_session.scalars(
        select(ExperienceObservation).where(ExperienceObservation.source_id == s.id)
    ).all()
    assert {o.period_start for o in rows} == {week}
    results.record_confirmation(
        db_session, s, None, reached=True, resolved=False, now=now, org_timezone="UTC"
    )
    assert read_version(db_session, EXPERIENCE_PAST)[2] > before  # the correction's delete counts
