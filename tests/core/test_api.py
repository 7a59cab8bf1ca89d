"""The JSON API: Bearer tokens, JSON errors, the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

from perception.core.models.base import utcnow
from perception.core.users import issue_token, revoke_token


def _auth(secret):
    return {"Authorization": f"Bearer {secret}"}


def test_api_requires_token(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert (body["status"], body["code"], body["errors"]) == (401, "unauthorized", [])
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_ignores_session_cookie(login_as):
    c = login_as("analyst")
    assert c.get("/api/v1/me").status_code == 401


def test_token_roundtrip_and_revocation(client, make_user, db_session):
    user = make_user("alice", "analyst", "manager")
    token, secret = issue_token(db_session, user, "laptop")
    me = client.get("/api/v1/me", headers=_auth(secret)).get_json()
    assert me["username"] == "alice" and me["roles"] == ["analyst", "manager"]
    assert token.token_hash != secret and secret not in token.token_hash
    revoke_token(db_session, token)
    assert client.get("/api/v1/me", headers=_auth(secret)).status_code == 401


def test_expired_token_refused(client, make_user, db_session):
    user = make_user("alice", "analyst")
    _, secret = issue_token(db_session, user, "old", expires_at=utcnow() - timedelta(seconds=1))
    assert client.get("/api/v1/me", headers=_auth(secret)).status_code == 401


def test_wrong_token_refused(client):
    assert client.get("/api/v1/me", headers=_auth("pcp_not-a-token")).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_api_permission_denied_is_json(client, make_user, db_session):
    user = make_user("alice", "collector")
    _, secret = issue_token(db_session, user, "t")
    response = client.get("/api/v1/audit", headers=_auth(secret))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert (response.get_json()["status"], response.get_json()["code"]) == (403, "forbidden")


def test_api_unknown_path_is_json_404(client, make_user, db_session):
    user = make_user("alice", "analyst")
    _, secret = issue_token(db_session, user, "t")
    response = client.get("/api/v1/nothing-here", headers=_auth(secret))
    assert response.status_code in (401, 404)
    assert response.is_json


def test_openapi_document(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/me" in spec["paths"]
    assert "/api/v1/regions/{region_id}" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_every_api_route_is_documented(app):
    from perception.api.openapi import PATHS

    documented = {(path, method) for path, ops in PATHS.items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (
                f"{method} {rule.rule} is not in the OpenAPI document"
            )


def test_healthz(client):
    body = client.get("/healthz").get_json()
    assert body["database"]["status"] == "ok"
