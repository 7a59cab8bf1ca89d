"""Administration for the system owner: users and roles, the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from perception.web.admin import keys, views, webhooks_views  # noqa: E402,F401
