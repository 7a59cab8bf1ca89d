"""The KPI JSON API: batch imports with dry run and 422 details, region scoping, values and reports."""

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
    assert again.status_code == 422 and again.get_json()["error"]["details"][0]["code"] == "duplicate_file"
    bad = client.post(
        "/api/v1/kpi/tickets", json={"tickets": [ticket_row("API-3", opened="yesterday")]}, headers=headers
    )
    detail = bad.get_json()["error"]["details"][0]
    assert bad.status_code == 422
    assert (detail["row"], detail["column"], detail["value"], detail["code"]) == (
        1,
        "opened",
        "yesterday",
        "bad_datetime",
    )
    assert detail["message_zh"] and detail["message_en"]
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
    assert refused["error"]["details"][0]["code"] == "computed_kpi"


def test_reports_and_breaches_json(client, make_user, db_session, catalog):
    headers = _client(client, make_user, db_session, "manager")
    report = client.get("/api/v1/kpi/reports/monthly?period=2026-03", headers=headers)
    assert report.status_code == 200 and report.get_json()["label"] == "2026-03"
    assert client.get("/api/v1/kpi/reports/monthly?period=2026", headers=headers).status_code == 422
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
