"""The review pages: the review workspace and the continual improvement register."""

from flask import Blueprint

bp = Blueprint("review", __name__)

# The pages, listed: each module adds its routes to bp.
from perception.review import home  # noqa: E402,F401  (its panels on the home page)
from perception.review.views import portal, register, reviews  # noqa: E402,F401
