"""The OpenAPI 3 document, assembled from what every endpoint declares with ``@document``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import jsonify

from perception.api import docs_bp

PATHS: dict[str, dict[str, Any]] = {}
SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "integer"},
                    "message": {"type": "string"},
                    "details": {},
                },
                "required": ["code", "message"],
            }
        },
    }
}


def document(
    path: str,
    method: str,
    *,
    summary: str,
    tag: str,
    responses: dict[str, Any] | None = None,
    request_schema: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an operation for the OpenAPI document. ``path`` is relative to /api/v1, in OpenAPI form."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        op: dict[str, Any] = {
            "summary": summary,
            "tags": [tag],
            "operationId": func.__name__,
            "responses": responses
            or {
                "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
            },
        }
        op["responses"].setdefault(
            "401", {"description": "Missing or invalid token", "content": _error_content()}
        )
        if parameters:
            op["parameters"] = parameters
        if request_schema is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": request_schema}},
            }
        PATHS.setdefault("/api/v1" + path, {})[method.lower()] = op
        return func

    return register


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def spec() -> dict[str, Any]:
    from perception import __version__

    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Perception API",
            "version": __version__,
            "description": "User-perception system for IT service providers. Authenticate with "
            "'Authorization: Bearer <token>' (issue tokens with `perception token issue`).",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "security": [{"bearer": []}],
        "paths": dict(sorted(PATHS.items())),
    }


@docs_bp.get("/openapi.json")
def openapi_json() -> Any:
    return jsonify(spec())
