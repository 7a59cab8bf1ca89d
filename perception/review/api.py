"""JSON API of the review phase: reviews (content, findings, sign-off, PDF) and the improvement
register. Same services as the HTML views; their ReviewError propagates and answers problem+json
(422 naming the field, 409 for a signed review, 403 for the wrong signatory)."""

from __future__ import annotations

import io
from typing import Any

from flask import abort, g, jsonify, request, send_file, url_for
from sqlalchemy import select

from perception.api import bp
from perception.api.errors import json_object, optional_object
from perception.api.openapi import document, json_content
from perception.core.authz import Permission, can, get_or_404, require, scoped
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.periods import parse_day
from perception.core.transaction import writes
from perception.review import api_models as schemas
from perception.review import settings
from perception.review.jobs import request_pdf
from perception.review.models import ImprovementItem, Review, ReviewFinding
from perception.review.services import periods as review_periods
from perception.review.services import register as review_register
from perception.review.services import reports as review_reports
from perception.review.services import results as review_results
from perception.review.services import signoff as review_signoff
from perception.review.services.customer_view import CustomerReview, customer_review
from perception.review.services.errors import ReviewError
from perception.review.services.sections import content_for
from perception.review.views.register import parse_filter
from perception.review.views.reviews import review_or_404

TAG = "review"


def _id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _optional_body() -> dict[str, Any]:
    """The JSON object of a request whose body may be left out (then: no options)."""
    return optional_object()


def review_json(review: Review, customer_id: int | None = None) -> dict[str, Any]:
    """A review's head; for a customer representative (``customer_id``) only their own
    countersignature, never other customers'."""
    signatures = [c for c in review.countersignatures if customer_id is None or c.customer_id == customer_id]
    # ``customer_signatory``/``customer_signed_at`` were the API's before countersignatures per
    # customer: kept for existing clients, derived from the first countersignature shown.
    first = signatures[0] if signatures else None
    return {
        "id": review.id,
        "code": review.code,
        "label_zh": review.label_zh,
        "label_en": review.label_en,
        "period_start": review.period_start.isoformat(),
        "period_end": review.period_end.isoformat(),
        "status": review.status,
        "snapshot_sha256": review.snapshot_sha256,
        "owner_signatory": review.owner_signatory,
        "owner_signed_at": review.owner_signed_at.isoformat() if review.owner_signed_at else None,
        "countersignatures": [
            {"customer_id": c.customer_id, "signatory": c.signatory, "signed_at": c.signed_at.isoformat()}
            for c in signatures
        ],
        "customer_signatory": first.signatory if first else None,
        "customer_signed_at": first.signed_at.isoformat() if first else None,
    }


def _measure_json(measure: Any) -> dict[str, Any] | None:
    if measure is None:
        return None
    return {
        "n": measure.n,
        "estimate": measure.estimate,
        "ci_low": measure.ci_low,
        "ci_high": measure.ci_high,
    }


def customer_review_json(view: CustomerReview) -> dict[str, Any]:
    """A representative's view of a review (perception.review.services.customer_view)."""
    results = view.results
    return review_json(view.review, view.customer.id) | {
        "customer": {
            "code": view.customer.code,
            "name_zh": view.customer.name_zh,
            "name_en": view.customer.name_en,
        },
        "standards": view.standards,
        "results": {
            "csat": _measure_json(results.csat),
            "nps": _measure_json(results.nps),
            "months": [
                {"month": m.month.isoformat(), "csat": _measure_json(m.csat), "nps": _measure_json(m.nps)}
                for m in results.months
            ],
            "open_complaints": results.open_complaints,
        },
        "findings": [
            {"id": f.id, "kind": f.kind, "text": f.text, "text_en": f.text_en, "evidence_key": f.evidence_key}
            for f in view.findings
        ],
    }


@bp.get("/reviews")
@document(
    "/reviews", "get", summary="Reviews, newest period first", tag=TAG, response=schemas.ReviewReviewsList
)
@require(Permission.VIEW_REVIEW)
def reviews_list() -> Any:
    rows = orm().scalars(select(Review).order_by(Review.period_start.desc()))
    return jsonify({"items": [review_json(r) for r in rows]})


@bp.post("/reviews")
@document(
    "/reviews",
    "post",
    summary="Create the review of the current period (or of the period containing 'on') if missing",
    tag=TAG,
    request=schemas.ReviewOn,
    responses={
        "200": {"description": "The review existed", "content": json_content(schemas.EnsuredReview)},
        "201": {"description": "Created", "content": json_content(schemas.EnsuredReview)},
    },
)
@require(Permission.EDIT_REVIEW)
def reviews_ensure() -> Any:
    on = _optional_body().get("on")
    day = parse_day(on, "on") if on else current_clock().today()
    review, created = review_periods.ensure_review(orm(), day, settings.review_periods())
    return jsonify(review_json(review) | {"created": created}), 201 if created else 200


@bp.get("/reviews/<int:review_id>")
@document(
    "/reviews/{review_id}",
    "get",
    summary="One review with its content: the frozen snapshot when signed, else computed live",
    tag=TAG,
    parameters=[_id("review_id")],
    response=schemas.ReviewGet,
)
@require(Permission.VIEW_REVIEW, Permission.SIGN_REVIEW)
def review_get(review_id: int) -> Any:
    review = review_or_404(review_id)
    if not can(Permission.VIEW_REVIEW):  # a customer representative: their customer's view only
        view = customer_review(orm(), review, g.user.customer_id, today=current_clock().today())
        return jsonify(customer_review_json(view))
    findings = [
        {
            "id": f.id,
            "position": f.position,
            "kind": f.kind,
            "text": f.text,
            "text_en": f.text_en,
            "evidence_section": f.evidence_section,
            "evidence_key": f.evidence_key,
            "evidence_note": f.evidence_note,
        }
        for f in review.findings
    ]
    content = content_for(orm(), review, today=current_clock().today())
    return jsonify(review_json(review) | {"findings": findings, "content": content})


@bp.post("/reviews/<int:review_id>/findings")
@document(
    "/reviews/{review_id}/findings",
    "post",
    summary="Add a finding or decision linked to evidence (section and optional row key)",
    tag=TAG,
    parameters=[_id("review_id")],
    request=schemas.FindingInput,
    response=schemas.FindingAdded,
    status=201,
)
@require(Permission.EDIT_REVIEW)
def finding_add(review_id: int) -> Any:
    review = review_or_404(review_id)
    data = json_object()
    finding = review_signoff.add_finding(
        orm(),
        review,
        kind=str(data.get("kind") or ""),
        text=str(data.get("text") or ""),
        text_en=str(data.get("text_en") or ""),
        evidence_section=str(data.get("evidence_section") or ""),
        evidence_key=data.get("evidence_key"),
        evidence_note=data.get("evidence_note"),
        author=g.user,
        today=current_clock().today(),
    )
    return jsonify({"id": finding.id, "position": finding.position}), 201


@bp.delete("/reviews/<int:review_id>/findings/<int:finding_id>")
@document(
    "/reviews/{review_id}/findings/{finding_id}",
    "delete",
    summary="Delete a finding of an open review",
    tag=TAG,
    parameters=[_id("review_id"), _id("finding_id")],
    response=schemas.FindingDeleted,
)
@require(Permission.EDIT_REVIEW)
def finding_delete(review_id: int, finding_id: int) -> Any:
    review = review_or_404(review_id)
    finding = orm().get(ReviewFinding, finding_id)
    if finding is None or finding.review_id != review.id:
        abort(404)
    review_signoff.delete_finding(orm(), finding)
    return jsonify({"deleted": finding_id})


@bp.post("/reviews/<int:review_id>/sign")
@document(
    "/reviews/{review_id}/sign",
    "post",
    summary="Sign as system owner (freezes the review) or countersign a signed review as customer rep",
    tag=TAG,
    parameters=[_id("review_id")],
    response=schemas.ReviewReviewsListItem,
)
@require(Permission.SIGN_REVIEW)
def review_sign(review_id: int) -> Any:
    review = review_or_404(review_id)
    if review.signed:
        review_signoff.countersign(orm(), review, g.user, clock=current_clock())
    else:
        review_signoff.sign(orm(), review, g.user, clock=current_clock(), base_url=settings.public_base_url())
    return jsonify(review_json(review, None if can(Permission.VIEW_REVIEW) else g.user.customer_id))


@bp.post("/reviews/<int:review_id>/pdf")
@document(
    "/reviews/{review_id}/pdf",
    "post",
    summary="Generate or regenerate the PDF in the background (sent once the request has committed; "
    "answers 202 with the job's id and status_url, /api/jobs/{job_id})",
    tag=TAG,
    parameters=[_id("review_id")],
    request=schemas.PdfInput,
    responses={
        "200": {
            "description": "No job needed: the state",
            "content": json_content(schemas.PdfState),
        },
        "202": {"description": "Queued: watch status_url", "content": json_content(schemas.PdfState)},
    },
)
@require(Permission.VIEW_REVIEW)
def review_pdf_generate(review_id: int) -> Any:
    review = review_or_404(review_id)
    lang = str(_optional_body().get("lang") or "zh")
    job_id = request_pdf(review, lang, user_id=g.user.id)
    if job_id is not None:  # in the background, sent once this request has committed
        status_url = url_for("api.job_state", job_id=job_id)
        return (
            jsonify({"job_id": job_id, "status": "queued", "status_url": status_url}),
            202,
            {"Location": status_url},
        )
    report = review_reports.report_for(orm(), review, lang)
    body: dict[str, Any] = {"job_id": None, "status": report.status if report else "queued"}
    if report is not None:
        body |= {
            "pages": report.pages,
            "bytes": report.size_bytes,
            "sha256": report.sha256,
            "error": report.error,
        }
    return jsonify(body)


@bp.get("/reviews/<int:review_id>/pdf/<lang>")
@document(
    "/reviews/{review_id}/pdf/{lang}",
    "get",
    summary="Download the stored PDF (application/pdf)",
    tag=TAG,
    parameters=[
        _id("review_id"),
        {"name": "lang", "in": "path", "required": True, "schema": {"type": "string"}},
    ],
    responses={"200": {"description": "The PDF", "content": {"application/pdf": {}}}},
)
@require(Permission.VIEW_REVIEW)  # the whole review: never a customer representative's (issue 18)
@writes  # records the export's audit row
def review_pdf_download(review_id: int, lang: str) -> Any:
    review = review_or_404(review_id)
    found = review_reports.downloadable(orm(), review, lang)
    if found is None:
        raise ReviewError.one(
            "lang",
            "该语言的 PDF 尚未生成：请先 POST 生成。",
            "No PDF in this language yet: POST to generate it.",
            code="not_found",
            status=404,
        )
    review_reports.record_download(orm(), review, lang)
    _report, content = found
    return send_file(
        io.BytesIO(content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=review_reports.download_name(review, lang),
    )


@bp.get("/improvements")
@document(
    "/improvements",
    "get",
    summary="The improvement register; filters: status (or open), priority, source, owner, region, "
    "review, overdue, q",
    tag=TAG,
    response=schemas.ReviewImprovementsList,
)
@require(Permission.VIEW_REVIEW, Permission.MANAGE_IMPROVEMENTS)
def improvements_list() -> Any:
    today = current_clock().today()
    stmt = review_register.apply_filter(
        scoped(select(ImprovementItem), ImprovementItem), parse_filter(request.args), today
    )
    return jsonify({"items": [review_register.item_json(i, today) for i in orm().scalars(stmt)]})


def _check_region(data: dict[str, Any]) -> None:
    region = g.user.region_id
    if region is not None and "region_id" in data and str(data.get("region_id")) != str(region):
        raise ReviewError.one(
            "region_id", "只能登记本区域的改进事项", "You can only record improvements for your own region."
        )


@bp.post("/improvements")
@document(
    "/improvements",
    "post",
    summary="Add an improvement item",
    tag=TAG,
    request=schemas.ImprovementInput,
    response=schemas.ReviewImprovementsListItem,
    status=201,
)
@require(Permission.MANAGE_IMPROVEMENTS)
def improvement_create() -> Any:
    data = json_object()
    if g.user.region_id is not None:
        data.setdefault("region_id", g.user.region_id)
    _check_region(data)
    today = current_clock().today()
    item = review_register.create_item(
        orm(), review_register.parse_item(data), today=today, user_id=g.user.id
    )
    return jsonify(review_register.item_json(item, today)), 201


@bp.get("/improvements/<int:item_id>")
@document(
    "/improvements/{item_id}",
    "get",
    summary="One improvement item",
    tag=TAG,
    parameters=[_id("item_id")],
    response=schemas.ReviewImprovementGet,
)
@require(Permission.VIEW_REVIEW, Permission.MANAGE_IMPROVEMENTS)
def improvement_get(item_id: int) -> Any:
    item = get_or_404(ImprovementItem, item_id)
    return jsonify(review_register.item_json(item, current_clock().today()))


@bp.patch("/improvements/<int:item_id>")
@document(
    "/improvements/{item_id}",
    "patch",
    summary="Change an improvement item (only the fields sent); completing it measures the result",
    tag=TAG,
    parameters=[_id("item_id")],
    request=schemas.ImprovementInput,
    response=schemas.ReviewImprovementsListItem,
)
@require(Permission.MANAGE_IMPROVEMENTS)
def improvement_update(item_id: int) -> Any:
    item = get_or_404(ImprovementItem, item_id)
    data = json_object()
    _check_region(data)
    today = current_clock().today()
    parsed = review_register.parse_item(data, review_register.input_of(item))
    review_register.update_item(orm(), item, parsed, today=today)
    return jsonify(review_register.item_json(item, today))


@bp.post("/improvements/<int:item_id>/measure")
@document(
    "/improvements/{item_id}/measure",
    "post",
    summary="Compute the item's measured result again from the data",
    tag=TAG,
    parameters=[_id("item_id")],
    response=schemas.MeasuredResult,
)
@require(Permission.MANAGE_IMPROVEMENTS)
def improvement_measure(item_id: int) -> Any:
    item = get_or_404(ImprovementItem, item_id)
    result = review_results.refresh_result(orm(), item, current_clock().today())
    return jsonify({"code": item.code, "result": result})
