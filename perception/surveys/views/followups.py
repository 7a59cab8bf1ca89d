"""Follow-up tasks: the list for the user's regions and one task with its response and outcome."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from perception.core.authz import Permission, can, deny, get_or_404, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.i18n import is_zh, lang_code
from perception.core.models.auth import User
from perception.core.models.org import Contact, CustomerOrg, Region
from perception.core.transaction import atomic
from perception.surveys.forms import FollowUpForm
from perception.surveys.labels import FOLLOWUP_STATUS_LABELS
from perception.surveys.models import FollowUpTask
from perception.surveys.services import followup, followup_routing
from perception.surveys.services.definitions import questionnaire_of
from perception.surveys.services.errors import SurveyError
from perception.surveys.views import bp


@bp.get("/followups")
@require(Permission.VIEW_COLLECTION, Permission.VIEW_SURVEYS)
def followups() -> Any:
    status = request.args.get("status") or None
    rows = followup.followups(orm(), g.user, status=status)
    regions = {
        r.id: r for r in orm().scalars(select(Region).where(Region.id.in_({t.region_id for t in rows})))
    }
    customers = {
        c.id: c
        for c in orm().scalars(
            select(CustomerOrg).where(CustomerOrg.id.in_({t.customer_id for t in rows if t.customer_id}))
        )
    }
    owner_ids = {t.assignee_id for t in rows if t.assignee_id}
    owners = {u.id: u for u in orm().scalars(select(User).where(User.id.in_(owner_ids)))} if owner_ids else {}
    return render_template(
        "surveys/followups.html", tasks=rows, status=status, regions=regions, customers=customers,
        statuses=FOLLOWUP_STATUS_LABELS, owners=owners, today=current_clock().today(),
        is_overdue=followup_routing.is_overdue,
    )  # fmt: skip


@bp.route("/followups/<int:task_id>", methods=["GET", "POST"])
@require(Permission.VIEW_COLLECTION, Permission.VIEW_SURVEYS)
def followup_task(task_id: int) -> Any:
    task = get_or_404(FollowUpTask, task_id)
    form = FollowUpForm(obj=task)
    form.status.choices = [SelectChoice(k, str(v)) for k, v in FOLLOWUP_STATUS_LABELS.items()]
    editable = can(Permission.MANAGE_FOLLOWUPS)
    if request.method == "POST":
        if not editable:
            deny("missing permission manage_followups", object_type="FollowUpTask", object_id=task.id)
        if form.validate_on_submit():
            try:
                with atomic():
                    followup.update_followup(
                        orm(), task, status=form.status.data or "", outcome=form.outcome.data,
                        assignee_id=g.user.id, now=current_clock().now(),
                    )  # fmt: skip
            except SurveyError as exc:
                for problem in exc.problems:
                    target = form._fields.get(problem.form_field, form.status)
                    target.errors = [*target.errors, problem.text(is_zh())]  # type: ignore[assignment]
            else:
                flash(_("Follow-up task saved."), "success")
                return redirect(url_for("surveys.followups"))
    response = task.response
    questionnaire = questionnaire_of(response.version)
    contact = orm().get(Contact, task.contact_id) if task.contact_id else None
    customer = orm().get(CustomerOrg, task.customer_id) if task.customer_id else None
    return render_template(
        "surveys/followup.html", task=task, form=form, response=response, q=questionnaire,
        contact=contact, customer=customer, editable=editable, lang=lang_code(),
    ), (422 if form.errors else 200)  # fmt: skip
