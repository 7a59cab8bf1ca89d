"""The KPI pages: one blueprint under /kpi (its CLI group is `perception kpi`)."""

from flask import Blueprint

bp = Blueprint("kpi", __name__, url_prefix="/kpi", cli_group="kpi")

# The pages, listed: each module adds its routes to bp.
from perception.kpi.views import imports, pages, reports  # noqa: E402,F401
