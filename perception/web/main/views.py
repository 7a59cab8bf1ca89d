"""The home page: the panels of the signed-in user's roles (perception.core.home), each with its
headline figures and that person's to-dos."""

from __future__ import annotations

from typing import Any

from flask import g, render_template

from perception.core.authz import login_required
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.home import panels_for
from perception.web.main import bp


@bp.get("/")
@login_required
def home() -> Any:
    clock = current_clock()
    return render_template("main/home.html", panels=panels_for(orm(), g.user, clock), today=clock.today())
