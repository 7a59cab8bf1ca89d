"""Every setup page renders for the people who use it, in both languages."""

from __future__ import annotations

from datetime import date

import pytest

from perception.core.demo import DemoContext
from perception.setup import demo as demo_setup
from perception.setup import demo_org
from tests.setup import setup_fixtures

world = setup_fixtures.world  # the fixture


@pytest.fixture
def demo(db_session):
    ctx = DemoContext(weeks=8, today=date.today())
    demo_org.load(db_session, ctx)
    demo_setup.load(db_session, ctx)
    db_session.flush()
    return ctx


PAGES = (
    "/setup/strategy",
    "/setup/strategy/new",
    "/setup/services",
    "/setup/services/new",
    "/setup/tiers/new",
    "/setup/subscriptions",
    "/setup/subscriptions?service=DESK",
    "/setup/standards",
    "/setup/standards?service=DESK&status=confirmed&on=2020-01-01",
    "/setup/standards/new",
    "/setup/slas",
    "/setup/slas/new",
    "/setup/plan",
    "/setup/plan/new",
    "/setup/training",
    "/setup/training/new",
    "/setup/roles",
    "/setup/organisation",
    "/setup/regions/new",
    "/setup/points/new",
    "/setup/customers/new",
    "/setup/config",
)


def test_pages_render_for_the_system_owner(demo, login_as):
    c = login_as("system_owner")
    for lang in ("en", "zh-CN"):
        _pages_render(c, demo, lang)


def _pages_render(c, demo, lang):
    headers = {"Accept-Language": lang}
    for path in PAGES:
        response = c.get(path, headers=headers)
        assert response.status_code == 200, path
    std = demo.shared["standards"]["DESK-RESP-P1-GOLD"]
    sla = demo.shared["slas"]["SLA-STD"]
    customer = demo.shared["customers"][0]
    for path in (
        f"/setup/standards/{std.id}",
        f"/setup/standards/{std.id}/edit",
        f"/setup/slas/{sla.id}",
        f"/setup/slas/{sla.id}/edit",
        f"/setup/customers/{customer.id}",
        f"/setup/customers/{customer.id}/edit",
        f"/setup/customers/{customer.id}/contacts/new",
        f"/setup/services/{demo.shared['services']['DESK'].id}",
    ):
        response = c.get(path, headers=headers)
        assert response.status_code == 200, path
    html = c.get(f"/setup/standards/{std.id}", headers=headers).get_data(as_text=True)
    assert ("已被取代" if lang == "zh-CN" else "Superseded") in html


def test_read_only_users_see_pages_but_no_edit_links(world, login_as):
    c = login_as("analyst")
    html = c.get("/setup/standards").get_data(as_text=True)
    assert "/setup/standards/new" not in html
    assert c.get("/setup/standards/new").status_code == 403
    assert c.get("/setup/config").status_code == 403
