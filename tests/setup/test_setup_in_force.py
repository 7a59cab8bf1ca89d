"""Version-in-force lookup by date: effective_from inclusive, effective_to exclusive, nothing
before the first confirmation; the lists other phases read; the most specific standard wins."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from perception.setup.services import catalog as setup_catalog
from perception.setup.services.defs import SubscriptionDef
from perception.setup.services.standard_io import edit_content
from perception.setup.services.standards import (
    applicable_standards,
    experience_counterpart,
    standard_in_force,
    standards_in_force,
    to_spec,
)
from tests.setup import setup_fixtures
from tests.setup.setup_fixtures import agree, content, make_standard, standard_def

world = setup_fixtures.world  # the fixture

JAN, MAR, JUN = date(2026, 1, 5), date(2026, 3, 2), date(2026, 6, 1)


def test_version_in_force_by_date(db_session, world):
    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    v1 = agree(db_session, world, standard, JAN)
    edit_content(db_session, standard, content(target=0.97), world.owner)
    v2 = agree(db_session, world, standard, MAR)
    edit_content(db_session, standard, content(target=0.98), world.owner)  # v3: a draft, never in force
    lookup = {d: standard_in_force(db_session, standard.id, d) for d in (
        date(2026, 1, 4), JAN, date(2026, 3, 1), MAR, JUN, date(2030, 1, 1))}  # fmt: skip
    assert lookup[date(2026, 1, 4)] is None, "before the first confirmation nothing is in force"
    assert lookup[JAN] is v1 and lookup[date(2026, 3, 1)] is v1
    assert lookup[MAR] is v2 and lookup[JUN] is v2 and lookup[date(2030, 1, 1)] is v2
    assert (v1.effective_from, v1.effective_to, v2.effective_from, v2.effective_to) == (JAN, MAR, MAR, None)


def test_requested_future_date_is_respected_and_past_dates_are_not_rewritten(db_session, world):
    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    agree(db_session, world, standard, JAN)
    edit_content(db_session, standard, content(target=0.97, requested_effective_from=JUN), world.owner)
    v2 = agree(db_session, world, standard, MAR)
    assert v2.effective_from == JUN, "confirmed in March, requested for June"
    assert standard_in_force(db_session, standard.id, date(2026, 5, 31)).version == 1
    edit_content(
        db_session, standard, content(target=0.99, requested_effective_from=date(2025, 1, 1)), world.owner
    )
    v3 = agree(db_session, world, standard, date(2026, 7, 1))
    assert v3.effective_from == date(2026, 7, 1), "a requested date in the past becomes the confirmation date"
    assert standard_in_force(db_session, standard.id, JUN) is v2


def test_standards_in_force_filters_and_specificity(db_session, world):
    setup_catalog.save_subscription(db_session, SubscriptionDef("R2-C", "DESK", None))
    general = make_standard(db_session, world, standard_def(code="G"))
    agree(db_session, world, general, JAN, reps=(world.rep1, world.rep2))
    gold = make_standard(db_session, world, standard_def(code="T", tier="GOLD", target=0.97))
    agree(db_session, world, gold, JAN)
    own = make_standard(db_session, world, standard_def(code="C", customer="R1-C", target=0.99))
    agree(db_session, world, own, JAN)
    codes = lambda rows: sorted(v.standard.code for v in rows)  # noqa: E731
    assert codes(standards_in_force(db_session, MAR)) == ["C", "G", "T"]
    assert codes(standards_in_force(db_session, date(2025, 12, 31))) == []
    r2 = world.org["R2"]["customer"].id
    assert codes(standards_in_force(db_session, MAR, customer_id=r2)) == ["G", "T"]
    # What each customer is measured against for the same metric/priority: the most specific.
    r1 = world.org["R1"]["customer"].id
    assert [v.standard.code for v in applicable_standards(db_session, MAR, world.service.id, r1)] == ["C"]
    assert [v.standard.code for v in applicable_standards(db_session, MAR, world.service.id, r2)] == ["G"], (
        "R2-C has no tier, so the GOLD standard does not apply"
    )


def test_experience_counterpart_and_spec(db_session, world):
    exp_def = replace(
        standard_def(code="EXP", customer="R1-C"),
        category="experience",
        versions=(
            content(
                metric="csat_share",
                dimension="response_speed",
                measured_by="questionnaire",
                target=0.85,
                statement_en="Surveyed within 3 days, 85% satisfied with response speed",
                time_limit_minutes=4320,
                priority=None,
            ),
        ),
    )
    exp = make_standard(db_session, world, exp_def)
    agree(db_session, world, exp, JAN)
    kpi = make_standard(
        db_session, world, replace(standard_def(code="KPI", customer="R1-C"), experience_standard="EXP")
    )
    agree(db_session, world, kpi, JAN)
    counterpart = experience_counterpart(db_session, kpi.id, MAR)
    assert counterpart is not None and counterpart.standard.code == "EXP" and counterpart.target == 0.85
    assert experience_counterpart(db_session, exp.id, MAR) is None
    spec = to_spec(standard_in_force(db_session, kpi.id, MAR))
    assert (spec.code, spec.metric, spec.target, spec.need_confirmed_by_customer) == (
        "KPI",
        "response_within_target_share",
        0.95,
        True,
    )
