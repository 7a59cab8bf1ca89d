"""Review workspace pages: the list of reviews, one review with its six sections, findings,
sign-off and PDF. Views are thin: parse, call one service, redirect or render; the request's
transaction commits (perception.core.transaction)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any, cast

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from perception.core.authz import Permission, can, get_or_404, require
from perception.core.clock import current_clock
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.i18n import lang_code
from perception.core.jobs import in_background, latest_for
from perception.core.jobs.state import JobState, state_of
from perception.core.models.auth import Role
from perception.core.models.base import utcnow
from perception.core.transaction import atomic, writes
from perception.review import page_cache, settings
from perception.review.forms import FindingForm, ImprovementFromFindingForm, PdfForm, SignForm
from perception.review.jobs import page_subject, pdf_states, request_page, request_pdf
from perception.review.models import Review, ReviewFinding, ReviewPdfStatus
from perception.review.services import periods as review_periods
from perception.review.services import reports as review_reports
from perception.review.services import signoff as review_signoff
from perception.review.services.blocks import Lang, evidence_anchors, pick
from perception.review.services.customer_view import customer_review
from perception.review.services.sections import SECTION_CODES, SECTION_TITLES
from perception.review.views import bp
from perception.review.views.render import anchor_id


def review_or_404(review_id: int) -> Review:
    """A review the user may see: reviewers and owners see all; a customer representative only
    signed ones (to countersign them)."""
    review = get_or_404(Review, review_id)
    if not can(Permission.VIEW_REVIEW) and not review.signed:
        abort(404)
    return review


def sign_blocker(review: Review) -> str | None:
    """Why the review cannot be signed yet (shown instead of the button), or None."""
    if review.signed:
        return None
    if current_clock().today() < review.period_end:
        last = review.period_end - timedelta(days=1)
        return _("The period runs until %(day)s: sign it after the period has ended.", day=last.isoformat())
    return None


def _flash_problems(exc: UserError) -> None:
    """Show an operation's problems (its writes undone by ``atomic()``) in the user's language."""
    for problem in exc.problems:
        flash(problem.text(lang_code()), "error")


@bp.get("/reviews")
@require(Permission.VIEW_REVIEW, Permission.SIGN_REVIEW)
def reviews() -> Any:
    if not can(Permission.VIEW_REVIEW):  # a customer representative: their portal lists theirs
        return redirect(url_for("review.portal", _anchor="reviews"))
    stmt = select(Review).options(selectinload(Review.findings)).order_by(Review.period_start.desc())
    rows = orm().scalars(stmt).all()
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
        with atomic():
            review, created = review_periods.ensure_review(
                orm(), current_clock().today(), settings.review_periods()
            )
    except review_periods.ReviewConfigError as exc:
        _flash_problems(exc)
        return redirect(url_for("review.reviews"))
    if created:
        flash(_("Review %(code)s created.", code=review.code), "success")
    else:
        flash(_("The review of the current period already exists."), "warning")
    return redirect(url_for("review.review", review_id=review.id))


def _evidence_choices(anchors: list[dict[str, Any]], language: Lang) -> list[tuple[str, str]]:
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
    if not can(Permission.VIEW_REVIEW):
        # A customer representative reads their customer's view, never the whole review (issue 18).
        theirs = customer_review(orm(), item, g.user.customer_id, today=current_clock().today())
        last_day = item.period_end - timedelta(days=1)
        return render_template(
            "review/customer_review.html", view=theirs, sign_form=SignForm(), last_day=last_day
        )
    lang = cast(Lang, lang_code())
    content, view, copy = page_cache.page(
        orm(),
        item,
        lang,
        today=current_clock().today(),
        now=utcnow(),
        font_path=settings.cjk_font_path(),
        background=in_background(),
    )
    page_job = request_page(item, copy.basis) if copy.wants_copy else None
    page_state = _page_job_state(item, page_job)
    anchors = evidence_anchors(content)
    form = FindingForm()
    form.evidence.choices = _evidence_choices(anchors, lang)
    reports = {r.lang: r for r in item.reports}
    return render_template(
        "review/review.html",
        review=item,
        content=content,
        view=view,
        findings=item.findings,
        form=form,
        raise_form=ImprovementFromFindingForm(),
        sign_form=SignForm(),
        pdf_form=PdfForm(data={"lang": lang}),
        reports=reports,
        pdf_jobs=pdf_states(item),
        may_edit=can(Permission.EDIT_REVIEW) and not item.signed,
        may_sign=g.user.has_role(Role.SYSTEM_OWNER) and not item.signed,
        sign_blocker=sign_blocker(item),
        may_improve=can(Permission.MANAGE_IMPROVEMENTS),
        ready=ReviewPdfStatus.READY,
        anchor_id=anchor_id,
        copy=copy,
        copy_states=page_cache.CopyState,
        page_job=page_state,
    )


def _page_job_state(review: Review, job_id: str | None) -> JobState | None:
    """The state of the computation of the page's slow sections, when one is queued or running."""
    found = latest_for(page_subject(review.id))
    if found is None or not (found.active or found.id == job_id):
        return None
    return state_of(found)


@bp.post("/reviews/<int:review_id>/refresh")
@require(Permission.VIEW_REVIEW)
def refresh(review_id: int) -> Any:
    """Compute the page's slow sections again now (in the background when a worker or thread can)."""
    item = review_or_404(review_id)
    if not SignForm().validate_on_submit():
        abort(400)
    if item.signed:
        flash(_("A signed review keeps the figures frozen at sign-off."), "warning")
        return redirect(url_for("review.review", review_id=review_id))
    job_id = request_page(item, None, force=True)
    if job_id is not None:
        flash(_("The figures are being computed again; reload the page in a moment."), "success")
    else:
        flash(_("The figures were computed again."), "success")
    return redirect(url_for("review.review", review_id=review_id))


@bp.post("/reviews/<int:review_id>/findings")
@require(Permission.EDIT_REVIEW)
def add_finding(review_id: int) -> Any:
    item = review_or_404(review_id)
    form = FindingForm()
    if not form.validate_on_submit():
        abort(400)
    section, _sep, key = (form.evidence.data or "").partition("|")
    try:
        with atomic():
            review_signoff.add_finding(
                orm(),
                item,
                kind=form.kind.data or "",
                text=form.text.data or "",
                text_en=form.text_en.data or "",
                evidence_section=section,
                evidence_key=key or None,
                evidence_note=form.evidence_note.data,
                author=g.user,
                today=current_clock().today(),
            )
    except UserError as exc:
        _flash_problems(exc)
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("review.review", review_id=review_id, _anchor="findings"))


def _finding_or_404(review: Review, finding_id: int) -> ReviewFinding:
    finding = orm().get(ReviewFinding, finding_id)
    if finding is None or finding.review_id != review.id:
        abort(404)
    return finding


@bp.post("/reviews/<int:review_id>/findings/<int:finding_id>/delete")
@require(Permission.EDIT_REVIEW)
def delete_finding(review_id: int, finding_id: int) -> Any:
    item = review_or_404(review_id)
    if not SignForm().validate_on_submit():
        abort(400)
    finding = _finding_or_404(item, finding_id)
    try:
        with atomic():
            review_signoff.delete_finding(orm(), finding)
    except UserError as exc:
        _flash_problems(exc)
    else:
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
        with atomic():
            created = review_signoff.raise_improvement(
                orm(),
                finding,
                title=form.title.data or "",
                title_en=form.title_en.data or "",
                today=current_clock().today(),
                user=g.user,
            )
    except UserError as exc:
        _flash_problems(exc)
        return redirect(url_for("review.review", review_id=review_id, _anchor="findings"))
    flash(_("Improvement %(code)s added to the register.", code=created.code), "success")
    return redirect(url_for("review.item", item_id=created.id))


@bp.post("/reviews/<int:review_id>/sign")
@require(Permission.SIGN_REVIEW)
def sign(review_id: int) -> Any:
    item = review_or_404(review_id)
    if not SignForm().validate_on_submit():
        abort(400)
    try:
        with atomic():
            if item.signed:
                review_signoff.countersign(orm(), item, g.user, clock=current_clock())
            else:
                review_signoff.sign(
                    orm(), item, g.user, clock=current_clock(), base_url=settings.public_base_url()
                )
    except UserError as exc:
        _flash_problems(exc)
    else:
        countersigned = g.user.has_role(Role.CUSTOMER_REP) and not g.user.has_role(Role.SYSTEM_OWNER)
        if countersigned:
            flash(_("Countersigned for your organisation."), "success")
        else:
            flash(_("Signed. The review is now read only."), "success")
            request_page(item, item.snapshot_sha256)  # its frozen sections drawn ahead
    return redirect(url_for("review.review", review_id=review_id))


@bp.post("/reviews/<int:review_id>/pdf")
@require(Permission.VIEW_REVIEW)
def generate_pdf(review_id: int) -> Any:
    item = review_or_404(review_id)
    form = PdfForm()
    if not form.validate_on_submit():
        abort(400)
    lang = form.lang.data or "zh"
    queued = request_pdf(item, lang, user_id=g.user.id) is not None
    report = None if queued else review_reports.report_for(orm(), item, lang)
    if report is None:
        flash(_("The PDF is being generated in the background; its progress is shown below."), "success")
    elif report.status == ReviewPdfStatus.READY:
        flash(_("The PDF is ready."), "success")
    else:
        flash(_("The PDF could not be generated: %(error)s", error=report.error or ""), "error")
    return redirect(url_for("review.review", review_id=review_id, _anchor="pdf"))


@bp.get("/reviews/<int:review_id>/pdf/<lang>")
@require(Permission.VIEW_REVIEW)  # the whole review: never a customer representative's (issue 18)
@writes  # records the export's audit row
def download_pdf(review_id: int, lang: str) -> Any:
    item = review_or_404(review_id)
    found = review_reports.downloadable(orm(), item, lang)
    if found is None:
        abort(404)
    review_reports.record_download(orm(), item, lang)
    report, content = found
    return send_file(
        io.BytesIO(content),
        mimetype="application/pdf",
        as_attachment=request.args.get("inline") != "1",
        download_name=review_reports.download_name(item, lang),
        etag=report.sha256 or False,
        last_modified=report.generated_at,
    )
