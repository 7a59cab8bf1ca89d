"""An API fuzz run generated from the OpenAPI document (schemathesis), against the app itself (WSGI,
no network) on the small demo organisation with a real token of the system owner.

Every operation of the document gets a few generated requests (valid and invalid ones); no answer
may be a 5xx, use a status the document does not list, or break the schema documented for its
status. The run is bounded: a handful of examples per operation, no shrinking, no example
database, so it takes well under a minute and a half on an idle two-core machine.

A POST the fuzzer sends runs in the demo's outer transaction, rolled back at the end, so the run
changes nothing outside this module.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.route_walk import World

pytestmark = pytest.mark.slow

# Examples per operation: requests that fit the document, and requests that do not (which must be
# refused with a documented 4xx, never a 5xx). The run's time grows with them.
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 3}
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def world(walk_world: World) -> World:
    return walk_world


def _describe(exc: BaseException) -> str:
    text = str(exc)
    for sub in getattr(exc, "exceptions", ()):
        text += "\n  - " + str(sub)[:600]
    return text[:2500]


def _fuzz_operation(operation: Any, headers: dict[str, str], mode: GenerationMode) -> list[str]:
    failures: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup) as exc:  # a group: the case's failures
            failures.append(f"{operation.label} ({mode.value}): {_describe(exc)}")

    run()
    return failures


def test_the_api_fuzz_run_finds_no_server_error_and_no_response_outside_the_document(
    world: World,
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", world.app)
    headers = {"Authorization": f"Bearer {world.tokens['owner']}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in EXAMPLES:
            failures.extend(_fuzz_operation(operation, headers, mode))
    assert operations > 80
    assert not failures, "\n\n".join(failures)


def test_every_reading_operation_answers_the_body_its_model_documents(world: World) -> None:
    """The fuzz run's random filters mostly meet 404s and 422s; this walks every GET operation once
    with ids the owner may see (tests/route_walk.py) and validates each 200 against the document's
    schema for it, with an independent JSON Schema validator (jsonschema, 2020-12)."""
    import re

    import jsonschema

    from perception.api.openapi import spec
    from tests.route_walk import routes

    with world.app.app_context():
        document = spec()
    headers = {"Authorization": f"Bearer {world.tokens['owner']}"}
    client = world.app.test_client()
    checked, problems = 0, []
    for route in routes(world.app):
        if not route.rule.rule.startswith("/api/v1/") or route.method != "GET":
            continue
        url = world.url(route, "system_owner", "own")
        if url is None:
            continue
        answer = client.get(url, headers=headers)
        if answer.status_code != 200 or answer.mimetype != "application/json":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.rule.rule)
        schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        validator = jsonschema.Draft202012Validator({**schema, "components": document["components"]})
        problems += [
            f"{url}: {e.json_path}: {e.message[:200]}" for e in validator.iter_errors(answer.get_json())
        ]
        checked += 1
    assert checked >= 40 and problems == [], "\n".join(problems)
