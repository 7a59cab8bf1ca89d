from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from perception.core import users as user_service
from perception.core.authz import Permission, require
from perception.core.extensions import orm
from perception.core.i18n import is_zh
from perception.core.models.audit import AuditEntry
from perception.core.models.auth import Role, User
from perception.core.models.org import CollectionPoint, CustomerOrg
from perception.core.transaction import atomic
from perception.web.admin import bp
from perception.web.admin.forms import ROLE_LABELS, PasswordResetForm, UserForm

PAGE = 50


def _fill_choices(form: UserForm) -> None:
    none = [SelectChoice("0", "—")]
    form.collection_point_id.choices = none + [
        SelectChoice(str(p.id), f"{p.code} {p.name_en} / {p.name_zh}")
        for p in orm().scalars(select(CollectionPoint).order_by(CollectionPoint.code))
    ]
    form.customer_id.choices = none + [
        SelectChoice(str(c.id), f"{c.code} {c.name_en} / {c.name_zh}")
        for c in orm().scalars(select(CustomerOrg).order_by(CustomerOrg.code))
    ]


def _spec(form: UserForm) -> user_service.UserSpec:
    return user_service.UserSpec(
        username=form.username.data or "",
        display_name=form.display_name.data or "",
        email=form.email.data or None,
        roles=user_service.parse_roles(form.roles.data or []),
        password=form.password.data or None,
        language=form.language.data or None,
        collection_point_id=form.collection_point_id.data or None,
        customer_id=form.customer_id.data or None,
        active=bool(form.active.data),
    )


def _show(form: UserForm, exc: user_service.AccountError) -> None:
    for problem in exc.problems:
        getattr(form, problem.form_field, form.username).errors.append(problem.text(is_zh()))


@bp.get("/users")
@require(Permission.ADMIN_USERS)
def users() -> Any:
    rows = orm().scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=rows, role_labels=ROLE_LABELS, Role=Role)


@bp.route("/users/new", methods=["GET", "POST"])
@require(Permission.ADMIN_USERS)
def user_new() -> Any:
    form = UserForm()
    _fill_choices(form)
    if form.validate_on_submit():
        try:
            with atomic():
                user = user_service.create_user(orm(), _spec(form))
        except user_service.AccountError as exc:
            _show(form, exc)
        else:
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require(Permission.ADMIN_USERS)
def user_edit(user_id: int) -> Any:
    user = orm().get(User, user_id) or abort(404)
    form = UserForm(obj=user)
    _fill_choices(form)
    if request.method == "GET":
        form.roles.data = sorted(r.value for r in user.roles)
        form.collection_point_id.data = user.collection_point_id or 0
        form.customer_id.data = user.customer_id or 0
        form.language.data = user.language or ""
    form.username.data = user.username  # the username never changes
    if form.validate_on_submit():
        try:
            with atomic():
                user_service.update_user(orm(), user, _spec(form))
                if form.password.data:
                    user_service.reset_password(orm(), user, form.password.data)
        except user_service.AccountError as exc:
            _show(form, exc)
        else:
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, reset_form=PasswordResetForm())


@bp.get("/audit")
@require(Permission.VIEW_AUDIT)
def audit() -> Any:
    stmt = select(AuditEntry)
    action = request.args.get("action", "").strip()
    actor = request.args.get("actor", "").strip()
    object_type = request.args.get("object_type", "").strip()
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if actor:
        stmt = stmt.where(AuditEntry.actor_name == actor)
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    total = orm().scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = orm().scalars(stmt.order_by(AuditEntry.id.desc()).limit(PAGE).offset((page - 1) * PAGE)).all()
    actions = orm().scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    return render_template(
        "admin/audit.html",
        rows=rows,
        page=page,
        pages=max((total + PAGE - 1) // PAGE, 1),
        total=total,
        actions=actions,
        filters={"action": action, "actor": actor, "object_type": object_type},
    )
