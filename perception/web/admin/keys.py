"""API keys apart from users' sign-in: the system owner lists, issues (scoped) and revokes them.

A key's secret is shown once, on the page that issued it (never in a flash message, which would
put it in the session cookie)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from perception.core import users as user_service
from perception.core.authz import Permission, get_or_404, require
from perception.core.extensions import orm
from perception.core.i18n import is_zh, localized
from perception.core.models.auth import ApiToken, User
from perception.core.models.base import utcnow
from perception.core.models.org import CustomerOrg, Region
from perception.core.transaction import atomic
from perception.web.admin import bp
from perception.web.admin.forms import ROLE_LABELS, ApiKeyForm, RevokeForm


def _choices(form: ApiKeyForm) -> None:
    users = orm().scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    form.user_id.choices = [SelectChoice(u.id, f"{u.display_name} ({u.username})") for u in users]
    none = [SelectChoice(0, "—")]
    regions = orm().scalars(select(Region).order_by(Region.code))
    form.region_ids.choices = [SelectChoice(r.id, localized(r)) for r in regions]
    customers = orm().scalars(select(CustomerOrg).order_by(CustomerOrg.code))
    form.customer_id.choices = none + [SelectChoice(c.id, localized(c)) for c in customers]


def _page(form: ApiKeyForm, secret: str | None = None, issued: ApiToken | None = None) -> Any:
    keys = orm().scalars(select(ApiToken).order_by(ApiToken.id.desc())).all()
    regions = {r.id: r for r in orm().scalars(select(Region))}
    customers = {c.id: c for c in orm().scalars(select(CustomerOrg))}
    return render_template(
        "admin/keys.html", keys=keys, form=form, revoke_form=RevokeForm(), secret=secret, issued=issued,
        regions=regions, customers=customers, role_labels=ROLE_LABELS, now=utcnow(),
    )  # fmt: skip


@bp.get("/keys")
@require(Permission.ADMIN_USERS)
def keys() -> Any:
    form = ApiKeyForm()
    _choices(form)
    return _page(form)


@bp.post("/keys")
@require(Permission.ADMIN_USERS)
def key_new() -> Any:
    form = ApiKeyForm()
    _choices(form)
    if not form.validate_on_submit():
        return _page(form), 422
    user = orm().get(User, form.user_id.data)
    if user is None:
        form.user_id.errors = [_("Choose a user.")]
        return _page(form), 422
    expires = utcnow() + timedelta(days=form.days.data) if form.days.data else None
    try:
        with atomic():
            token, secret = user_service.issue_token(
                orm(), user, form.name.data or "", expires, roles=form.roles.data or (),
                region_ids=form.region_ids.data or (), customer_id=form.customer_id.data or None,
                read_only=bool(form.read_only.data),
            )  # fmt: skip
    except user_service.AccountError as exc:
        for problem in exc.problems:
            field = form._fields.get(problem.form_field, form.name)
            field.errors = [*field.errors, problem.text(is_zh())]  # type: ignore[assignment]
        return _page(form), 422
    return _page(ApiKeyForm(formdata=None), secret=secret, issued=token)


@bp.post("/keys/<int:key_id>/revoke")
@require(Permission.ADMIN_USERS)
def key_revoke(key_id: int) -> Any:
    token = get_or_404(ApiToken, key_id)
    if RevokeForm().validate_on_submit():
        user_service.revoke_token(orm(), token)
        flash(_("API key %(name)s revoked.", name=token.name), "success")
    return redirect(url_for("admin.keys"))
