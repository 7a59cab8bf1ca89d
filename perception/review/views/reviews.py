"""Review workspace pages: the list of reviews, one review with its six sections, findings,
sign-off and PDF. Views are thin: parse, call one service, commit, redirect or render."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from perception.core.authz import Permission, can, get_or_404, require
from perception.core.extensions import db, orm
from perception.core.i18n import is_zh
from perception.core.models.auth import Role
from perception.core.models.base import utcnow
from perception.core.transaction import writes
from perception.review.forms import FindingForm, ImprovementFromFindingForm, PdfForm, SignForm
from perception.review.models import ReportStatus, Review, ReviewFinding
from perception.review.services import periods as review_periods
from perception.review.services import reports as review_reports
from perception.review.services import signoff as review_signoff
from perception.review.services.blocks import Lang, evidence_anchors, pick
from perception.review.services.errors import ReviewError
from perception.review.services.sections import SECTION_CODES, SECTION_TITLES, content_for
from perception.review.views import bp
from perception.review.views.render import anchor_id, render_content


def lang() -> Lang:
    return "zh" if is_zh() else "en"


def review_or_404(review_id: int) -> Review:
    """A review the user may see: reviewers and owners see all; a customer representative only
    signed ones (to countersign them)."""
    review = get_or_404(Review, review_id)
    if not can(Permission.VIEW_REVIEW) and not review.signed:
        abort(404)
    return review


def _fail(exc: ReviewError) -> None:
    db.session.rollback()
    flash(exc.message(lang()), "error")


@bp.get("/reviews")
@require(Permission.VIEW_REVIEW)
def reviews() -> Any:
    rows = db.session.scalars(
        select(Review).options(selectinload(Review.findings)).order_by(Review.period_start.desc())
    ).all()
    return render_template(
        "review/reviews.html",
        reviews=rows,
        form=SignForm(),
        can_create=can(Permission.EDIT_REVIEW),
        one_day=timedelta(days=1),
    )


@bp.post("/reviews/ensure")
@require(Permission.EDIT_REVIEW)
def ensure() -> Any:
    form = SignForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        specs = review_periods.configured_specs()
    except review_periods.ReviewConfigError as exc:
        flash(str(exc), "error")
        return redirect(url_for("review.reviews"))
    review, created = review_periods.ensure_review(orm(), utcnow().date(), specs)
    db.session.commit()
    if created:
        flash(_("Review %(code)s created.", code=review.code), "success")
    else:
        flash(_("The review of the current period already exists."), "warning")
    return redirect(url_for("review.review", review_id=review.id))


def _evidence_choices(anchors: list[dict[str, Any]]) -> list[tuple[str, str]]:
    language = lang()
    out = [(f"{code}|", pick(SECTION_TITLES[code], language)) for code in SECTION_CODES]
    for anchor in anchors:
        label = (
            f"{pick(SECTION_TITLES.get(anchor['section'], {}), language)} › {pick(anchor['label'], language)}"
        )
        out.append((f"{anchor['section']}|{anchor['key']}", label))
    return out


@bp.get("/reviews/<int:review_id>")
@require(Permission.VIEW_REVIEW, Permission.SIGN_REVIEW)
def review(review_id: int) -> Any:
    item = review_or_404(review_id)
    content = content_for(orm(), item)
    anchors = evidence_anchors(content)
    form = FindingForm()
    form.evidence.choices = _evidence_choices(anchors)
    reports = {r.lang: r for r in item.reports}
    return render_template(
        "review/review.html",
        review=item,
        content=content,
        view=render_content(content, lang()),
        findings=item.findings,
        form=form,
        raise_form=ImprovementFromFindingForm(),
        sign_form=SignForm(),
        pdf_form=PdfForm(data={"lang": lang()}),
        reports=reports,
        may_edit=can(Permission.EDIT_REVIEW) and not item.signed,
        may_sign=g.user.has_role(Role.SYSTEM_OWNER) and not item.signed,
        may_countersign=item.signed
        and g.user.has_role(Role.CUSTOMER_REP)
        and item.customer_signed_at is None,
        may_improve=can(Permission.MANAGE_IMPROVEMENTS),
        ready=ReportStatus.READY,
        anchor_id=anchor_id,
    )


@bp.post("/reviews/<int:review_id>/findings")
@require(Permission.EDIT_REVIEW)
def add_finding(review_id: int) -> Any:
    item = review_or_404(review_id)
    form = FindingForm()
    if not form.validate_on_submit():
        abort(400)
    section, _sep, key = (form.evidence.data or "").partition("|")
    try:
        review_signoff.add_finding(
            orm(),
            item,
            kind=form.kind.data or "",
            text=form.text.data or "",
            evidence_section=section,
            evidence_key=key or None,
            evidence_note=form.evidence_note.data,
            author=g.user,
        )
    except ReviewError as exc:
        _fail(exc)
    else:
        db.session.commit()
        flash(_("Saved."), "success")
    return redirect(url_for("review.review", review_id=review_id, _anchor="findings"))


def _finding_or_404(review: Review, finding_id: int) -> ReviewFinding:
    finding = db.session.get(ReviewFinding, finding_id)
    if finding is None or finding.review_id != review.id:
        abort(404)
    return finding


@bp.post("/reviews/<int:review_id>/findings/<int:finding_id>/delete")
@require(Permission.EDIT_REVIEW)
def delete_finding(review_id: int, finding_id: int) -> Any:
    item = review_or_404(review_id)
    if not SignForm().validate_on_submit():
        abort(400)
    try:
        review_signoff.delete_finding(orm(), _finding_or_404(item, finding_id))
    except ReviewError as exc:
        _fail(exc)
    else:
        db.session.commit()
        flash(_("Deleted."), "success")
    return redirect(url_for("review.review", review_id=review_id, _anchor="findings"))


@bp.post("/reviews/<int:review_id>/findings/<int:finding_id>/improvement")
@require(Permission.MANAGE_IMPROVEMENTS)
def raise_improvement(review_id: int, finding_id: int) -> Any:
    item = review_or_404(review_id)
    form = ImprovementFromFindingForm()
    if not form.validate_on_submit():
        abort(400)
    finding = _finding_or_404(item, finding_id)
    try:
        created: Any = review_signoff.raise_improvement(
            orm(), finding, title=form.title.data or "", today=utcnow().date(), user=g.user
        )
    except ReviewError as exc:
        _fail(exc)
        return redirect(url_for("review.review", review_id=review_id, _anchor="findings"))
    db.session.commit()
    flash(_("Improvement %(code)s added to the register.", code=created.code), "success")
    return redirect(url_for("review.item", item_id=created.id))


@bp.post("/reviews/<int:review_id>/sign")
@require(Permission.SIGN_REVIEW)
def sign(review_id: int) -> Any:
    item = review_or_404(review_id)
    if not SignForm().validate_on_submit():
        abort(400)
    try:
        if item.signed:
            review_signoff.countersign(orm(), item, g.user)
        else:
            review_signoff.sign(orm(), item, g.user)
    except ReviewError as exc:
        _fail(exc)
    else:
        db.session.commit()
        flash(_("Signed. The review is now read only."), "success")
    return redirect(url_for("review.review", review_id=review_id))


@bp.post("/reviews/<int:review_id>/pdf")
@require(Permission.VIEW_REVIEW)
def generate_pdf(review_id: int) -> Any:
    item = review_or_404(review_id)
    form = PdfForm()
    if not form.validate_on_submit():
        abort(400)
    review_reports.request_report(orm(), item, form.lang.data or "zh", user_id=g.user.id)
    db.session.commit()
    report = review_reports.report_for(orm(), item, form.lang.data or "zh")
    if report is None:
        flash(_("The PDF is being generated; refresh this page in a moment."), "success")
    elif report.status == ReportStatus.READY:
        flash(_("The PDF is ready."), "success")
    else:
        flash(_("The PDF could not be generated: %(error)s", error=report.error or ""), "error")
    return redirect(url_for("review.review", review_id=review_id, _anchor="pdf"))


@bp.get("/reviews/<int:review_id>/pdf/<lang_code>")
@require(Permission.VIEW_REVIEW, Permission.SIGN_REVIEW)
@writes  # records the export's audit row
def download_pdf(review_id: int, lang_code: str) -> Any:
    import io

    from perception.core.audit import record

    item = review_or_404(review_id)
    report = review_reports.report_for(orm(), item, lang_code)
    if report is None or report.status != ReportStatus.READY or report.content is None:
        abort(404)
    record(orm(), "export", object_type="Review", object_id=item.id, summary=f"download PDF {lang_code}")
    db.session.commit()
    return send_file(
        io.BytesIO(report.content),
        mimetype="application/pdf",
        as_attachment=request.args.get("inline") != "1",
        download_name=review_reports.download_name(item, lang_code),
        etag=report.sha256 or False,
        last_modified=report.generated_at,
    )
