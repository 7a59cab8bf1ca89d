"""The OpenAPI 3.1 document, assembled from what every endpoint declares with ``@document``.

Request and response bodies are pydantic models (``perception.api.schemas`` and each phase's
``api.py``): ``@document(..., response=Model, request=Model)``; their JSON Schema (2020-12, which
OpenAPI 3.1 uses as it is) lands in ``components/schemas`` under the model's name. Every
operation also documents the errors it can answer, as they really are: RFC 9457
``application/problem+json`` with the members of ``perception.api.errors`` (``Problem``).
The document passes openapi-spec-validator, and a schemathesis run checks that the answers keep
to it (tests/core/test_api_fuzz.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import jsonify
from pydantic import BaseModel

from perception.api import docs_bp
from perception.api.schemas import Problem

PATHS: dict[str, dict[str, Any]] = {}
SCHEMAS: dict[str, dict[str, Any]] = {}
REF = "#/components/schemas/{model}"

# The errors every operation may answer, and those only an operation with a body may.
ERRORS = {
    "400": "Malformed request (a parameter or body that does not parse)",
    "401": "Missing, invalid, expired or revoked token",
    "403": "The token's user or scope may not do this",
    "404": "No such object, or one outside the token's scope",
    "409": "Conflicts with the object's current state",
    "422": "Invalid input; ``errors`` names each field",
    "429": "Too many requests",
}
BODY_ERRORS = {
    "413": "The body or upload is too large",
    "415": "The body is not JSON (or an accepted upload type)",
}


def schema_ref(model: type[BaseModel]) -> dict[str, Any]:
    """A ``$ref`` to ``model``'s schema, which (with the models it uses) joins the components."""
    name = model.__name__
    if name not in SCHEMAS:
        schema = model.model_json_schema(ref_template=REF, mode="serialization")
        for sub, definition in schema.pop("$defs", {}).items():
            SCHEMAS.setdefault(sub, definition)
        SCHEMAS[name] = schema
    return {"$ref": REF.format(model=name)}


def json_content(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": schema_ref(model)}}


def problem_content() -> dict[str, Any]:
    return {"application/problem+json": {"schema": schema_ref(Problem)}}


def document(
    path: str,
    method: str,
    *,
    summary: str,
    tag: str,
    response: type[BaseModel] | None = None,
    status: int = 200,
    request: type[BaseModel] | None = None,
    responses: dict[str, Any] | None = None,
    request_schema: dict[str, Any] | None = None,
    request_content: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an operation for the OpenAPI document. ``path`` is relative to /api/v1, in OpenAPI form.

    ``response`` is the model of the success body (answered with ``status``); ``responses`` adds
    or overrides whole response objects (a PDF, a second success status). ``request`` is the
    model of the JSON body; ``request_content`` other media types it accepts (uploads)."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        ops: dict[str, Any] = {}
        if response is not None:
            ops[str(status)] = {"description": "OK", "content": json_content(response)}
        ops.update(responses or {})
        if not ops:  # not typed yet: tests/core/test_api_contract.py counts these
            ops["200"] = {
                "description": "OK",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        has_body = request is not None or request_schema is not None or request_content is not None
        for code, text in {**ERRORS, **(BODY_ERRORS if has_body else {})}.items():
            ops.setdefault(code, {"description": text, "content": problem_content()})
        op: dict[str, Any] = {
            "summary": summary,
            "tags": [tag],
            "operationId": func.__name__,
            "responses": dict(sorted(ops.items())),
        }
        if parameters:
            op["parameters"] = parameters
        if has_body:
            content: dict[str, Any] = {}
            if request is not None:
                content["application/json"] = {"schema": schema_ref(request)}
            elif request_schema is not None:
                content["application/json"] = {"schema": request_schema}
            content.update(request_content or {})
            op["requestBody"] = {"required": True, "content": content}
        PATHS.setdefault("/api/v1" + path, {})[method.lower()] = op
        return func

    return register


def spec() -> dict[str, Any]:
    from perception import __version__

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Perception API",
            "version": __version__,
            "description": "User-perception system for IT service providers. Authenticate with "
            "'Authorization: Bearer <token>' (issue tokens with `perception token issue`). Every "
            "error is RFC 9457 application/problem+json (schema Problem); lists are paged with "
            "?page= and ?per_page= in id order where they say so.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": dict(sorted(SCHEMAS.items())),
        },
        "security": [{"bearer": []}],
        "paths": dict(sorted(PATHS.items())),
    }


@docs_bp.get("/openapi.json")
def openapi_json() -> Any:
    return jsonify(spec())
