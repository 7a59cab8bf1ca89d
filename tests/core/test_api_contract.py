"""The API as a contract (issue 16): the OpenAPI document passes openapi-spec-validator, every
operation's success body is typed by a pydantic model, and every operation documents its errors
as they really are (RFC 9457 problem+json, the members perception.api.errors writes)."""

from __future__ import annotations

from datetime import date
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


# Members that were loose (Any, list[Any], dict[str, Any]) before the models were written from the
# code that builds them: (address, JSON path of a list that must not be empty on the demo).
FORMERLY_LOOSE = [
    ("/api/v1/analysis/overview", ("regions", 0, "csat", "key")),
    ("/api/v1/analysis/experience", ("dimensions", 0, "measure", "key")),
    ("/api/v1/setup/slas", ("items", 0, "indicators")),
    ("/api/v1/reviews/1", ("content", "sections", 0, "blocks")),
    ("/api/v1/reviews/1", ("content", "sections", 0, "facts", "points")),
    ("/api/v1/reviews/1", ("content", "register", "blocks", 0, "columns")),
]


def _at(body: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        body = body[step] if body is not None else None
    return body


def test_the_formerly_loose_members_are_typed_and_hold_what_their_schema_says(demo_databases):
    """On the small demo (tests/route_walk.py), the members the issue found typed Any are non-empty
    and every body validates against its now-typed schema (jsonschema 2020-12)."""
    import re

    from tests.route_walk import demo_world

    app = demo_databases.walk_app()  # the small demo, built once per test process
    with demo_world(app, load=False) as world, app.app_context():
        document = spec()
        client = world.app.test_client()
        headers = {"Authorization": f"Bearer {world.tokens['owner']}"}
        empty, problems = [], []
        for url, path in FORMERLY_LOOSE:
            answer = client.get(url, headers=headers)
            assert answer.status_code == 200, (url, answer.status_code, answer.get_data(as_text=True)[:300])
            body = answer.get_json()
            try:
                value = _at(body, path)
            except (KeyError, IndexError, TypeError):
                value = None
            if not value:
                empty.append(f"{url} {path}: {str(value)[:80]}")
            template = re.sub(r"/\d+", "/{id}", url.split("?")[0])
            ops = {p: o for p, o in document["paths"].items() if re.sub(r"\{\w+\}", "{id}", p) == template}
            content = next(iter(ops.values()))["get"]["responses"]["200"]["content"]
            schema = content["application/json"]["schema"]
            validator = jsonschema.Draft202012Validator({**schema, "components": document["components"]})
            problems += [f"{url}: {e.json_path}: {e.message[:200]}" for e in validator.iter_errors(body)]
    assert problems == [], "\n".join(problems)
    assert empty == [], "\n".join(empty)


def _component(document: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


def _weighting(rng: Any) -> Any:
    """A weighted SERVQUAL result as the experience page builds it (the small demo has none)."""

    from perception.analysis.services.servqual_weights import ServqualWeighting, gap_row
    from scoring import weighted_servqual

    e = rng.integers(4, 8, size=(40, 5)).astype(float)
    w = rng.multinomial(100, [0.2] * 5, size=40).astype(float)
    r = weighted_servqual(e - rng.integers(0, 3, size=e.shape), e, w, ["a", "b", "c", "d", "e"])
    return ServqualWeighting(
        gap_row(r.weighted, 0.95), gap_row(r.unweighted, 0.95), r.weights, r.left_out, 0.95
    )


def test_the_analysis_results_the_small_demo_leaves_empty_validate_against_their_schemas(app):
    """The small demo has too few answers for drivers, IPA, SERVQUAL, KPI-vs-experience cells,
    correlations, lead-lag and needs, so build each from the code that makes them (scoring, the
    demand rows) with data that fills every list, and validate its JSON (as the API serialises it,
    NaN as null) against the component the document names for it."""
    import numpy as np

    from perception.analysis.services.demand import CommonNeedRow, EmergingNeedRow, NeedsView
    from perception.analysis.services.experience import GapRow
    from scoring.association import kpi_experience_correlations, lead_lag
    from scoring.comparison import ComparisonCell, compare_kpi_experience
    from scoring.drivers import importance_performance, key_drivers
    from scoring.results import GroupMeasure, to_jsonable

    with app.app_context():
        document = spec()
    rng = np.random.default_rng(16)
    x = rng.integers(1, 6, size=(120, 3)).astype(float)
    y = x.mean(axis=1) + rng.normal(0, 0.5, 120)
    dims = ["response_speed", "courtesy", "resolution"]
    ipa = importance_performance(x, y, dims)
    drivers = key_drivers(x, y, dims, n_boot=20)
    cells = [
        ComparisonCell(
            service=f"S{s}", region=f"R{r}", period=f"2026-0{p}-01", kpi_value=0.9 - 0.05 * r,
            kpi_target=0.8, kpi_comparator=">=", experience_target=0.8, experience_n=40 + 5 * p,
            experience_successes=20 + 4 * r + p, kpi_n=100,
        )
        for s in (1, 2) for r in (1, 2, 3, 4) for p in (1, 2, 3)
    ]  # fmt: skip
    report = compare_kpi_experience(cells)
    correlations = kpi_experience_correlations(report.cells)
    kpi = np.cumsum(rng.normal(0, 1, 30))
    lag = lead_lag(kpi, np.roll(kpi, 2) + rng.normal(0, 0.3, 30))
    gap = GroupMeasure(("courtesy",), "mean", 40, -0.4, -0.7, -0.1, 0.95, "t", False, sd=0.9)
    needs = NeedsView(
        date(2026, 11, 1), date(2026, 12, 1), 3, 2,
        (CommonNeedRow("t1", "billing", 12, 4, 2, (1, 2), (5, 6, 7, 8)),),
        (EmergingNeedRow("t2", "outage", 9, 100, 2, 120, 0.09, 0.017, 5.4, 0.001, 0.004, (1,)),),
    )  # fmt: skip
    built = [
        ("IpaResult", ipa, ("points",)),
        ("KeyDriverResult", drivers, ("drivers",)),
        ("ServqualGap", GapRow("dimension", "courtesy", "courtesy", 40, 4.1, 4.5, gap), ("gap", "key")),
        ("CellComparison", report.cells[0], ("message",)),
        ("AnalysisKpiVsExperienceCorrelations", correlations, ("across_regions",)),
        ("AnalysisKpiVsExperienceCorrelations", correlations, ("over_time",)),
        ("LeadLagResult", lag, ("correlations",)),
        ("LeadLagResult", lag, ("kpi_to_experience",)),
        ("AnalysisDemandNeeds", needs, ("common",)),
        ("AnalysisDemandNeeds", needs, ("emerging",)),
        ("ServqualWeighting", _weighting(rng), ("weights",)),
    ]
    problems, empty = [], []
    for name, result, path in built:
        body = to_jsonable(result)
        if not _at(body, path):
            empty.append(f"{name} {path}")
        errors = _component(document, name).iter_errors(body)
        problems += [f"{name}: {e.json_path}: {e.message[:200]}" for e in errors]
    assert empty == [], empty
    assert problems == [], "\n".join(problems)
