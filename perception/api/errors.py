"""The API's one error shape: RFC 9457 ``application/problem+json``.

Every error the API answers, whatever raised it (a ``UserError`` from an operation, an HTTP error
such as 401/403/404/405/415/429, a CSRF or JSON-parsing problem, an unexpected failure), has the
same members::

    {"type": "about:blank", "title": "Unprocessable Content", "status": 422,
     "code": "invalid", "detail": "...", "detail_zh": "...",
     "errors": [{"field", "row", "value", "code", "detail", "detail_zh", "detail_en"}, ...]}

``errors`` is empty for errors that are not about particular fields. Handlers raise; they do not
build error bodies themselves (``perception.web.errors`` turns exceptions into this shape).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, json, request
from werkzeug.http import HTTP_STATUS_CODES

from perception.core.errors import Problem, UserError

PROBLEM_JSON = "application/problem+json"

# Stable codes for the HTTP errors that are not about a field.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
}


def problem_response(
    status: int,
    detail_en: str,
    detail_zh: str | None = None,
    *,
    code: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "code": code or STATUS_CODES.get(status, "error"),
        "detail": detail_en,
        "detail_zh": detail_zh or detail_en,
        "errors": errors or [],
    }
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def user_error_response(exc: UserError) -> Response:
    first = exc.problems[0] if exc.problems else None
    return problem_response(
        exc.status,
        exc.text("en"),
        exc.text("zh"),
        code=first.code if first is not None and len(exc.problems) == 1 else STATUS_CODES.get(exc.status),
        errors=exc.as_json(),
    )


def bad_request(
    field: str | None, zh: str, en: str, *, status: int = 400, code: str = "bad_request"
) -> UserError:
    """A malformed request (wrong content type, unparsable JSON): raise what this returns."""
    return UserError([Problem(field, zh, en, code=code)], status=status)


def json_body() -> dict[str, Any] | list[Any]:
    """The request's JSON body; a 415 or 400 problem when there is none or it does not parse."""
    if not request.is_json:
        raise bad_request(
            None,
            "请以 Content-Type: application/json 发送 JSON 请求体。",
            "Send a JSON body with Content-Type: application/json.",
            status=415,
            code="unsupported_media_type",
        )
    data = request.get_json(silent=True)
    if data is None:
        raise bad_request(None, "请求体不是有效的 JSON。", "The body is not valid JSON.", code="invalid_json")
    problems: list[Problem] = []
    _check_values(data, "", problems)
    if problems:
        raise UserError(problems[:20])
    return data


def optional_object() -> dict[str, Any]:
    """The request's JSON object when it sent one (anything else: an empty object), checked as
    ``json_body`` checks it."""
    data = request.get_json(silent=True) if request.is_json else None
    if not isinstance(data, dict):
        return {}
    problems: list[Problem] = []
    _check_values(data, "", problems)
    if problems:
        raise UserError(problems[:20])
    return data


ID_MIN, ID_MAX = -(2**31), 2**31 - 1  # what an INTEGER column holds


def _check_values(value: Any, path: str, problems: list[Problem]) -> None:
    """What no column can store, anywhere in a JSON body: a NUL character in a text (PostgreSQL
    refuses it) and an id (``id`` or ``..._id``) outside an INTEGER column. Each is a 422 naming
    the member's path, instead of a database error."""
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                problems.append(
                    Problem(
                        name,
                        "名称含有空字符（NUL）",
                        "the name contains a NUL character",
                        code="nul_character",
                    )
                )
            key_is_id = str(key) == "id" or str(key).endswith("_id")
            if (
                key_is_id
                and isinstance(item, int)
                and not isinstance(item, bool)
                and not ID_MIN <= item <= ID_MAX
            ):
                problems.append(
                    Problem(
                        name,
                        "编号超出范围",
                        "the id is out of range",
                        code="out_of_range",
                        value=str(item)[:40],
                    )
                )
            _check_values(item, name, problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_values(item, f"{path}[{index}]", problems)
    elif isinstance(value, str) and "\x00" in value:
        problems.append(
            Problem(
                path or None,
                "文本含有空字符（NUL）",
                "the text contains a NUL character",
                code="nul_character",
            )
        )


def json_object() -> dict[str, Any]:
    """The request's JSON body, which must be an object."""
    data = json_body()
    if not isinstance(data, dict):
        raise bad_request(
            None, "请求体应为 JSON 对象。", "The body must be a JSON object.", status=422, code="invalid"
        )
    return data


def page_args(default_size: int = 100, max_size: int = 1000) -> tuple[int, int]:
    # type=int: text falls back to the default, a number no column holds is a 400 (web.parameters)
    page = max(request.args.get("page", 1, type=int), 1)
    size = min(max(request.args.get("per_page", default_size, type=int), 1), max_size)
    return page, size


def api_error(status: int, message: str, details: Any = None) -> Response:
    """Transitional: phases still being moved to raising UserError. Same shape as every error."""
    errors = details if isinstance(details, list) else None
    return problem_response(status, message, errors=errors)
