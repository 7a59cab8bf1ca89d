"""Issue 18: the standards pages and the perception plan list, for a customer representative,
nothing of another customer: not who confirmed a general standard for another customer (page or
API), not another customer's plan lines; their own steps and the general lines stay visible."""

from __future__ import annotations

from datetime import date

import pytest

from perception.core.users import issue_token
from perception.setup.models.standards import PlanItem
from perception.setup.services import catalog as setup_catalog
from perception.setup.services.defs import SubscriptionDef
from tests.conftest import login
from tests.setup import setup_fixtures
from tests.setup.setup_fixtures import agree, make_standard, standard_def

world = setup_fixtures.world  # the fixture


@pytest.fixture
def general(db_session, world):
    """A general DESK standard both customers confirmed, each through their representative."""
    setup_catalog.save_subscription(db_session, SubscriptionDef("R2-C", "DESK", "GOLD"))
    standard = make_standard(db_session, world, standard_def("DESK-ALL"))
    agree(db_session, world, standard, date(2026, 3, 2), reps=(world.rep2, world.rep1))
    return standard


def test_standard_page_hides_other_customers_representatives(app, general, world):
    rep1 = app.test_client()
    login(rep1, "rep1")
    page = rep1.get(f"/setup/standards/{general.id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "rep1" in page and "manager" in page  # their own steps and the provider's
    assert "rep2" not in page  # rep2 confirmed the need and for R2-C: not theirs to see
    assert "Customers bound by it: 2" in page  # how many, not who
    staff = app.test_client()
    login(staff, "owner")
    assert "rep2" in staff.get(f"/setup/standards/{general.id}").get_data(as_text=True)


def test_standard_api_hides_other_customers_representatives(app, db_session, general, world, org):
    _, secret = issue_token(db_session, world.rep1, "t")
    body = (
        app.test_client()
        .get(f"/api/v1/setup/standards/{general.id}", headers={"Authorization": f"Bearer {secret}"})
        .get_json()
    )
    text = str(body)
    assert "rep2" not in text and "R2-C" not in text
    assert body["bound_customers"] == [org["R1"]["customer"].id]
    events = body["versions"][0]["events"]
    assert {e["user"] for e in events} == {"rep1", "owner", "manager"}


def test_plan_shows_a_representative_their_lines_and_the_general_ones(app, db_session, world, org):
    service = world.service
    r2 = org["R2"]
    db_session.add_all(
        [
            PlanItem(service_id=service.id, means="questionnaire", frequency="monthly", sample_size=30),
            PlanItem(service_id=service.id, customer_id=r2["customer"].id, means="phone_callback",
                     frequency="weekly", sample_size=7),
            PlanItem(service_id=service.id, region_id=r2["region"].id, means="feedback_record",
                     frequency="weekly", sample_size=9),
        ]
    )  # fmt: skip
    db_session.flush()
    rep1 = app.test_client()
    login(rep1, "rep1")
    page = rep1.get("/setup/plan", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Questionnaire" in page  # the line for every customer of a service they receive
    assert "R2-C" not in page and "Phone callback" not in page  # another customer's line
    assert ">R2<" not in page  # a line of another region


def test_a_regional_team_sees_its_regions_representatives_only(app, db_session, general, make_user):
    """Observed by the authorisation matrix (session 4): a collector of one region read, on a
    general standard's page and API, which representatives of other regions' customers confirmed."""
    from perception.core.models.auth import Role

    collector = make_user("collector1", Role.COLLECTOR, region="R1")
    assert collector.region_id is not None
    client = app.test_client()
    login(client, "collector1")
    page = client.get(f"/setup/standards/{general.id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "rep1" in page  # the representative of their own region's customer
    assert "rep2" not in page
    _, secret = issue_token(db_session, collector, "t")
    body = client.get(
        f"/api/v1/setup/standards/{general.id}", headers={"Authorization": f"Bearer {secret}"}
    ).get_json()
    assert "rep2" not in str(body) and "R2-C" not in str(body)
    assert {e["user"] for e in body["versions"][0]["events"]} == {"rep1", "owner", "manager"}
