"""The customer's survey pages under /s/: personal links, the anonymous link, thank-you, unsubscribe.

No login: a personal link's token is swapped for a session on first opening, an anonymous link
needs nothing. Pages are mobile-first, accessible and in the respondent's language.
"""

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/s")

from perception.surveys.respondent import views  # noqa: E402,F401
