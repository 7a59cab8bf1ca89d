"""Every API error, in every phase, has the one RFC 9457 problem+json shape.

The test walks every route under /api/v1 (so a phase that adds an endpoint is walked too) and
sends what a careless client sends: no token, an unknown id, a body that is not JSON, an empty
object, query parameters that do not parse. Whatever the status, an error answers
``application/problem+json`` with the same members, and a problem about fields lists them in
``errors`` with the same members. No request may answer 500.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from werkzeug.routing import IntegerConverter

PROBLEM = {"type", "title", "status", "code", "detail", "detail_zh", "errors"}
FIELD_PROBLEM = {"field", "row", "value", "code", "detail", "detail_zh", "detail_en"}
PHASES = ("setup", "kpi", "surveys", "collection", "analysis", "review")
JUNK_QUERY = "from=last-week&to=2026-13-45&page=x&region=abc&week=W99&lang=xx&format=exe"


def assert_problem(response: Any, where: str) -> dict[str, Any]:
    assert response.mimetype == "application/problem+json", (where, response.status_code, response.data[:300])
    body = response.get_json()
    assert set(body) == PROBLEM, (where, body)
    assert body["status"] == response.status_code, where
    assert body["type"] == "about:blank" and isinstance(body["title"], str) and body["title"], where
    assert isinstance(body["code"], str) and body["code"], where
    assert isinstance(body["detail"], str) and body["detail"] and isinstance(body["detail_zh"], str), where
    assert isinstance(body["errors"], list), where
    for problem in body["errors"]:
        assert set(problem) == FIELD_PROBLEM, (where, problem)
        assert problem["detail"] == problem["detail_en"] and problem["detail_zh"], (where, problem)
        assert isinstance(problem["code"], str) and problem["code"], (where, problem)
    return body


@pytest.fixture
def everyone(db_session: Any, make_user: Any) -> str:
    """A token of a user holding every role that is not bound to one region or customer."""
    from perception.core.models.auth import Role
    from perception.core.users import issue_token

    roles = [r for r in Role if r not in (Role.COLLECTOR, Role.CUSTOMER_REP)]
    user = make_user("everyone", *roles)
    return issue_token(db_session, user, "walk")[1]


def _routes(app: Any) -> list[tuple[Any, str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        module = app.view_functions[rule.endpoint].__module__
        phase = module.split(".")[1] if module.split(".")[1] in PHASES else "platform"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule, method, phase))
    return out


def _url(rule: Any, org: dict[str, Any], unknown: bool) -> str:
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):  # the app's bounded int converter is one too
            known = {"point_id": org["R1"]["point"].id, "region_id": org["R1"]["region"].id}
            values[name] = 999999 if unknown or name not in known else known[name]
        else:
            values[name] = "no-such-thing"
    return rule.build(values, append_unknown=False)[1]


def test_every_api_error_has_the_one_problem_shape(app, client, org, everyone):
    auth = {"Authorization": f"Bearer {everyone}"}
    field_problems: dict[str, int] = defaultdict(int)
    seen: dict[str, int] = defaultdict(int)
    for rule, method, phase in _routes(app):
        for unknown in (True, False):
            url = _url(rule, org, unknown)
            where = f"{method} {url}"
            attempts = [client.open(url, method=method)]  # no token: 401
            if method == "GET":
                attempts.append(client.get(f"{url}?{JUNK_QUERY}", headers=auth))
            else:
                attempts.append(client.open(url, method=method, data="not json", headers=auth))
                attempts.append(client.open(url, method=method, json=[1, 2], headers=auth))
                attempts.append(client.open(url, method=method, json={}, headers=auth))
                attempts.append(client.open(url, method=method, json={"name": 5, "date": "x"}, headers=auth))
            for response in attempts:
                assert response.status_code != 500, (where, response.data[:500])
                if response.status_code >= 400:
                    body = assert_problem(response, where)
                    seen[phase] += 1
                    if body["errors"] and any(p["field"] for p in body["errors"]):
                        field_problems[phase] += 1
    assert seen["platform"] and all(seen[phase] for phase in PHASES), dict(seen)
    # Each phase answers a malformed body with problems that name the fields.
    assert all(field_problems[phase] for phase in PHASES), dict(field_problems)


def test_http_errors_on_the_api_are_problems_too(client, everyone):
    auth = {"Authorization": f"Bearer {everyone}"}
    assert assert_problem(client.get("/api/v1/no-such-endpoint", headers=auth), "404")["status"] == 404
    response = client.delete("/api/v1/regions", headers=auth)
    assert assert_problem(response, "405")["status"] == 405 and "GET" in response.headers["Allow"]
    bad = client.post("/api/v1/campaigns", data="{", content_type="application/json", headers=auth)
    assert assert_problem(bad, "bad json")["status"] == 400
    plain = client.post("/api/v1/campaigns", data="x=1", content_type="text/plain", headers=auth)
    assert assert_problem(plain, "415")["status"] == 415


def test_a_bilingual_field_problem(client, everyone):
    """Field problems say what is wrong in both languages, without internal codes in the text."""
    auth = {"Authorization": f"Bearer {everyone}"}
    response = client.post("/api/v1/kpi/definitions", json={}, headers=auth)
    body = assert_problem(response, "kpi definition")
    assert response.status_code == 422 and body["errors"]
    first = body["errors"][0]
    assert first["field"] and first["detail_en"] != first["detail_zh"]
