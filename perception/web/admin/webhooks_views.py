"""The system owner's webhook pages: subscriptions (add, rotate the secret, turn on/off) and each
subscription's delivery log with every attempt, and the replay of a delivery."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from perception.core.authz import Permission, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.models.webhooks import WebhookDelivery, WebhookSubscription
from perception.core.transaction import atomic
from perception.core.webhooks import EVENT_TYPES, WebhookSettings, deliver, new_secret, replay, rotate_secret
from perception.web.admin import bp

#: The events in words (the page shows these; the identifiers are what receivers get, in the
#: payload's ``type`` and in the README).
EVENT_LABELS = {
    "response.scored": _l("A survey response with its scores"),
    "followup.created": _l("A low-score follow-up created"),
    "alert.raised": _l("An alert raised"),
    "report.submitted": _l("A weekly report submitted"),
    "report.returned": _l("A weekly report returned"),
    "opportunity.handed_over": _l("An opportunity handed to market expansion"),
    "standard.confirmed": _l("A standard confirmed"),
    "review.signed": _l("A review signed"),
}


def event_label(code: str) -> str:
    return str(EVENT_LABELS.get(code, code))


class SubscriptionForm(FlaskForm):
    url = StringField(
        _l("Receiver URL"), validators=[DataRequired(), URL(require_tld=False), Length(max=500)]
    )
    events = SelectMultipleField(
        _l("Events"), choices=[SelectChoice(e, EVENT_LABELS.get(e, e)) for e in EVENT_TYPES],
        validators=[DataRequired()],
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
    )  # fmt: skip
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])


class ActionForm(FlaskForm):
    """A button (CSRF only)."""


@bp.route("/webhooks", methods=["GET", "POST"])
@require(Permission.ADMIN_USERS)
def webhooks() -> Any:
    form = SubscriptionForm()
    secret = None
    if form.validate_on_submit():
        secret = new_secret()
        with atomic():
            events = list(form.events.data or [])
            description = form.description.data or None
            orm().add(
                WebhookSubscription(
                    url=form.url.data, event_types=events, secret=secret, description=description
                )
            )
            orm().flush()
        flash(_("Subscription added. Copy its secret now: it is not shown again."), "success")
    rows = orm().scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)).all()
    return render_template(
        "admin/webhooks.html",
        form=form,
        rows=rows,
        secret=secret,
        action=ActionForm(),
        event_label=event_label,
    )


@bp.get("/webhooks/<int:subscription_id>")
@require(Permission.ADMIN_USERS)
def webhook(subscription_id: int) -> Any:
    subscription = orm().get(WebhookSubscription, subscription_id)
    if subscription is None:
        abort(404)
    deliveries = orm().scalars(
        select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
        .order_by(WebhookDelivery.id.desc()).limit(100)
    ).all()  # fmt: skip
    clock = current_clock()

    def local(moment: Any) -> str:
        return clock.local(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else "—"

    return render_template("admin/webhook.html", subscription=subscription, deliveries=deliveries,
                           local=local, action=ActionForm(), event_label=event_label)  # fmt: skip


@bp.post("/webhooks/<int:subscription_id>/rotate")
@require(Permission.ADMIN_USERS)
def webhook_rotate(subscription_id: int) -> Any:
    subscription = orm().get(WebhookSubscription, subscription_id)
    if subscription is None or not ActionForm().validate_on_submit():
        abort(404 if subscription is None else 400)
    with atomic():
        secret = rotate_secret(subscription, current_clock().now())
    flash(
        _("New secret (the old one keeps signing beside it for 24 hours): %(secret)s", secret=secret),
        "success",
    )
    return redirect(url_for("admin.webhook", subscription_id=subscription_id))


@bp.post("/webhooks/deliveries/<int:delivery_id>/replay")
@require(Permission.ADMIN_USERS)
def webhook_replay(delivery_id: int) -> Any:
    delivery = orm().get(WebhookDelivery, delivery_id)
    if delivery is None or not ActionForm().validate_on_submit():
        abort(404 if delivery is None else 400)
    now = current_clock().now()
    with atomic():
        replay(orm(), delivery, now)
        ok = deliver(orm(), delivery.id, now, WebhookSettings.from_config(current_app.config))
    flash(_("Delivered.") if ok else _("Not delivered; it will be retried."), "success" if ok else "error")
    return redirect(url_for("admin.webhook", subscription_id=delivery.subscription_id))
