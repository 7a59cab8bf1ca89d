"""Joint confirmation: draft -> proposed -> confirmed only with BOTH sides; either side rejects
with a comment; a representative of another customer is refused; an edit of a confirmed standard
needs confirming again while the old version stays in force."""

from __future__ import annotations

from datetime import date

import pytest

from perception.setup.models.standards import VersionStatus
from perception.setup.services import catalog as setup_catalog
from perception.setup.services.confirm import bound_customers, confirm, confirm_need, propose, reject
from perception.setup.services.defs import SubscriptionDef
from perception.setup.services.errors import NotAllowed, SetupError
from perception.setup.services.standard_io import edit_content
from perception.setup.services.standards import standard_in_force
from tests.conftest import post_form
from tests.setup import setup_fixtures
from tests.setup.setup_fixtures import agree, content, make_standard, standard_def

world = setup_fixtures.world  # the fixture

D1, D2 = date(2026, 1, 5), date(2026, 3, 2)


def test_both_sides_must_confirm(db_session, world):
    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    v1 = standard.versions[0]
    assert v1.status == VersionStatus.DRAFT
    confirm_need(db_session, v1, world.rep1)
    propose(db_session, v1, world.owner, accept_without_history=True)
    assert v1.status == VersionStatus.PROPOSED
    confirm(db_session, v1, world.manager, today=D1)
    assert v1.status == VersionStatus.PROPOSED, "the provider alone does not put it in force"
    assert standard_in_force(db_session, standard.id, D1) is None
    confirm(db_session, v1, world.rep1, today=D1)
    assert v1.status == VersionStatus.CONFIRMED and v1.effective_from == D1
    assert standard_in_force(db_session, standard.id, D1) is v1
    with pytest.raises(SetupError):
        confirm(db_session, v1, world.rep1, today=D1)  # no longer proposed


def test_customer_first_then_provider_also_works(db_session, world):
    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    v1 = standard.versions[0]
    confirm_need(db_session, v1, world.rep1)
    propose(db_session, v1, world.owner, accept_without_history=True)
    confirm(db_session, v1, world.rep1, today=D1)
    assert v1.status == VersionStatus.PROPOSED
    with pytest.raises(SetupError, match="already"):
        confirm(db_session, v1, world.rep1, today=D1)
    confirm(db_session, v1, world.manager, today=D1)
    assert v1.status == VersionStatus.CONFIRMED


def test_representative_of_another_customer_is_refused(db_session, world):
    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    v1 = standard.versions[0]
    with pytest.raises(NotAllowed):
        confirm_need(db_session, v1, world.rep2)
    confirm_need(db_session, v1, world.rep1)
    propose(db_session, v1, world.owner, accept_without_history=True)
    with pytest.raises(NotAllowed):
        confirm(db_session, v1, world.rep2, today=D1)
    with pytest.raises(NotAllowed):
        reject(db_session, v1, world.rep2, "not ours")
    assert v1.status == VersionStatus.PROPOSED and not v1.customer_confirmed_at


def test_general_standard_binds_every_subscribed_customer(db_session, world):
    setup_catalog.save_subscription(db_session, SubscriptionDef("R2-C", "DESK", "GOLD"))
    standard = make_standard(db_session, world, standard_def())
    assert len(bound_customers(db_session, standard)) == 2
    v1 = standard.versions[0]
    confirm_need(db_session, v1, world.rep2)
    propose(db_session, v1, world.owner, accept_without_history=True)
    confirm(db_session, v1, world.manager, today=D1)
    confirm(db_session, v1, world.rep1, today=D1)
    assert v1.status == VersionStatus.PROPOSED, "one customer cannot agree for the other"
    confirm(db_session, v1, world.rep2, today=D1)
    assert v1.status == VersionStatus.CONFIRMED


def test_unsubscribed_customer_cannot_confirm_a_general_standard(db_session, world):
    standard = make_standard(db_session, world, standard_def())
    v1 = standard.versions[0]
    confirm_need(db_session, v1, world.rep1)
    propose(db_session, v1, world.owner, accept_without_history=True)
    with pytest.raises(NotAllowed):
        confirm(db_session, v1, world.rep2, today=D1)  # R2-C does not receive DESK


def test_provider_side_needs_the_permission(db_session, world, make_user):
    analyst = make_user("ann", "analyst")
    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    v1 = standard.versions[0]
    confirm_need(db_session, v1, world.rep1)
    propose(db_session, v1, world.owner, accept_without_history=True)
    with pytest.raises(NotAllowed):
        confirm(db_session, v1, analyst, today=D1)


def test_rejection_needs_a_comment_and_editing_returns_to_draft(db_session, world):
    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    v1 = standard.versions[0]
    confirm_need(db_session, v1, world.rep1)
    propose(db_session, v1, world.owner, accept_without_history=True)
    confirm(db_session, v1, world.manager, today=D1)
    with pytest.raises(SetupError) as err:
        reject(db_session, v1, world.rep1, "  ")
    assert err.value.problems[0].field == "comment"
    reject(db_session, v1, world.rep1, "30 minutes is too slow for our trading floor")
    assert v1.status == VersionStatus.REJECTED
    assert [e.action for e in v1.events][-1] == "rejected"
    edit_content(
        db_session,
        standard,
        content(time_limit_minutes=15, statement_en="95% within 15 minutes"),
        world.owner,
    )
    assert len(standard.versions) == 1 and v1.status == VersionStatus.DRAFT
    assert v1.provider_confirmed_at is None, "the earlier provider confirmation no longer counts"


def test_changing_a_proposed_version_voids_its_confirmations(db_session, world):
    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    v1 = standard.versions[0]
    confirm_need(db_session, v1, world.rep1)
    propose(db_session, v1, world.owner, accept_without_history=True)
    confirm(db_session, v1, world.rep1, today=D1)
    edit_content(db_session, standard, content(target=0.97), world.owner)
    assert v1.status == VersionStatus.DRAFT
    propose(db_session, v1, world.owner, accept_without_history=True)
    confirm(db_session, v1, world.manager, today=D1)
    assert v1.status == VersionStatus.PROPOSED, "the customer must confirm the changed content again"
    confirm(db_session, v1, world.rep1, today=D1)
    assert v1.status == VersionStatus.CONFIRMED and v1.target == 0.97


def test_edit_of_confirmed_standard_needs_reconfirmation_and_old_stays_in_force(db_session, world):
    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    v1 = agree(db_session, world, standard, D1)
    v2 = edit_content(db_session, standard, content(target=0.97), world.owner)
    assert v2 is not v1 and v2.version == 2 and v2.status == VersionStatus.DRAFT
    assert v1.status == VersionStatus.CONFIRMED and v1.target == 0.95
    assert v2.need_confirmed_at is not None, "the same need stays confirmed"
    assert standard_in_force(db_session, standard.id, D2) is v1, "old version in force until v2 is confirmed"
    propose(db_session, v2, world.owner, accept_without_history=True)
    confirm(db_session, v2, world.manager, today=D2)
    assert standard_in_force(db_session, standard.id, D2) is v1
    confirm(db_session, v2, world.rep1, today=D2)
    assert v1.status == VersionStatus.SUPERSEDED and v1.effective_to == D2
    assert v2.status == VersionStatus.CONFIRMED and v2.effective_from == D2
    assert standard_in_force(db_session, standard.id, date(2026, 3, 1)) is v1
    assert standard_in_force(db_session, standard.id, D2) is v2


def test_a_changed_need_must_be_confirmed_again(db_session, world):
    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    agree(db_session, world, standard, D1)
    v2 = edit_content(db_session, standard, content(customer_need="A different need"), world.owner)
    assert v2.need_confirmed_at is None
    with pytest.raises(SetupError) as err:
        propose(db_session, v2, world.owner, accept_without_history=True)
    assert [p.field for p in err.value.problems] == ["principles.aligned"]


# --- the same through the HTML pages -------------------------------------------------------------


def _step(client, standard, action, comment="", **extra):
    version = standard.versions[-1]
    path = f"/setup/standards/{standard.id}/versions/{version.id}/{action}"
    data = {"comment": comment, **extra}
    return post_form(client, path, data, token_from=f"/setup/standards/{standard.id}")


def test_joint_confirmation_over_http(db_session, world, app, make_user):
    from tests.conftest import login

    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    clients = {}
    for name in ("owner", "manager", "rep1", "rep2"):
        clients[name] = app.test_client()
        login(clients[name], name)
    assert _step(clients["rep1"], standard, "confirm_need").status_code == 302
    # No ticket to replay the rule on: the owner accepts proposing it without history (issue 14).
    assert _step(clients["owner"], standard, "propose", accept_without_history="y").status_code == 302
    # Another customer's representative does not even see the standard.
    assert clients["rep2"].get(f"/setup/standards/{standard.id}").status_code == 404
    assert _step(clients["manager"], standard, "confirm").status_code == 302
    assert _step(clients["rep1"], standard, "confirm").status_code == 302
    db_session.expire_all()
    assert standard.versions[0].status == VersionStatus.CONFIRMED
    html = clients["rep1"].get(f"/setup/standards/{standard.id}").get_data(as_text=True)
    assert "Confirmed" in html


def test_collector_cannot_take_confirmation_steps(db_session, world, login_as):
    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    c = login_as("collector")
    version = standard.versions[0]
    response = post_form(c, f"/setup/standards/{standard.id}/versions/{version.id}/confirm", {})
    assert response.status_code == 403


def test_confirmation_step_without_csrf_is_refused(db_session, world, app):
    from tests.conftest import login

    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    c = app.test_client()
    login(c, "owner")
    response = c.post(f"/setup/standards/{standard.id}/versions/{standard.versions[0].id}/propose", data={})
    assert response.status_code == 400
    db_session.expire_all()
    assert standard.versions[0].status == VersionStatus.DRAFT


def test_editing_a_confirmed_standard_on_the_form_makes_a_new_version(db_session, world, app):
    from tests.conftest import login

    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    agree(db_session, world, standard, D1)
    c = app.test_client()
    login(c, "owner")
    form = c.get(f"/setup/standards/{standard.id}/edit").get_data(as_text=True)
    assert "saving creates a new version" in form and 'value="0.95"' in form
    data = {
        "service": "DESK",
        "customer": "R1-C",
        "category": "efficiency",
        "statement_zh": "P1 事件 97% 在 30 分钟内响应",
        "statement_en": "97% of P1 incidents responded within 30 minutes",
        "metric": "response_within_target_share",
        "measured_by": "kpi",
        "comparator": ">=",
        "target": "0.97",
        "unit": "ratio",
        "window": "month",
        "time_limit_minutes": "30",
        "priority": "P1",
        "customer_need": "Users want a fast first response",
        "procedure": "Duty rota with two engineers per shift",
        "active": "y",
        "action": "save",
    }
    response = post_form(c, f"/setup/standards/{standard.id}/edit", data, token_from="/setup/standards")
    assert response.status_code == 302
    db_session.expire_all()
    assert [(v.version, v.status, v.target) for v in standard.versions] == [
        (1, VersionStatus.CONFIRMED, 0.95),
        (2, VersionStatus.DRAFT, 0.97),
    ]
    detail = c.get(f"/setup/standards/{standard.id}").get_data(as_text=True)
    assert "In force today: version 1" in detail and D1.isoformat() in detail


def test_unbound_representative_gets_the_reason_with_403_and_nothing_is_recorded(db_session, world, app):
    from tests.conftest import login

    # R2-C receives DESK without a tier: it sees the GOLD-tier standard but is not bound by it.
    setup_catalog.save_subscription(db_session, SubscriptionDef("R2-C", "DESK", None))
    standard = make_standard(db_session, world, standard_def(code="DESK-GOLD", tier="GOLD"))
    version = standard.versions[0]
    confirm_need(db_session, version, world.rep1)
    propose(db_session, version, world.owner, accept_without_history=True)
    events = len(version.events)
    c = app.test_client()
    login(c, "rep2")
    response = _step(c, standard, "confirm", "Fine by us")
    assert response.status_code == 403
    assert "Your customer organisation is not bound by this standard" in response.get_data(as_text=True)
    db_session.expire_all()
    assert version.status == VersionStatus.PROPOSED and len(version.events) == events


def test_a_refused_save_on_the_form_leaves_the_standard_as_it_was(db_session, world, app):
    from tests.conftest import login

    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    c = app.test_client()
    login(c, "owner")
    data = {
        "service": "DESK",
        "customer": "R1-C",
        "category": "quality",  # written before the reference problem below is found
        "experience_standard": standard.code,
        "statement_zh": "P1 事件 95% 在 30 分钟内响应",
        "statement_en": "95% of P1 incidents responded within 30 minutes",
        "metric": "response_within_target_share",
        "measured_by": "kpi",
        "comparator": ">=",
        "target": "0.95",
        "unit": "ratio",
        "window": "month",
        "time_limit_minutes": "30",
        "priority": "P1",
        "customer_need": "Users want a fast first response",
        "procedure": "Duty rota with two engineers per shift",
        "active": "y",
        "action": "save",
    }
    response = post_form(c, f"/setup/standards/{standard.id}/edit", data, token_from="/setup/standards")
    assert response.status_code == 200
    assert "A standard cannot be its own experience target." in response.get_data(as_text=True)
    db_session.expire_all()
    assert standard.category == "efficiency" and standard.experience_standard_id is None
