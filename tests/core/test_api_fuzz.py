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

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.route_walk import World, demo_world

pytestmark = pytest.mark.slow

# Examples per operation: requests that fit the document, and requests that do not (which must be
# refused with a documented 4xx, never a 5xx). The run's time grows with them.
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 3}
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def world(app: Any) -> Iterator[World]:
    with demo_world(app) as built:
        yield built


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
