"""The customer portal's tile view (issue 17, HappySignals style): one tile per service the
customer receives, its SLA attainment (its own tickets) beside its CSAT and NPS, each with a
trend arrow and its n; nothing of another customer's tickets or answers.

Hand-worked (24x7 SLA, DESK response within 60 min, 80 % required; today 2026-04-10):
  Beijing's DESK tickets: March 2 of 2 within (100 %), April 2 of 4 (50 %, missed):
    6 measured, 4 within = 67 %, trend 50 - 100 = -50.0 pp, "missed".
  Beijing's DESK CSAT: March 5 of 10 in the top two boxes, April 8 of 10 (weeks go to the month
    of their Monday: the April answers are of the week of 6 April): 13 of 20 = 65 %
    (fewer than 30 answers: 65%*), trend 80 - 50 = +30.0 pp.
  Beijing's NET: no ticket (SLA "—"), CSAT 5 of 5 = 100%*.
  Shanghai's DESK: 3 tickets all late and 30 unhappy answers, which Beijing's tiles never count.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.facts import insert_observations
from tests.kpi.conftest import add_sla, add_standard, csv_bytes, ticket_row

TICKETS = [  # (id, customer, region, opened, minutes to respond)
    ("B-1", "R1", "2026-03-03 10:00", 20),
    ("B-2", "R1", "2026-03-10 10:00", 50),
    ("B-3", "R1", "2026-04-01 10:00", 30),
    ("B-4", "R1", "2026-04-02 10:00", 90),
    ("B-5", "R1", "2026-04-03 10:00", 120),
    ("B-6", "R1", "2026-04-06 10:00", 10),
    ("S-1", "R2", "2026-03-03 10:00", 300),
    ("S-2", "R2", "2026-04-01 10:00", 300),
    ("S-3", "R2", "2026-04-02 10:00", 300),
]


@pytest.fixture
def served(db_session, org, catalog, app, monkeypatch):
    from perception.setup.models.catalog import Subscription

    desk, net = catalog["DESK"], catalog["NET"]
    for code, services in (("R1", (desk, net)), ("R2", (desk,))):
        for service in services:
            db_session.add(
                Subscription(
                    customer_id=org[code]["customer"].id,
                    service_id=service.id,
                    region_id=org[code]["region"].id,
                )
            )
    add_sla(db_session, "SLA-247", [desk], covered="24x7")
    add_standard(
        db_session,
        "DESK-RESP",
        desk,
        [{"metric": "response_within_target_share", "target": 80, "time_limit_minutes": 60,
          "effective_from": date(2026, 1, 1)}],
    )  # fmt: skip
    rows = []
    for external_id, code, opened, minutes in TICKETS:
        start = datetime.fromisoformat(opened)
        rows.append(
            ticket_row(
                external_id, region=code, customer=f"{code}-C", opened=opened,
                first_response=str(start + timedelta(minutes=minutes)), resolved="", closed="", status="open",
            )
        )  # fmt: skip
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes(rows))
    r1, r2 = org["R1"], org["R2"]
    ids = iter(range(1, 10_000))
    for day, values in ((date(2026, 3, 4), [5] * 5 + [2] * 5), (date(2026, 4, 7), [5] * 8 + [3] * 2)):
        insert_observations(
            db_session, r1["region"], desk, "csat", values, day=day, source_ids=ids, customer=r1["customer"]
        )
    insert_observations(
        db_session,
        r1["region"],
        net,
        "csat",
        [5] * 5,
        day=date(2026, 3, 4),
        source_ids=ids,
        customer=r1["customer"],
    )
    insert_observations(
        db_session,
        r2["region"],
        desk,
        "csat",
        [1] * 30,
        day=date(2026, 4, 1),
        source_ids=ids,
        customer=r2["customer"],
    )
    db_session.flush()
    monkeypatch.setitem(app.config, "CLOCK_NOW", datetime(2026, 4, 10, 2, 0))


def _measure(tile_html: str, measure: str) -> str:
    match = re.search(rf'data-measure="{measure}">(.*?)</div>', tile_html, re.S)
    assert match, measure
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_one_tile_per_service_with_sla_beside_experience(served, login_as):
    rep = login_as("customer_rep", username="rep1", region="R1")
    page = rep.get("/portal", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'class="service-tile sla-bad" data-service="DESK"' in page
    desk = re.search(r'data-service="DESK">(.*?)</article>', page, re.S).group(1)
    assert _measure(desk, "sla") == (
        "67% SLA: tickets within target · missed ▼ -50.0 pp since the first month "
        "n = 6 ticket measurements, last 3 months"
    )
    assert _measure(desk, "csat") == (
        "65%* CSAT (share satisfied) ▲ +30.0 pp since the first month n = 20 answers, last 6 months"
    )
    assert _measure(desk, "nps") == "— NPS n = 0 answers, last 6 months"
    net = re.search(r'data-service="NET">(.*?)</article>', page, re.S).group(1)
    assert 'class="service-tile sla-none" data-service="NET"' in page
    assert _measure(net, "sla").startswith("— SLA: tickets within target n = 0")
    assert _measure(net, "csat").startswith("100%* CSAT")
    assert page.count('<article class="service-tile') == 2


def test_the_tiles_in_chinese(served, login_as):
    rep = login_as("customer_rep", username="rep1", region="R1")
    page = rep.get("/portal", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "各项服务的体验与 SLA 对照" in page
    desk = re.search(r'data-service="DESK">(.*?)</article>', page, re.S).group(1)
    assert _measure(desk, "sla").startswith("67% SLA：达标工单占比 · 未达标 ▼ -50.0")
    assert "n = 6 次工单衡量，近 3 个月" in _measure(desk, "sla")


def test_another_customers_tiles_are_their_own(served, login_as):
    rep = login_as("customer_rep", username="rep2", region="R2")
    page = rep.get("/portal", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-service="NET"' not in page  # Shanghai does not receive NET
    desk = re.search(r'data-service="DESK">(.*?)</article>', page, re.S).group(1)
    assert _measure(desk, "sla").startswith("0% SLA: tickets within target · missed")
    assert "n = 3 ticket measurements" in _measure(desk, "sla")
    assert _measure(desk, "csat").startswith("0% CSAT") and "n = 30 answers" in _measure(desk, "csat")
