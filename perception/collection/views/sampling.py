"""Sampling comparison: draw a run, record confirmations, discrepancy rates per region."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from perception.collection import access
from perception.collection.forms import ConfirmationForm, SamplingRunForm
from perception.collection.models.fieldwork import SampledTicket, SamplingRun
from perception.collection.services import sampling as sampling_service
from perception.collection.services import sampling_results
from perception.collection.services.errors import CollectionError
from perception.collection.views import bp
from perception.core.authz import Permission, get_or_404, require, scoped
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.i18n import is_zh
from perception.core.models.org import Region
from perception.core.transaction import atomic
from perception.kpi.models import Ticket
from perception.setup.models.catalog import Service


def _run_form() -> SamplingRunForm:
    form = SamplingRunForm()
    form.confidence.choices = [
        SelectChoice("0.9", "90%"),
        SelectChoice("0.95", "95%"),
        SelectChoice("0.99", "99%"),
    ]
    zh = is_zh()
    regions = orm().scalars(scoped(select(Region).order_by(Region.code), Region))
    form.region_ids.choices = [SelectChoice("", _("All regions in my scope"))] + [
        SelectChoice(str(r.id), r.name_zh if zh else r.name_en) for r in regions
    ]
    return form


@bp.get("/sampling")
@require(Permission.MANAGE_SAMPLING)
def sampling() -> Any:
    runs = orm().scalars(select(SamplingRun).order_by(SamplingRun.id.desc()).limit(100)).all()
    return render_template("collection/sampling.html", runs=runs, form=_run_form())


@bp.post("/sampling/new")
@require(Permission.MANAGE_SAMPLING)
def sampling_new() -> Any:
    form = _run_form()
    if not form.validate_on_submit():
        return render_template("collection/sampling.html", runs=[], form=form), 422
    scope = access.scope_regions()
    region_ids: set[int] | None = None if scope is None else set(scope)
    if form.region_ids.data:
        chosen = int(form.region_ids.data) if form.region_ids.data.isdigit() else -1
        if scope is not None and chosen not in scope:
            abort(404)
        region_ids = {chosen}
    try:
        with atomic():
            run = sampling_service.draw_sample(
                orm(),
                name=form.name.data or "",
                start=form.period_start.data,  # type: ignore[arg-type]
                end=form.period_end.data,  # type: ignore[arg-type]
                margin=(form.margin.data or 0) / 100,
                confidence=float(form.confidence.data or 0.95),
                seed=form.seed.data or None,
                region_ids=region_ids,
                user=access.user(),
            )
    except CollectionError as exc:
        for p in exc.problems:
            target = getattr(form, p.form_field, form.name)
            target.errors = [*target.errors, p.text(is_zh())]
        return render_template("collection/sampling.html", runs=[], form=form), 422
    flash(_("Sample drawn: %(n)s of %(N)s tickets.", n=run.sample_size, N=run.population), "success")
    return redirect(url_for("collection.sampling_run", run_id=run.id))


@bp.get("/sampling/<int:run_id>")
@require(Permission.MANAGE_SAMPLING)
def sampling_run(run_id: int) -> Any:
    run = orm().get(SamplingRun, run_id) or abort(404)
    scope = access.scope_regions()
    stmt: Any = (
        select(SampledTicket, Ticket.external_id)
        .join(Ticket, Ticket.id == SampledTicket.ticket_id)
        .where(SampledTicket.run_id == run.id)
        .order_by(SampledTicket.region_id, SampledTicket.service_id, SampledTicket.draw_key)
    )
    sampled = orm().execute(scoped(stmt, SampledTicket)).all()
    verified = sampling_service.verify_run(orm(), run) if request.args.get("verify") == "1" else None
    return render_template(
        "collection/sampling_run.html",
        run=run,
        sampled=sampled,
        rates=sampling_results.discrepancy_rates(orm(), run.id, region_ids=scope, confidence=run.confidence),
        regions={r.id: r for r in orm().scalars(select(Region))},
        services={s.id: s for s in orm().scalars(select(Service))},
        verified=verified,
        form=ConfirmationForm(),
    )


def _tri(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@bp.post("/sampling/tickets/<int:sampled_id>")
@require(Permission.MANAGE_SAMPLING)
def sampling_confirm(sampled_id: int) -> Any:
    sampled = get_or_404(SampledTicket, sampled_id)
    form = ConfirmationForm()
    if not form.validate_on_submit():
        abort(400)
    clock = current_clock()
    try:
        with atomic():
            sampling_results.record_confirmation(
                orm(),
                sampled,
                access.user(),
                reached=bool(form.reached.data),
                resolved=_tri(form.resolved.data),
                on_time=_tri(form.on_time.data),
                satisfied=_tri(form.satisfied.data),
                note=form.note.data,
                now=clock.now(),
                org_timezone=clock.timezone,
            )
    except CollectionError as exc:
        flash(exc.problems[0].text(is_zh()), "error")
    else:
        flash(_("Confirmation recorded."), "success")
    return redirect(url_for("collection.sampling_run", run_id=sampled.run_id) + f"#s{sampled.id}")
