"""The JSON API under /api/v1 (Bearer tokens) and its OpenAPI document at /api/openapi.json.

This package is the scaffold only (token auth, the OpenAPI builder, errors, paging) and the platform
endpoints; each phase adds its endpoints from its own ``api.py``, listed in its ``phase()``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api")
blueprints = (bp, docs_bp)

from perception.api import auth, openapi, platform  # noqa: E402,F401
