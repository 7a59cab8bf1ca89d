"""JSON error bodies: {"error": {"code", "message", "details"}} with field/row-level details."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request


def api_error(code: int, message: str, details: Any = None) -> Any:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return jsonify(body), code


def json_body() -> tuple[dict[str, Any] | list[Any] | None, Any]:
    """The request's JSON body, or an error response naming the problem."""
    if not request.is_json:
        return None, api_error(415, "Send a JSON body with Content-Type: application/json.")
    data = request.get_json(silent=True)
    if data is None:
        return None, api_error(400, "The body is not valid JSON.")
    return data, None


def page_args(default_size: int = 100, max_size: int = 1000) -> tuple[int, int]:
    try:
        page = max(int(request.args.get("page", 1)), 1)
        size = min(max(int(request.args.get("per_page", default_size)), 1), max_size)
    except ValueError:
        page, size = 1, default_size
    return page, size
