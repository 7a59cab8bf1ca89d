"""The home page: where the user stands in the cycle."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from perception.web.main import jobs, views  # noqa: E402,F401
