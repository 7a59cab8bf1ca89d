"""The setup JSON API: standards in force, one standard's history, confirmation steps with the
other customer refused, SLA lookup, coverage; scoping for customer representatives. Every error
is the one problem+json shape, and "today" is the organisation's."""

from __future__ import annotations

from datetime import date, datetime

from perception.core.users import issue_token
from perception.setup.services.agreements import save_sla
from perception.setup.services.errors import Problems
from perception.setup.services.schema import read_sla
from tests.setup import setup_fixtures
from tests.setup.setup_fixtures import agree, make_standard, standard_def

world = setup_fixtures.world  # the fixture


def _h(db_session, user):
    _, secret = issue_token(db_session, user, "t")
    return {"Authorization": f"Bearer {secret}"}


def test_standards_in_force_and_history(client, db_session, world):
    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    agree(db_session, world, standard, date(2026, 1, 5))
    headers = _h(db_session, world.owner)
    body = client.get("/api/v1/setup/standards?on=2026-02-01&service=DESK", headers=headers).get_json()
    assert [(i["code"], i["version"], i["target"]) for i in body["items"]] == [("DESK-P1", 1, 0.95)]
    assert client.get("/api/v1/setup/standards?on=2025-12-31", headers=headers).get_json()["items"] == []
    bad = client.get("/api/v1/setup/standards?service=NOPE", headers=headers)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    problem = bad.get_json()["errors"][0]
    assert problem["field"] == "service" and problem["code"] == "unknown_reference"
    assert problem["detail"] == "No service with code 'NOPE'." and "NOPE" in problem["detail_zh"]
    tomorrow = client.get("/api/v1/setup/standards?on=tomorrow", headers=headers)
    assert tomorrow.status_code == 422 and tomorrow.mimetype == "application/problem+json"
    assert [(p["field"], p["code"]) for p in tomorrow.get_json()["errors"]] == [("on", "invalid_date")]
    # Dates as people write them are read like the forms read them.
    slashed = client.get("/api/v1/setup/standards?on=2026/2/1&service=DESK", headers=headers).get_json()
    assert slashed["on"] == "2026-02-01" and len(slashed["items"]) == 1
    one = client.get(f"/api/v1/setup/standards/{standard.id}?on=2026-02-01", headers=headers).get_json()
    assert one["in_force"] == {"on": "2026-02-01", "version": 1}
    assert [e["action"] for e in one["versions"][0]["events"]] == [
        "need_confirmed",
        "proposed",
        "accepted_without_history",  # no ticket to replay the rule on: accepted explicitly (issue 14)
        "provider_confirmed",
        "customer_confirmed",
    ]


def test_confirmation_steps_over_the_api(client, db_session, world, app, monkeypatch):
    # 17:00 UTC on 1 March is already 2 March in the organisation's zone: that is "today".
    monkeypatch.setitem(app.config, "ORG_TIMEZONE", "Asia/Shanghai")
    monkeypatch.setitem(app.config, "CLOCK_NOW", datetime(2026, 3, 1, 17, 0))
    owner, manager = _h(db_session, world.owner), _h(db_session, world.manager)
    rep1, rep2 = _h(db_session, world.rep1), _h(db_session, world.rep2)
    sid = client.post(
        "/api/v1/setup/standards",
        json={
            "code": "API-1",
            "service": "DESK",
            "customer": "R1-C",
            "statement_zh": "P1 事件 95% 在 30 分钟内响应",
            "statement_en": "95% of P1 incidents responded within 30 minutes",
            "metric": "response_within_target_share",
            "measured_by": "kpi",
            "comparator": ">=",
            "target": 0.95,
            "unit": "ratio",
            "window": "month",
            "time_limit_minutes": 30,
            "customer_need": "Fast first response",
            "procedure": "Duty rota",
        },
        headers=owner,
    ).get_json()["id"]
    # The other customer's representative cannot see it, let alone confirm it.
    assert (
        client.post(f"/api/v1/setup/standards/{sid}/confirm-need", json={}, headers=rep2).status_code == 404
    )
    refused = client.post(f"/api/v1/setup/standards/{sid}/propose", json={}, headers=rep1)
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert refused.get_json()["code"] == "forbidden" and refused.get_json()["status"] == 403
    assert (
        client.post(f"/api/v1/setup/standards/{sid}/confirm-need", json={}, headers=rep1).status_code == 200
    )
    accept = {"accept_without_history": True}  # no ticket to replay the rule on (issue 14)
    proposed = client.post(f"/api/v1/setup/standards/{sid}/propose", json=accept, headers=owner)
    assert proposed.status_code == 200
    assert client.post(f"/api/v1/setup/standards/{sid}/confirm", json={}, headers=manager).get_json()[
        "status"
    ] == ("proposed")
    refused = client.post(f"/api/v1/setup/standards/{sid}/reject", json={}, headers=rep1)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "comment"
    assert refused.get_json()["errors"][0]["detail_zh"] == "拒绝时请说明原因"
    done = client.post(f"/api/v1/setup/standards/{sid}/confirm", json={"comment": "OK"}, headers=rep1)
    assert done.get_json()["status"] == "confirmed" and done.get_json()["effective_from"] == "2026-03-02"
    sideways = client.post(f"/api/v1/setup/standards/{sid}/sideways", json={}, headers=owner)
    assert sideways.status_code == 404 and sideways.get_json()["errors"][0]["field"] == "step"


def test_general_standard_refuses_an_unbound_customer_with_403(client, db_session, world):
    standard = make_standard(db_session, world, standard_def(code="GEN"))
    agree_rep = _h(db_session, world.rep1)
    client.post(f"/api/v1/setup/standards/{standard.id}/confirm-need", json={}, headers=agree_rep)
    client.post(
        f"/api/v1/setup/standards/{standard.id}/propose",
        json={"accept_without_history": True},
        headers=_h(db_session, world.owner),
    )
    # rep2's customer does not receive DESK: the general standard is invisible to them (404).
    response = client.post(
        f"/api/v1/setup/standards/{standard.id}/confirm", json={}, headers=_h(db_session, world.rep2)
    )
    assert response.status_code == 404


def test_sla_lookup_and_coverage(client, db_session, world):
    p = Problems()
    d = read_sla(
        {"code": "S1", "name_zh": "协议", "name_en": "SLA", "services": ["DESK"], "covered_hours": "24x7"},
        "",
        p,
    )
    save_sla(db_session, d)
    headers = _h(db_session, world.owner)
    found = client.get("/api/v1/setup/sla-for?service=DESK&customer=R1-C", headers=headers).get_json()
    assert found["sla"]["code"] == "S1"
    unknown = client.get("/api/v1/setup/sla-for?service=DESK&customer=ZZ", headers=headers)
    assert unknown.status_code == 404 and unknown.get_json()["errors"][0]["field"] == "customer"
    assert [s["code"] for s in client.get("/api/v1/setup/slas", headers=headers).get_json()["items"]] == [
        "S1"
    ]
    cov = client.get("/api/v1/setup/coverage", headers=headers).get_json()
    assert cov["services_without_plan"] == ["DESK"]
    assert {(c["region"], c["status"]) for c in cov["cells"]} == {("R1", "gap"), ("R2", "gap")}
    refused = client.get("/api/v1/setup/coverage", headers=_h(db_session, world.rep1))
    assert (
        refused.status_code == 403
        and refused.get_json()["detail"] == "The coverage view is for the provider's staff."
    )


def test_customer_representative_sees_own_and_general_standards_only(client, db_session, world):
    own = make_standard(db_session, world, standard_def(code="OWN", customer="R1-C"))
    other = make_standard(db_session, world, standard_def(code="OTHER", customer="R2-C"))
    agree(db_session, world, own, date(2026, 1, 5))
    rep1 = _h(db_session, world.rep1)
    assert client.get(f"/api/v1/setup/standards/{own.id}", headers=rep1).status_code == 200
    assert client.get(f"/api/v1/setup/standards/{other.id}", headers=rep1).status_code == 404
    codes = [
        i["code"]
        for i in client.get("/api/v1/setup/standards?on=2026-02-01", headers=rep1).get_json()["items"]
    ]
    assert codes == ["OWN"]


def test_services_and_tiers_are_listed_with_their_ids_in_stable_pages(client, db_session, world):
    """Issue 16: no endpoint listed services with their ids, which the analysis filters need."""
    from perception.setup.models.catalog import Service, ServiceTier

    for i in range(5):
        db_session.add(Service(code=f"S{i}", name_zh=f"服务{i}", name_en=f"Service {i}"))
    db_session.commit()
    headers = _h(db_session, world.owner)
    everything = client.get("/api/v1/setup/services?per_page=1000", headers=headers).get_json()
    ids = [s["id"] for s in everything["items"]]
    assert ids == sorted(ids) and everything["total"] == len(ids) == db_session.query(Service).count()
    desk = next(s for s in everything["items"] if s["code"] == "DESK")
    assert desk["id"] == db_session.query(Service).filter_by(code="DESK").one().id and desk["name_en"]
    pages = [
        client.get(f"/api/v1/setup/services?per_page=2&page={n}", headers=headers).get_json()["items"]
        for n in range(1, len(ids) // 2 + 2)
    ]
    assert [s["id"] for page in pages for s in page] == ids  # every row once, in order
    tiers = client.get("/api/v1/setup/tiers", headers=headers).get_json()
    assert {t["code"] for t in tiers["items"]} == {t.code for t in db_session.query(ServiceTier)}
    assert client.get("/api/v1/setup/services").status_code == 401


def _walk(client, headers, path, per_page):
    """Every item of a paged list, page by page, and the total the first page announced."""
    first = client.get(f"{path}{'&' if '?' in path else '?'}per_page={per_page}&page=1", headers=headers)
    body = first.get_json()
    items, page = list(body["items"]), 1
    while len(items) < body["total"]:
        page += 1
        more = client.get(
            f"{path}{'&' if '?' in path else '?'}per_page={per_page}&page={page}", headers=headers
        )
        got = more.get_json()["items"]
        assert got, f"page {page} of {path} is empty before the total"
        items += got
    return items, body["total"]


def test_standards_and_customers_are_listed_with_their_ids_in_stable_pages(client, db_session, world):
    """Issue 16: every setup object is listed with its id, in id order, in stable pages."""
    from perception.core.models.org import CustomerOrg
    from perception.setup.models.standards import ServiceStandard

    for i in range(5):
        db_session.add(
            CustomerOrg(
                code=f"C{i}",
                name_zh=f"客户{i}",
                name_en=f"Customer {i}",
                region_id=world.org["R1"]["region"].id,
            )
        )
    standards = [make_standard(db_session, world, standard_def(code=f"DESK-P{i}")) for i in range(5)]
    for standard in standards:
        agree(db_session, world, standard, date(2026, 1, 5))
    db_session.commit()
    headers = _h(db_session, world.owner)

    customers, total = _walk(client, headers, "/api/v1/customers", 2)
    ids = [c["id"] for c in customers]
    assert ids == sorted(ids) == sorted(c.id for c in db_session.query(CustomerOrg)) and total == len(ids)
    assert {c["code"] for c in customers} >= {"C0", "C4", "R1-C", "R2-C"}

    in_force, total = _walk(client, headers, "/api/v1/setup/standards?on=2026-02-01", 2)
    assert [s["standard_id"] for s in in_force] == sorted(s.id for s in standards) and total == 5
    assert {s["code"] for s in in_force} == {f"DESK-P{i}" for i in range(5)}
    one = db_session.get(ServiceStandard, in_force[0]["standard_id"])
    assert one.code == in_force[0]["code"]

    regions, total = _walk(client, headers, "/api/v1/regions", 1)
    assert [r["id"] for r in regions] == sorted(r["id"] for r in regions) and total == 2
    points, _ = _walk(client, headers, "/api/v1/collection-points", 1)
    assert [p["id"] for p in points] == sorted(p["id"] for p in points)
    beyond = client.get("/api/v1/customers?per_page=2&page=999", headers=headers).get_json()
    assert beyond["items"] == [] and beyond["total"] == len(ids)


def test_the_five_principle_check_refuses_a_history_of_absurd_numbers(client, db_session, world):
    """Found by the API fuzz run: values near 1e210 overflowed the standard deviation (500)."""
    standard = make_standard(db_session, world)
    db_session.commit()
    headers = _h(db_session, world.owner)
    url = f"/api/v1/setup/standards/{standard.id}/check"
    absurd = client.post(url, json={"history": [-1.2e210, 0.35, 3.7e95, 0.9]}, headers=headers)
    assert absurd.status_code == 422 and absurd.mimetype == "application/problem+json"
    assert absurd.get_json()["errors"][0]["field"] == "history"
    fine = client.post(url, json={"history": [0.9, 0.93, 0.95, 0.96, 0.97, 0.95]}, headers=headers)
    assert fine.status_code == 200 and {r["principle"] for r in fine.get_json()["results"]} >= {"feasible"}
