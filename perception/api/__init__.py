"""The JSON API under /api/v1 (Bearer tokens) and its OpenAPI document at /api/openapi.json.

Phases add endpoint modules to API_MODULES; a listed module that does not exist yet is skipped.
"""

from __future__ import annotations

import importlib
import importlib.util

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api")
blueprints = (bp, docs_bp)

API_MODULES = (
    "perception.api.core",
    "perception.api.setup",
    "perception.api.surveys",
    "perception.api.collection",
    "perception.api.kpi",
    "perception.api.analysis",
    "perception.api.review",
)

from perception.api import auth, openapi  # noqa: E402,F401

for _name in API_MODULES:
    if importlib.util.find_spec(_name) is not None:
        importlib.import_module(_name)
