"""Phase 4, review and evaluation (回顾评价): the semi-annual system review workspace, its sign-off
and PDF report, and the continual improvement register."""

from flask import Blueprint

bp = Blueprint("review", __name__)

from perception.review import cli, views, views_register  # noqa: E402,F401
