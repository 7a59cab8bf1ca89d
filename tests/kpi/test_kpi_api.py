"""The KPI JSON API: batch imports with dry run and 422 problem+json, region scoping, the ticket list's
filters, values and reports."""

from __future__ import annotations

from datetime import date

from perception.core.users import issue_token
from tests.kpi.conftest import add_standard, ticket_row


def _client(client, make_user, db_session, *roles, region="R1"):
    kw = {}
    if "manager" in roles:
        kw["region_id"] = None
    user = make_user(f"api_{'_'.join(roles)}_{region}", *roles, region=region, **kw)
    _, secret = issue_token(db_session, user, "t")
    return {"Authorization": f"Bearer {secret}"}


def test_ticket_batch_dry_run_apply_and_422(client, make_user, db_session, catalog):
    headers = _client(client, make_user, db_session, "analyst")
    batch = {"tickets": [ticket_row("API-1"), ticket_row("API-2")]}
    dry = client.post("/api/v1/kpi/tickets?dry_run=1", json=batch, headers=headers)
    assert dry.status_code == 200 and dry.get_json()["rows_new"] == 2
    done = client.post("/api/v1/kpi/tickets", json=batch, headers=headers)
    assert done.status_code == 201 and done.get_json()["rows_new"] == 2
    again = client.post("/api/v1/kpi/tickets", json=batch, headers=headers)
    assert again.status_code == 422 and again.mimetype == "application/problem+json"
    assert again.get_json()["code"] == again.get_json()["errors"][0]["code"] == "duplicate_file"
    bad = client.post(
        "/api/v1/kpi/tickets", json={"tickets": [ticket_row("API-3", opened="yesterday")]}, headers=headers
    )
    body = bad.get_json()
    assert bad.status_code == body["status"] == 422 and bad.mimetype == "application/problem+json"
    (problem,) = body["errors"]
    assert (problem["row"], problem["field"], problem["value"], problem["code"]) == (
        1,
        "opened",
        "yesterday",
        "bad_datetime",
    )
    assert problem["detail_zh"] == "不是有效的日期时间（例如 2026-03-01 09:15）"
    assert problem["detail_en"] == "not a valid date and time (e.g. 2026-03-01 09:15)"
    assert 'Row 1, column opened, value "yesterday"' in body["detail"]
    listed = client.get("/api/v1/kpi/tickets", headers=headers).get_json()
    assert listed["total"] == 2


def test_collector_api_scope(client, make_user, db_session, catalog):
    admin = _client(client, make_user, db_session, "analyst")
    batch = {"tickets": [ticket_row("S-1"), ticket_row("S-2", region="R2", customer="R2-C")]}
    client.post("/api/v1/kpi/tickets", json=batch, headers=admin)
    items = client.get("/api/v1/kpi/tickets", headers=admin).get_json()["items"]
    other = next(t["id"] for t in items if t["external_id"] == "S-2")
    own = next(t["id"] for t in items if t["external_id"] == "S-1")
    collector = _client(client, make_user, db_session, "collector", region="R1")
    assert [
        t["external_id"] for t in client.get("/api/v1/kpi/tickets", headers=collector).get_json()["items"]
    ] == ["S-1"]
    assert client.get(f"/api/v1/kpi/tickets/{own}", headers=collector).status_code == 200
    assert client.get(f"/api/v1/kpi/tickets/{other}", headers=collector).status_code == 404
    assert client.post("/api/v1/kpi/tickets", json=batch, headers=collector).status_code == 403


def test_kpi_values_import_with_target_from_the_standard(client, make_user, db_session, catalog):
    add_standard(
        db_session,
        "DESK-2RING",
        catalog["DESK"],
        [
            {
                "metric": "answered_by_2nd_ring_share",
                "target": 0.96,
                "unit": "ratio",
                "effective_from": date(2026, 1, 1),
            },
        ],
    )
    headers = _client(client, make_user, db_session, "analyst")
    definition = {
        "code": "RING2",
        "name_zh": "两声接听率",
        "name_en": "Answered by 2nd ring",
        "unit": "%",
        "direction": "higher",
        "metric": "answered_by_2nd_ring_share",
    }
    assert client.post("/api/v1/kpi/definitions", json=definition, headers=headers).status_code == 201
    values = {
        "values": [
            {
                "kpi": "RING2",
                "service": "DESK",
                "region": "R1",
                "period": "2026-W10",
                "value": "97.5%",
                "n": 400,
            },
            {"kpi": "RING2", "service": "DESK", "region": "R2", "period": "2026-W10", "value": 94.0},
        ]
    }
    assert client.post("/api/v1/kpi/values", json=values, headers=headers).status_code == 201
    got = client.get("/api/v1/kpi/values?kpi=RING2&from=2026-03-01&to=2026-03-31", headers=headers).get_json()
    rows = {r["region_code"]: r for r in got["items"]}
    assert (rows["R1"]["value"], rows["R1"]["target"], rows["R1"]["met"], rows["R1"]["n"]) == (
        97.5,
        96.0,
        True,
        400,
    )
    assert (rows["R2"]["met"], rows["R2"]["provenance"], rows["R2"]["period_start"]) == (
        False,
        "imported",
        "2026-03-02",
    )
    update = {"values": [dict(values["values"][1], value=96.5)]}
    changed = client.post("/api/v1/kpi/values", json=update, headers=headers).get_json()
    assert (changed["rows_new"], changed["rows_changed"]) == (0, 1)
    computed = {
        "values": [{"kpi": "TK_VOLUME", "service": "DESK", "region": "R1", "period": "2026-W10", "value": 3}]
    }
    client.post("/api/v1/kpi/compute?weeks=1", headers=headers)  # creates the built-in definitions
    refused = client.post("/api/v1/kpi/values", json=computed, headers=headers).get_json()
    assert refused["errors"][0]["code"] == "computed_kpi" and refused["errors"][0]["field"] == "kpi"


def test_reports_and_breaches_json(client, make_user, db_session, catalog):
    headers = _client(client, make_user, db_session, "manager")
    report = client.get("/api/v1/kpi/reports/monthly?period=2026-03", headers=headers)
    assert report.status_code == 200 and report.get_json()["label"] == "2026-03"
    bad = client.get("/api/v1/kpi/reports/monthly?period=2026", headers=headers)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert [(p["field"], p["code"]) for p in bad.get_json()["errors"]] == [("period", "bad_period")]
    unknown = client.get("/api/v1/kpi/reports/weekly", headers=headers)
    assert unknown.status_code == 404 and unknown.get_json()["errors"][0]["field"] == "kind"
    bad_day = client.get("/api/v1/kpi/breaches?from=2026-02-30", headers=headers)
    assert bad_day.status_code == 422
    assert [(p["field"], p["code"]) for p in bad_day.get_json()["errors"]] == [("from", "invalid_date")]
    assert (
        client.get("/api/v1/kpi/breaches?from=2026-03-01&to=2026-04-01", headers=headers).status_code == 200
    )
    assert client.get("/api/v1/kpi/attainment", headers=headers).status_code == 200
    assert client.get("/api/v1/kpi/escalations", headers=headers).get_json() == {"items": []}


def test_kpi_values_are_region_scoped(client, make_user, db_session, catalog):
    admin = _client(client, make_user, db_session, "analyst")
    definition = {
        "code": "LOCAL",
        "name_zh": "本地指标",
        "name_en": "Local KPI",
        "unit": "count",
        "direction": "lower",
    }
    client.post("/api/v1/kpi/definitions", json=definition, headers=admin)
    values = {
        "values": [
            {"kpi": "LOCAL", "service": "DESK", "region": r, "period": "2026-W10", "value": 1}
            for r in ("R1", "R2")
        ]
    }
    assert client.post("/api/v1/kpi/values", json=values, headers=admin).status_code == 201
    collector = _client(client, make_user, db_session, "collector", region="R2")
    got = client.get(
        "/api/v1/kpi/values?kpi=LOCAL&from=2026-03-01&to=2026-03-31", headers=collector
    ).get_json()
    assert [r["region_code"] for r in got["items"]] == ["R2"] and got["total"] == 1


def test_definition_problems_are_problem_json(client, make_user, db_session, catalog):
    headers = _client(client, make_user, db_session, "analyst")
    definition = {"code": "X1", "name_zh": "指标", "name_en": "KPI", "default_target": "high"}
    bad_target = client.post("/api/v1/kpi/definitions", json=definition, headers=headers)
    assert bad_target.status_code == 422 and bad_target.mimetype == "application/problem+json"
    assert [(p["field"], p["code"]) for p in bad_target.get_json()["errors"]] == [
        ("default_target", "bad_number")
    ]
    created = client.post(
        "/api/v1/kpi/definitions", json=dict(definition, default_target=90), headers=headers
    )
    assert created.status_code == 201 and created.get_json()["default_target"] == 90
    clash = client.post("/api/v1/kpi/definitions", json=dict(definition, default_target=90), headers=headers)
    problem = clash.get_json()["errors"][0]
    assert clash.status_code == 422
    assert (problem["field"], problem["code"], problem["detail_zh"]) == (
        "code",
        "duplicate_code",
        "已有相同代码的 KPI",
    )
    not_object = client.post("/api/v1/kpi/definitions", json=["X2"], headers=headers)
    assert not_object.status_code == 422 and not_object.mimetype == "application/problem+json"


def test_ticket_list_filters(client, make_user, db_session, catalog):
    headers = _client(client, make_user, db_session, "analyst")
    batch = {
        "tickets": [
            ticket_row("F-1"),
            ticket_row("F-2", service="NET", status="open", resolved="", closed=""),
            ticket_row(
                "G-3",
                region="R2",
                customer="R2-C",
                opened="2026-03-09 09:00",
                first_response="2026-03-09 09:20",
                resolved="2026-03-09 11:00",
                closed="2026-03-09 12:00",
            ),
        ]
    }
    assert client.post("/api/v1/kpi/tickets", json=batch, headers=headers).status_code == 201

    def ids(query: str) -> list[str]:
        response = client.get(f"/api/v1/kpi/tickets?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return sorted(t["external_id"] for t in response.get_json()["items"])

    net, r2 = catalog["NET"].id, catalog["R2"]["region"].id
    assert ids("status=open") == ["F-2"]
    assert ids("status=nonsense") == ["F-1", "F-2", "G-3"]  # an unknown status filters nothing, as before
    assert ids(f"service_id={net}") == ["F-2"]
    assert ids(f"region_id={r2}") == ["G-3"]
    assert ids("q=F-") == ["F-1", "F-2"]
    # Days in the organisation's zone (UTC+8): 2026-03-09 09:00 local is 01:00 UTC that day.
    assert ids("from=2026-03-09") == ["G-3"]
    assert ids("to=2026-03-09") == ["F-1", "F-2"]
    assert ids("from=2026/3/2&to=2026-03-03") == ["F-1", "F-2"]
    bad = client.get("/api/v1/kpi/tickets?to=someday", headers=headers)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "to"
