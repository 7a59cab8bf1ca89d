"""The other setup pages used as people use them: create and change through forms with
messages in the user's language, region scoping (another region's id is a 404), audit rows."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from perception.core.models.audit import AuditEntry
from perception.core.models.org import CollectionPoint, Contact, CustomerOrg, Region
from perception.setup.models.catalog import Service, Subscription
from perception.setup.models.standards import (
    PerceptionSystem,
    PlanItem,
    ServiceRegion,
    ServiceStrategy,
    TrainingRecord,
)
from perception.setup.services import plan as setup_plan
from perception.setup.services.defs import PlanDef
from tests.conftest import login, post_form
from tests.setup import setup_fixtures
from tests.setup.setup_fixtures import make_standard, standard_def

world = setup_fixtures.world  # the fixture


def _owner(app):
    c = app.test_client()
    login(c, "owner")
    return c


def test_service_form_validates_in_the_users_language_and_saves(db_session, world, app):
    c = _owner(app)
    data = {
        "code": "NET",
        "name_zh": "网络运维",
        "name_en": "",
        "kind": "reactive",
        "regions": ["R1"],
        "active": "y",
    }
    html = post_form(c, "/setup/services/new", data, headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert "必填" in html
    assert db_session.scalar(select(Service).where(Service.code == "NET")) is None
    data["name_en"] = "Network operations"
    assert post_form(c, "/setup/services/new", data).status_code == 302
    net = db_session.scalar(select(Service).where(Service.code == "NET"))
    region_ids = set(
        db_session.scalars(select(ServiceRegion.region_id).where(ServiceRegion.service_id == net.id))
    )
    assert region_ids == {world.org["R1"]["region"].id}
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.object_type == "Service")).all()
    assert any(a.action == "create" and a.actor_name == "owner" for a in audit)
    # Editing keeps the code and changes the regions.
    data |= {"code": "CHANGED", "regions": ["R1", "R2"]}
    assert post_form(c, f"/setup/services/{net.id}", data).status_code == 302
    db_session.expire_all()
    assert net.code == "NET"
    assert db_session.query(ServiceRegion).filter_by(service_id=net.id).count() == 2


def test_subscription_strategy_tier_and_training_forms(db_session, world, app):
    c = _owner(app)
    response = post_form(c, "/setup/subscriptions", {"customer": "R2-C", "service": "DESK", "tier": "GOLD"})
    assert response.status_code == 302
    assert db_session.query(Subscription).count() == 2
    bad = post_form(c, "/setup/subscriptions", {"customer": "R9-C", "service": "DESK"})
    assert bad.status_code == 422 and "No customer organisation with code" in bad.get_data(as_text=True)
    strategy = {
        "title_zh": "策略",
        "title_en": "Strategy",
        "statement_zh": "合理成本",
        "statement_en": "Reasonable cost",
        "principles_zh": "一\n二",
        "principles_en": "One\nTwo",
        "owner": "owner",
        "effective_from": "2026-01-01",
    }
    assert post_form(c, "/setup/strategy/new", strategy).status_code == 302
    assert post_form(c, "/setup/strategy/new", strategy | {"effective_from": "2026-07-01"}).status_code == 302
    assert [
        s.version for s in db_session.scalars(select(ServiceStrategy).order_by(ServiceStrategy.version))
    ] == [1, 2]
    assert "Version 2" in c.get("/setup/strategy").get_data(as_text=True)
    html = post_form(c, "/setup/strategy/new", strategy | {"effective_from": "01/07/2026"}).get_data(
        as_text=True
    )
    # Shown on the field (parse_day's reason); the failed save left no third version behind.
    assert "is not a valid date; write it as 2026-03-02" in html
    assert db_session.query(ServiceStrategy).count() == 2
    assert (
        post_form(
            c, "/setup/tiers/new", {"code": "PLAT", "name_zh": "白金", "name_en": "Platinum", "rank": "1"}
        ).status_code
        == 302
    )
    training = {
        "trainee": "Li Lei",
        "held_on": "2026-02-03",
        "topic_zh": "采集规范",
        "topic_en": "Collection rules",
        "region": "R1",
        "hours": "2.5",
    }
    assert post_form(c, "/setup/training/new", training).status_code == 302
    record = db_session.scalar(select(TrainingRecord))
    assert (record.held_on, record.hours) == (date(2026, 2, 3), 2.5)
    html = post_form(c, "/setup/training/new", training | {"hours": "-1"}).get_data(as_text=True)
    assert "Must be at least 0." in html


def test_plan_form_and_coverage_view(db_session, world, app):
    c = _owner(app)
    html = c.get("/setup/plan").get_data(as_text=True)
    assert "No perception means covers these services:" in html and "DESK" in html
    line = {"service": "DESK", "region": "", "means": "questionnaire", "frequency": "monthly", "active": "y"}
    html = post_form(c, "/setup/plan/new", line).get_data(as_text=True)
    assert "Give a sample size or a sample share." in html
    assert post_form(c, "/setup/plan/new", line | {"sample_size": "20"}).status_code == 302
    cov = setup_plan.coverage(db_session, date.today())
    assert cov.services_without_plan == [] and cov.gaps == []
    item = db_session.scalar(select(PlanItem))
    assert post_form(c, f"/setup/plan/{item.id}", line | {"sample_size": "25"}).status_code == 302
    db_session.expire_all()
    assert item.sample_size == 25
    assert post_form(c, f"/setup/plan/{item.id}/delete", {}).status_code == 302
    assert db_session.query(PlanItem).count() == 0


def test_coverage_shows_region_gaps_and_unmeasured_standards(db_session, world):
    from tests.setup.setup_fixtures import agree

    setup_plan.save_plan_item(
        db_session, PlanDef("DESK", "R1", None, None, "phone_callback", "weekly", 10, None, None, None, True)
    )
    cov = setup_plan.coverage(db_session, date(2026, 6, 1))
    r1, r2 = world.org["R1"]["region"].id, world.org["R2"]["region"].id
    sid = world.service.id
    assert cov.cells == {(sid, r1): "covered", (sid, r2): "gap"}
    # A questionnaire-measured standard with only a callback line is unmeasured; a KPI standard
    # whose metric a ticket feed provides is measured.
    kpi = make_standard(db_session, world, standard_def(code="K", customer="R1-C"))
    agree(db_session, world, kpi, date(2026, 1, 5))
    exp = make_standard(
        db_session,
        world,
        standard_def(
            code="Q", customer="R1-C", metric="csat_share", measured_by="questionnaire", priority=None
        ),
    )
    agree(db_session, world, exp, date(2026, 1, 5))
    cov = setup_plan.coverage(db_session, date(2026, 6, 1))
    assert [u.version.standard.code for u in cov.unmeasured] == ["Q"]
    # Only the lines of the customer's region count for a customer-specific standard.
    setup_plan.save_plan_item(
        db_session, PlanDef("DESK", "R2", None, None, "questionnaire", "monthly", 10, None, None, None, True)
    )
    assert [
        u.version.standard.code for u in setup_plan.coverage(db_session, date(2026, 6, 1)).unmeasured
    ] == ["Q"]


def test_organisation_pages_and_region_scoping(db_session, world, app, login_as):
    c = _owner(app)
    assert post_form(c, "/setup/regions/new", {"code": "R3", "name_zh": "广东", "name_en": "Guangdong",
                                                "timezone": "Asia/Shanghai"}).status_code == 302  # fmt: skip
    html = post_form(
        c, "/setup/regions/new", {"code": "R4", "name_zh": "x", "name_en": "y", "timezone": "Mars/Base"}
    )
    assert html.status_code == 302  # a time zone is text here; the SLA checks calendars
    point = {"code": "CP-R3", "name_zh": "广东组", "name_en": "Guangdong team", "region": "R3",
             "report_due_weekday": "9", "report_due_time": "12:00", "active": "y"}  # fmt: skip
    assert "Use 1 (Monday) to 7 (Sunday)." in post_form(c, "/setup/points/new", point).get_data(as_text=True)
    assert post_form(c, "/setup/points/new", point | {"report_due_weekday": "5"}).status_code == 302
    assert (
        db_session.scalar(select(CollectionPoint.report_due_weekday).where(CollectionPoint.code == "CP-R3"))
        == 5
    )
    customer = {"code": "R3-C", "name_zh": "广东客户", "name_en": "Guangdong customer", "region": "R3"}
    assert post_form(c, "/setup/customers/new", customer).status_code == 302
    cust = db_session.scalar(select(CustomerOrg).where(CustomerOrg.code == "R3-C"))
    contact = {"name": "Wang", "email": "not-an-email", "language": "zh_CN"}
    path = f"/setup/customers/{cust.id}/contacts/new"
    assert "Not a valid email address." in post_form(c, path, contact).get_data(as_text=True)
    assert post_form(c, path, contact | {"email": "wang@example.com"}).status_code == 302
    assert (
        db_session.scalar(select(Contact.region_id).where(Contact.email == "wang@example.com"))
        == cust.region_id
    )
    # A region-bound user sees only their region and gets 404 for another region's objects.
    collector = login_as("collector", region="R1")
    html = collector.get("/setup/organisation").get_data(as_text=True)
    assert "R1-C" in html and "R2-C" not in html and "R3-C" not in html
    r2_customer = world.org["R2"]["customer"]
    assert collector.get(f"/setup/customers/{r2_customer.id}").status_code == 404
    assert collector.get(f"/setup/customers/{world.org['R1']['customer'].id}").status_code == 200
    r2_standard = make_standard(db_session, world, standard_def(code="R2-ONLY", customer="R2-C"))
    assert collector.get(f"/setup/standards/{r2_standard.id}").status_code == 404
    assert "R2-ONLY" not in collector.get("/setup/standards").get_data(as_text=True)
    assert collector.post("/setup/regions/new", data={}).status_code in (400, 403)
    region = db_session.scalar(select(Region).where(Region.code == "R3"))
    assert region.name_en == "Guangdong"


def test_roles_page(db_session, world, app, make_user):
    c = _owner(app)
    organiser = make_user("org1", "organiser")
    collector = make_user("col1", "collector", region="R1")
    assert "Must be" not in c.get("/setup/roles").get_data(as_text=True)
    assert post_form(c, "/setup/roles", {"system_owner": "owner"}).status_code == 302
    assert db_session.scalar(select(PerceptionSystem.system_owner_id)) == world.owner.id
    html = post_form(c, "/setup/roles", {"system_owner": "rep1"}).get_data(as_text=True)
    assert "The system owner must hold the system-owner role." in html
    r2_point = world.org["R2"]["point"]
    html = post_form(c, f"/setup/roles/points/{r2_point.id}", {"lead_id": str(collector.id)}).get_data(
        as_text=True
    )
    assert "This user belongs to another region." in html
    r1_point = world.org["R1"]["point"]
    data = {"lead_id": str(organiser.id), "organiser_id": str(organiser.id)}
    assert post_form(c, f"/setup/roles/points/{r1_point.id}", data).status_code == 302
    db_session.expire_all()
    assert (r1_point.lead_id, r1_point.organiser_id) == (organiser.id, organiser.id)


def test_new_regions_and_agreements_default_to_the_organisations_time_zone(
    db_session, world, app, monkeypatch
):
    monkeypatch.setitem(app.config, "ORG_TIMEZONE", "Europe/Berlin")
    c = _owner(app)
    assert 'value="Europe/Berlin"' in c.get("/setup/regions/new").get_data(as_text=True)
    assert 'value="Europe/Berlin"' in c.get("/setup/slas/new").get_data(as_text=True)
    region = {"code": "R5", "name_zh": "柏林", "name_en": "Berlin", "timezone": ""}
    assert post_form(c, "/setup/regions/new", region, token_from="/setup/regions/new").status_code == 302
    document = "format: perception-setup/1\nregions:\n  - {code: R6, name_zh: 慕尼黑, name_en: Munich}\n"
    assert (
        post_form(c, "/setup/config/import", {"text": document}, token_from="/setup/config").status_code
        == 200
    )
    rows = db_session.execute(select(Region.code, Region.timezone).where(Region.code.in_(["R5", "R6"])))
    zones = {code: zone for code, zone in rows}
    assert zones == {"R5": "Europe/Berlin", "R6": "Europe/Berlin"}
