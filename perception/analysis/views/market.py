"""Market opportunities (the market-expansion department's queue) and alerts. The request's
transaction commits (perception.core.transaction); a refused change is undone by ``atomic()``."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from perception.analysis.forms import STATUS_LABELS, ActionForm, OpportunityForm
from perception.analysis.models import Alert, Opportunity, OpportunityStatus
from perception.analysis.services.alerts import acknowledge, alerts_for
from perception.analysis.services.names import load_names
from perception.analysis.services.opportunities import (
    OpportunityUpdate,
    market_users,
    titles_in,
    update_opportunity,
)
from perception.analysis.services.opportunities import opportunities as opportunity_list
from perception.analysis.views import bp
from perception.analysis.views.common import flash_problems
from perception.core.authz import Permission, can, get_or_404, region_scope, require
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.i18n import is_zh, lang_code
from perception.core.models.auth import Role
from perception.core.transaction import atomic


def _owner_choices() -> list[SelectChoice]:
    return [SelectChoice(0, "—")] + [SelectChoice(u.id, u.display_name) for u in market_users(orm())]


@bp.get("/opportunities")
@require(Permission.VIEW_MARKET)
def opportunities() -> Any:
    status = request.args.get("status") or None
    status = status if status in tuple(OpportunityStatus) else None
    mine = request.args.get("queue", "1" if g.user.has_role(Role.MARKET) else "0") == "1"
    rows = opportunity_list(
        orm(), region_ids=region_scope(), status=status, queue_for=g.user.id if mine else None
    )
    forms = {}
    for opp in rows:
        form = OpportunityForm(formdata=None, obj=opp, prefix=f"o{opp.id}")
        form.owner_id.choices = _owner_choices()
        form.owner_id.data = opp.owner_id or 0
        forms[opp.id] = form
    owners = {u.id: u.display_name for u in market_users(orm())}
    return render_template(
        "analysis/opportunities.html",
        rows=rows,
        titles=titles_in(orm(), rows, lang_code()),
        forms=forms,
        owners=owners,
        status=status,
        mine=mine,
        statuses=STATUS_LABELS,
        manage=can(Permission.MANAGE_MARKET),
        names=load_names(orm(), customers=False),
        zh=is_zh(),
    )


@bp.post("/opportunities/<int:opp_id>")
@require(Permission.MANAGE_MARKET)
def opportunity_update(opp_id: int) -> Any:
    opp = get_or_404(Opportunity, opp_id)
    form = OpportunityForm(prefix=f"o{opp.id}")
    form.owner_id.choices = _owner_choices()
    if form.validate_on_submit():
        try:
            with atomic():
                update_opportunity(
                    orm(),
                    opp,
                    OpportunityUpdate(
                        status=form.status.data,
                        owner_id=form.owner_id.data or None,
                        clear_owner=not form.owner_id.data,
                        notes=form.notes.data,
                    ),
                )
        except UserError as exc:
            flash_problems(exc)
        else:
            flash(_("Opportunity updated."), "success")
    else:
        flash(_("Please correct the highlighted fields."), "error")
    return redirect(url_for("analysis.opportunities", _anchor=f"opp-{opp.id}"))


@bp.get("/alerts")
@require(Permission.VIEW_ANALYSIS)
def alerts() -> Any:
    mine = request.args.get("mine") == "1"
    rows = alerts_for(orm(), region_scope(), user_id=g.user.id, mine_only=mine)
    addressed = {a.id for a in rows if any(r.user_id == g.user.id for r in a.recipients)}
    return render_template(
        "analysis/alerts.html",
        rows=rows,
        mine=mine,
        addressed=addressed,
        action=ActionForm(),
        names=load_names(orm(), customers=False),
        zh=is_zh(),
    )


@bp.post("/alerts/<int:alert_id>/acknowledge")
@require(Permission.VIEW_ANALYSIS)
def alert_acknowledge(alert_id: int) -> Any:
    alert = get_or_404(Alert, alert_id)
    if ActionForm().validate_on_submit():
        acknowledge(orm(), alert, g.user.id)
        flash(_("Alert acknowledged."), "success")
    return redirect(url_for("analysis.alerts"))
