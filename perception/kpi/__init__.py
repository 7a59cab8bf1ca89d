"""Tickets and internal KPIs (issue 6): ticket and KPI imports with dry run, KPI values, SLA
attainment and breaches, open escalations, and the monthly/quarterly SLA-failure reports."""

from flask import Blueprint

bp = Blueprint("kpi", __name__, url_prefix="/kpi", cli_group="kpi")

from perception.kpi import cli, views, views_import, views_reports  # noqa: E402,F401
