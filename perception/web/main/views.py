from __future__ import annotations

from typing import Any

from flask import render_template
from sqlalchemy import func, select

from perception.core.authz import login_required, scoped
from perception.core.extensions import orm
from perception.core.models.org import CollectionPoint, CustomerOrg, Region
from perception.web.main import bp


@bp.get("/")
@login_required
def home() -> Any:
    counts = {
        "regions": orm().scalar(scoped(select(func.count(Region.id)), Region)),
        "collection_points": orm().scalar(scoped(select(func.count(CollectionPoint.id)), CollectionPoint)),
        "customers": orm().scalar(scoped(select(func.count(CustomerOrg.id)), CustomerOrg)),
    }
    return render_template("main/home.html", counts=counts)
