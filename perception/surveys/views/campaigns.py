"""Campaign pages: the list with response rates, create/edit, detail (rates by region and tier),
open, close and send now."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from perception.core.authz import Permission, get_or_404, require, scoped
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.i18n import is_zh, localized
from perception.core.jobs import enqueue
from perception.core.models.org import CustomerOrg, Region
from perception.core.transaction import atomic
from perception.setup.models.catalog import Service, ServiceTier
from perception.surveys.forms import ActionForm, CampaignForm
from perception.surveys.labels import CHANNEL_LABELS, KIND_LABELS, to_local, to_utc
from perception.surveys.models import Campaign, Channel
from perception.surveys.services import campaigns
from perception.surveys.services import rates as surveys_rates
from perception.surveys.services.definitions import versions_for_choice
from perception.surveys.services.errors import SurveyError
from perception.surveys.services.settings import SurveySettings
from perception.surveys.views import bp

FIELDS = (
    "code", "name_zh", "name_en", "version_id", "kind", "channel", "region_id", "customer_id", "service_id",
    "tier_id", "reminder_after_days", "max_reminders", "sampling_rate", "csat_threshold", "nps_threshold",
)  # fmt: skip


def _fill(form: CampaignForm) -> None:
    zh = is_zh()
    any_ = [SelectChoice("", _("All"))]
    form.version_id.choices = [
        SelectChoice(str(v.id), f"{s.name_zh if zh else s.name_en} · v{v.number}")
        for v, s in versions_for_choice(orm())
    ]
    form.kind.choices = [SelectChoice(k, str(label)) for k, label in KIND_LABELS.items()]
    form.channel.choices = [SelectChoice(k, str(label)) for k, label in CHANNEL_LABELS.items()]
    regions = orm().scalars(scoped(select(Region).order_by(Region.code), Region))
    form.region_id.choices = any_ + [SelectChoice(str(r.id), localized(r)) for r in regions]
    customers = orm().scalars(scoped(select(CustomerOrg).order_by(CustomerOrg.code), CustomerOrg))
    form.customer_id.choices = any_ + [SelectChoice(str(c.id), f"{c.code} {localized(c)}") for c in customers]
    services = orm().scalars(select(Service).where(Service.active.is_(True)).order_by(Service.code))
    form.service_id.choices = any_ + [SelectChoice(str(s.id), f"{s.code} {localized(s)}") for s in services]
    tiers = orm().scalars(select(ServiceTier).order_by(ServiceTier.rank))
    form.tier_id.choices = any_ + [SelectChoice(str(t.id), localized(t)) for t in tiers]


def _data(form: CampaignForm) -> dict[str, Any]:
    data: dict[str, Any] = {name: form[name].data for name in FIELDS}
    data["opens_at"] = to_utc(form.opens_at.data)
    data["closes_at"] = to_utc(form.closes_at.data)
    if data["sampling_rate"] is not None:
        data["sampling_rate"] = float(data["sampling_rate"])
    return data


def _show_problems(form: CampaignForm, error: SurveyError) -> None:
    zh = is_zh()
    for problem in error.problems:
        target = form._fields.get(problem.form_field, form.code)
        target.errors = [*target.errors, problem.text(zh)]  # type: ignore[assignment]


@bp.get("/")
@require(Permission.VIEW_SURVEYS)
def index() -> Any:
    rows = list(
        orm().scalars(
            scoped(select(Campaign).order_by(Campaign.opens_at.desc(), Campaign.id.desc()), Campaign)
        )
    )
    rates = surveys_rates.overview(orm(), rows, g.user)
    return render_template("surveys/index.html", campaigns=rows, rates=rates)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@require(Permission.MANAGE_SURVEYS)
def campaign_new() -> Any:
    form = CampaignForm()
    _fill(form)
    if form.validate_on_submit():
        try:
            with atomic():
                campaign = campaigns.create_campaign(orm(), _data(form), g.user)
        except SurveyError as exc:
            _show_problems(form, exc)
        else:
            flash(_("Campaign %(code)s created as a draft.", code=campaign.code), "success")
            return redirect(url_for("surveys.campaign", campaign_id=campaign.id))
    return render_template(
        "surveys/campaign_form.html", form=form, campaign=None
    ), 422 if form.errors else 200


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_SURVEYS)
def campaign_edit(campaign_id: int) -> Any:
    campaign = get_or_404(Campaign, campaign_id)
    form = CampaignForm(obj=campaign)
    _fill(form)
    if request.method == "GET":
        for name in ("version_id", "region_id", "customer_id", "service_id", "tier_id"):
            form[name].data = str(getattr(campaign, name) or "")
        form.opens_at.data = to_local(campaign.opens_at)
        form.closes_at.data = to_local(campaign.closes_at)
    if form.validate_on_submit():
        try:
            with atomic():
                campaigns.update_campaign(orm(), campaign, _data(form))
        except SurveyError as exc:
            _show_problems(form, exc)
        else:
            flash(_("Campaign saved."), "success")
            return redirect(url_for("surveys.campaign", campaign_id=campaign.id))
    return render_template(
        "surveys/campaign_form.html", form=form, campaign=campaign
    ), 422 if form.errors else 200


@bp.get("/campaigns/<int:campaign_id>")
@require(Permission.VIEW_SURVEYS)
def campaign(campaign_id: int) -> Any:
    item = get_or_404(Campaign, campaign_id)
    by_region = surveys_rates.campaign_rates(orm(), item, "region", g.user)
    by_tier = surveys_rates.campaign_rates(orm(), item, "tier", g.user)
    total = surveys_rates.campaign_rates(orm(), item, "campaign", g.user)
    public_url = (
        url_for("public.anonymous", slug=item.public_slug, _external=True)
        if item.channel == Channel.ANONYMOUS and item.public_slug
        else None
    )
    return render_template(
        "surveys/campaign.html", campaign=item, by_region=by_region, by_tier=by_tier,
        total=total[0] if total else None, public_url=public_url, action_form=ActionForm(),
    )  # fmt: skip


def _action(campaign_id: int, change: Any, message: str) -> Any:
    item = get_or_404(Campaign, campaign_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash(
            _("The form has expired or its security token is missing. Reload the page and try again."),
            "error",
        )
        return redirect(url_for("surveys.campaign", campaign_id=campaign_id))
    try:
        # The redirect commits the request: a refused change must leave nothing behind.
        with atomic():
            change(item)
    except SurveyError as exc:
        flash(" ".join(p.text(is_zh()) for p in exc.problems), "error")
    else:
        flash(message, "success")
    return redirect(url_for("surveys.campaign", campaign_id=campaign_id))


@bp.post("/campaigns/<int:campaign_id>/open")
@require(Permission.MANAGE_SURVEYS)
def campaign_open(campaign_id: int) -> Any:
    """Open the campaign; a personal one sends its due invitations at once."""
    settings = SurveySettings.from_config(current_app.config)
    now = current_clock().now()
    return _action(
        campaign_id,
        lambda c: campaigns.open_campaign(orm(), c, now=now, settings=settings),
        _("Campaign opened."),
    )


@bp.post("/campaigns/<int:campaign_id>/close")
@require(Permission.MANAGE_SURVEYS)
def campaign_close(campaign_id: int) -> Any:
    return _action(campaign_id, lambda c: campaigns.close_campaign(orm(), c), _("Campaign closed."))


@bp.post("/campaigns/<int:campaign_id>/send")
@require(Permission.MANAGE_SURVEYS)
def campaign_send(campaign_id: int) -> Any:
    """Send due invitations now instead of waiting for the daily job."""
    get_or_404(Campaign, campaign_id)
    if ActionForm().validate_on_submit():
        # The daily job, now: on the worker with Redis, else in this request's transaction.
        enqueue("send_campaign_invitations", campaign_id=campaign_id)
        flash(_("Due invitations are being sent."), "success")
    return redirect(url_for("surveys.campaign", campaign_id=campaign_id))
