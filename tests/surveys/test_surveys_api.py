"""The survey endpoints of the JSON API call the same services as the pages."""

from __future__ import annotations

from sqlalchemy import func, select

from perception.core.users import issue_token
from perception.surveys.models import Campaign, FollowUpTask
from tests.surveys.conftest import store


def _auth(db_session, user):
    _, secret = issue_token(db_session, user, "t")
    return {"Authorization": f"Bearer {secret}"}


def test_publish_create_open_and_rates(client, db_session, make_user, versions, org):
    analyst = make_user("ana", "analyst")
    headers = _auth(db_session, analyst)
    listed = client.get("/api/v1/surveys", headers=headers).get_json()["items"]
    assert {s["code"] for s in listed} >= {"csat_transactional", "nps_relationship"}
    definition = {
        "schema_version": 1,
        "id": "pulse",
        "version": "1",
        "title": {"zh": "脉搏", "en": "Pulse"},
        "pages": [
            {
                "id": "p",
                "questions": [
                    {
                        "id": "csat",
                        "type": "csat",
                        "required": True,
                        "text": {"zh": "满意吗？", "en": "Satisfied?"},
                    }
                ],
            }
        ],
    }
    published = client.post(
        "/api/v1/surveys/pulse/versions", json={"definition": definition}, headers=headers
    )
    assert published.status_code == 201 and published.get_json()["number"] == 1
    again = client.post("/api/v1/surveys/pulse/versions", json={"definition": definition}, headers=headers)
    assert again.get_json()["id"] == published.get_json()["id"]  # unchanged: same frozen version
    broken = client.post(
        "/api/v1/surveys/pulse/versions",
        json={"definition": {**definition, "pages": [{"id": "p"}]}},
        headers=headers,
    )
    assert broken.status_code == 422 and broken.content_type == "application/problem+json"
    problem = broken.get_json()
    assert problem["status"] == 422 and problem["detail"] and problem["detail_zh"]
    assert any(e["field"].startswith("definition.pages[0]") for e in problem["errors"])
    assert all(e["detail_zh"] and e["detail_en"] for e in problem["errors"])
    missing = client.post("/api/v1/surveys/pulse/versions", json={}, headers=headers)
    assert missing.status_code == 422
    assert [(e["field"], e["code"]) for e in missing.get_json()["errors"]] == [("definition", "required")]

    body = {
        "code": "PULSE-1",
        "name_zh": "脉搏",
        "name_en": "Pulse",
        "version_id": published.get_json()["id"],
        "region_id": org["R1"]["region"].id,
        "opens_at": "2026-01-01T00:00:00",
        "closes_at": "2099-01-01T00:00:00",
    }
    bad = client.post("/api/v1/campaigns", json={**body, "channel": "carrier-pigeon"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "channel"
    assert client.post("/api/v1/campaigns", json=[body], headers=headers).status_code == 422
    created = client.post("/api/v1/campaigns", json=body, headers=headers)
    assert created.status_code == 201
    cid = created.get_json()["id"]
    opened = client.post(f"/api/v1/campaigns/{cid}/open", headers=headers)
    assert opened.status_code == 200 and opened.get_json()["status"] == "open"
    again_opened = client.post(f"/api/v1/campaigns/{cid}/open", headers=headers)
    assert again_opened.status_code == 409 and again_opened.content_type == "application/problem+json"
    assert again_opened.get_json()["code"] == "conflict"
    assert again_opened.get_json()["errors"][0]["field"] == "status"
    detail = client.get(f"/api/v1/campaigns/{cid}", headers=headers).get_json()
    assert detail["rate"]["invited"] == 1 and detail["rate"]["responded"] == 0
    assert [r["label_en"] for r in detail["by_region"]] == ["Beijing"]
    locked = client.patch(f"/api/v1/campaigns/{cid}", json={"channel": "anonymous"}, headers=headers)
    assert locked.status_code == 422 and locked.get_json()["errors"][0]["field"] == "channel"
    moved = client.patch(
        f"/api/v1/campaigns/{cid}", json={"closes_at": "2098-01-01T00:00:00"}, headers=headers
    )
    assert moved.status_code == 200 and moved.get_json()["closes_at"].startswith("2098")
    assert db_session.scalar(select(func.count(Campaign.id))) == 1


def test_followups_api_is_region_scoped(client, db_session, make_user, versions, org):
    store(
        db_session,
        versions["csat_transactional"],
        {"csat": 1, "low_reasons": ["attitude"]},
        contact=org["R2"]["contact"],
    )
    r1 = _auth(db_session, make_user("c1", "collector", region="R1"))
    r2 = _auth(db_session, make_user("c2", "collector", region="R2"))
    assert client.get("/api/v1/followups", headers=r1).get_json()["items"] == []
    items = client.get("/api/v1/followups", headers=r2).get_json()["items"]
    assert [t["reasons"] for t in items] == [["low_csat"]]
    tid = items[0]["id"]
    assert client.patch(f"/api/v1/followups/{tid}", json={"status": "done"}, headers=r1).status_code == 404
    missing = client.patch(f"/api/v1/followups/{tid}", json={"status": "done"}, headers=r2)
    assert missing.status_code == 422 and missing.content_type == "application/problem+json"
    assert [e["field"] for e in missing.get_json()["errors"]] == ["outcome"]
    done = client.patch(
        f"/api/v1/followups/{tid}", json={"status": "done", "outcome": "Apologised, retrained"}, headers=r2
    )
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    assert db_session.scalar(select(FollowUpTask.status)) == "done"


def test_campaign_api_permissions(client, db_session, make_user):
    collector = _auth(db_session, make_user("c1", "collector"))
    assert client.post("/api/v1/campaigns", json={}, headers=collector).status_code == 403
    assert client.get("/api/v1/campaigns", headers=collector).status_code == 200
