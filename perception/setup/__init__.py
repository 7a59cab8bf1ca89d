"""Phase 1, system setup: strategy, catalogue, standards and their joint confirmation, SLAs/OLAs,
the perception plan and its coverage, organisation, roles, training, configuration as code."""

from flask import Blueprint

bp = Blueprint("setup", __name__, url_prefix="/setup")

from perception.setup import views  # noqa: E402,F401
