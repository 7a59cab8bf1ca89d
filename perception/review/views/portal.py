"""The customer representative's portal (客户门户, issue 17): one page with what waits for them
(standards to confirm, reviews to countersign) and how their organisation is served. Everything
comes from perception.review.services.portal, which reads one customer's data only."""

from __future__ import annotations

from typing import Any

from flask import abort, g, render_template

from perception.core.authz import Permission, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.review.forms import SignForm
from perception.review.services import portal as review_portal
from perception.review.views import bp


@bp.get("/portal")
@require(Permission.CONFIRM_STANDARD_CUSTOMER)
def portal() -> Any:
    if g.user.customer_id is None:
        abort(404)
    data = review_portal.portal(orm(), g.user.customer_id, today=current_clock().today())
    return render_template("review/portal.html", portal=data, form=SignForm())
