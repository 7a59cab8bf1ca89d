"""The API as a contract (issue 16): the OpenAPI document passes openapi-spec-validator, every
operation's success body is typed by a pydantic model, and every operation documents its errors
as they really are (RFC 9457 problem+json, the members perception.api.errors writes)."""

from __future__ import annotations

from typing import Any

import jsonschema
from openapi_spec_validator import validate

from perception.api.openapi import spec


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def test_the_openapi_document_passes_the_validator(app):
    with app.app_context():
        document = spec()
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises OpenAPIValidationError naming the part that is wrong


def test_every_success_body_is_typed_by_a_model(app):
    with app.app_context():
        document = spec()
    untyped = []
    for path, method, op in _operations(document):
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                continue
            for media, content in response.get("content", {}).items():
                schema = content.get("schema")
                if media == "application/json" and (schema is None or "$ref" not in schema):
                    untyped.append(f"{method.upper()} {path} {status}")
    assert untyped == []


def test_every_operation_documents_its_errors_as_problem_json(app, client, make_user, db_session):
    from perception.core.users import issue_token

    with app.app_context():
        document = spec()
    problem = document["components"]["schemas"]["Problem"]
    for path, method, op in _operations(document):
        for status in ("401", "403", "404", "422"):
            content = op["responses"][status]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
    _, secret = issue_token(db_session, make_user("ana", "analyst"), "t")
    db_session.commit()
    answers = [
        client.get("/api/v1/regions"),  # 401
        client.get("/api/v1/audit", headers={"Authorization": f"Bearer {secret}"}),  # 403
        client.get("/api/v1/regions/2000000000", headers={"Authorization": f"Bearer {secret}"}),  # 404
        client.get("/api/v1/analysis/overview?from=nonsense", headers={"Authorization": f"Bearer {secret}"}),
    ]
    resolver = {"components": document["components"]}
    for answer in answers:
        assert answer.mimetype == "application/problem+json"
        jsonschema.validate(answer.get_json(), {**problem, **resolver}, cls=jsonschema.Draft202012Validator)
    assert [a.status_code for a in answers] == [401, 403, 404, 422]


def test_what_the_fuzz_run_found_stays_fixed(client, make_user, db_session):
    """Found by tests/core/test_api_fuzz.py: a too-long id in the path of a PATCH answered 405
    (GET: 404); a KPI definition naming a standard that does not exist answered 500; one sent
    with ``"code": null`` was stored with the code "NONE"."""
    from perception.core.users import issue_token

    _, secret = issue_token(db_session, make_user("boss", "system_owner"), "t")
    db_session.commit()
    h = {"Authorization": f"Bearer {secret}"}
    for method in ("get", "patch", "post"):
        answer = getattr(client, method)("/api/v1/campaigns/1001094686436951326720", json={}, headers=h)
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json", method
    assert client.patch("/api/v1/campaigns/2147483648", json={}, headers=h).status_code == 404
    unknown = client.post(
        "/api/v1/kpi/definitions",
        json={"code": "X1", "name_zh": "甲", "name_en": "A", "standard_id": 20000},
        headers=h,
    )
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "standard_id"
    for wrong in ("7", 2**40, True):
        body = {"code": "X1", "name_zh": "甲", "name_en": "A", "standard_id": wrong}
        assert client.post("/api/v1/kpi/definitions", json=body, headers=h).status_code == 422, wrong
    empty = client.post(
        "/api/v1/kpi/definitions", json={"code": None, "name_zh": None, "name_en": None}, headers=h
    )
    assert empty.status_code == 422
    assert "code" in {e["field"] for e in empty.get_json()["errors"]}


def test_what_no_column_holds_is_refused_before_the_database(client, make_user, db_session):
    """Found by the fuzz run on PostgreSQL: a NUL character in a query parameter or a JSON text,
    and an id beyond an INTEGER column in a JSON body, reached the database (500 there)."""
    from perception.core.users import issue_token

    _, secret = issue_token(db_session, make_user("boss", "system_owner"), "t")
    db_session.commit()
    h = {"Authorization": f"Bearer {secret}"}
    nul = client.get("/api/v1/setup/standards?service=DE%00SK", headers=h)
    assert nul.status_code == 400 and nul.get_json()["errors"][0]["field"] == "service"
    assert nul.get_json()["detail_zh"]
    body = {"code": "C1", "customer_id": 3804097729, "name_zh": "甲\u0000", "kind": None}
    refused = client.post("/api/v1/campaigns", json=body, headers=h)
    assert refused.status_code == 422
    assert {(e["field"], e["code"]) for e in refused.get_json()["errors"]} == {
        ("customer_id", "out_of_range"),
        ("name_zh", "nul_character"),
    }
    nested = client.post("/api/v1/kpi/tickets", json={"tickets": [{"region_id": 2**40}]}, headers=h)
    assert nested.status_code == 422 and nested.get_json()["errors"][0]["field"] == "tickets[0].region_id"
