"""The setup pages: one blueprint under /setup, one module per page group."""

from flask import Blueprint

bp = Blueprint("setup", __name__, url_prefix="/setup")

# The pages, listed: each module adds its routes to bp.
from perception.setup.views import catalog, config, org, plan, sla, standards, strategy  # noqa: E402,F401
