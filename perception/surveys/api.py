"""Survey endpoints: questionnaires and their published versions, campaigns with response rates,
follow-up tasks. They call the same services as the staff pages; a service's ``SurveyError``
propagates and the API answers it as problem+json (422, or 409 for a state conflict)."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify, request
from sqlalchemy import select

from perception.api import bp
from perception.api.errors import json_object
from perception.api.openapi import document
from perception.core.authz import Permission, get_or_404, require, scoped
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.surveys import api_models as schemas
from perception.surveys.models import Campaign, Channel, FollowUpTask, Survey
from perception.surveys.services import campaigns, definitions, followup
from perception.surveys.services import rates as surveys_rates
from perception.surveys.services.errors import SurveyError
from perception.surveys.services.settings import SurveySettings

ID = {"schema": {"type": "integer"}, "in": "path", "required": True}


def rate_json(rate: surveys_rates.Rate) -> dict[str, Any]:
    return {
        "key": rate.key,
        "label_zh": rate.label_zh,
        "label_en": rate.label_en,
        "invited": rate.invited,
        "responded": rate.responded,
        "rate": rate.rate,
    }


def campaign_json(c: Campaign, rate: surveys_rates.Rate | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id,
        "code": c.code,
        "name_zh": c.name_zh,
        "name_en": c.name_en,
        "version_id": c.version_id,
        "kind": c.kind,
        "channel": c.channel,
        "status": c.status,
        "region_id": c.region_id,
        "customer_id": c.customer_id,
        "service_id": c.service_id,
        "tier_id": c.tier_id,
        "opens_at": c.opens_at.isoformat(),
        "closes_at": c.closes_at.isoformat(),
        "reminder_after_days": c.reminder_after_days,
        "max_reminders": c.max_reminders,
        "sampling_rate": c.sampling_rate,
        "csat_threshold": c.csat_threshold,
        "nps_threshold": c.nps_threshold,
        "public_path": f"/s/a/{c.public_slug}" if c.channel == Channel.ANONYMOUS and c.public_slug else None,
    }
    if rate is not None:
        out["rate"] = rate_json(rate)
    return out


def followup_json(t: FollowUpTask) -> dict[str, Any]:
    return {
        "id": t.id,
        "response_id": t.response_id,
        "region_id": t.region_id,
        "customer_id": t.customer_id,
        "contact_id": t.contact_id,
        "campaign_id": t.campaign_id,
        "reasons": t.reasons.split(","),
        "detail": t.detail,
        "status": t.status,
        "outcome": t.outcome,
        "due_on": t.due_on.isoformat() if t.due_on else None,
        "closed_at": t.closed_at.isoformat() if t.closed_at else None,
    }


@bp.get("/surveys")
@document(
    "/surveys",
    "get",
    summary="Questionnaires and their published versions",
    tag="surveys",
    response=schemas.SurveysList,
)
@require(Permission.VIEW_SURVEYS)
def surveys_list() -> Any:
    rows = orm().scalars(select(Survey).order_by(Survey.code))
    return jsonify(
        {
            "items": [
                {
                    "id": s.id,
                    "code": s.code,
                    "name_zh": s.name_zh,
                    "name_en": s.name_en,
                    "versions": [
                        {
                            "id": v.id,
                            "number": v.number,
                            "fingerprint": v.fingerprint,
                            "published_at": v.published_at.isoformat(),
                        }
                        for v in s.versions
                    ],
                }
                for s in rows
            ]
        }
    )


@bp.post("/surveys/<code>/versions")
@document(
    "/surveys/{code}/versions",
    "post",
    summary="Publish (freeze) a definition as the next version",
    tag="surveys",
    parameters=[{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
    request=schemas.PublishInput,
    response=schemas.PublishedVersion,
    status=201,
)
@require(Permission.MANAGE_SURVEYS)
def survey_publish(code: str) -> Any:
    body = json_object()
    if "definition" not in body:
        raise SurveyError.one("definition", "必填", "Required.", code="required")
    version = definitions.publish(orm(), code, body["definition"], user_id=g.user.id)
    return jsonify({"id": version.id, "number": version.number, "fingerprint": version.fingerprint}), 201


@bp.get("/campaigns")
@document(
    "/campaigns",
    "get",
    summary="Campaigns the user may see, with their response rate",
    tag="surveys",
    response=schemas.SurveysCampaignsList,
)
@require(Permission.VIEW_SURVEYS)
def campaigns_list() -> Any:
    rows = list(orm().scalars(scoped(select(Campaign).order_by(Campaign.id), Campaign)))
    rates = surveys_rates.overview(orm(), rows, g.user)
    return jsonify({"items": [campaign_json(c, rates.get(c.id)) for c in rows]})


@bp.post("/campaigns")
@document(
    "/campaigns",
    "post",
    summary="Create a draft campaign",
    tag="surveys",
    request=schemas.CampaignInput,
    response=schemas.Campaign,
    status=201,
)
@require(Permission.MANAGE_SURVEYS)
def campaign_create() -> Any:
    campaign = campaigns.create_campaign(orm(), json_object(), g.user)
    return jsonify(campaign_json(campaign)), 201


@bp.get("/campaigns/<int:campaign_id>")
@document(
    "/campaigns/{campaign_id}",
    "get",
    summary="One campaign with response rates by region and tier",
    tag="surveys",
    parameters=[{"name": "campaign_id", **ID}],
    response=schemas.SurveysCampaignGet,
)
@require(Permission.VIEW_SURVEYS)
def campaign_get(campaign_id: int) -> Any:
    c = get_or_404(Campaign, campaign_id)
    out = campaign_json(c, surveys_rates.campaign_rates(orm(), c, "campaign", g.user)[0])
    for by in ("region", "tier"):
        out[f"by_{by}"] = [rate_json(r) for r in surveys_rates.campaign_rates(orm(), c, by, g.user)]
    return jsonify(out)


@bp.patch("/campaigns/<int:campaign_id>")
@document(
    "/campaigns/{campaign_id}",
    "patch",
    summary="Change a campaign (fields fixed once it is open)",
    tag="surveys",
    parameters=[{"name": "campaign_id", **ID}],
    request=schemas.CampaignInput,
    response=schemas.Campaign,
)
@require(Permission.MANAGE_SURVEYS)
def campaign_patch(campaign_id: int) -> Any:
    c = get_or_404(Campaign, campaign_id)
    campaigns.update_campaign(orm(), c, json_object())
    return jsonify(campaign_json(c))


@bp.post("/campaigns/<int:campaign_id>/open")
@document(
    "/campaigns/{campaign_id}/open",
    "post",
    summary="Open a draft campaign (personal links: invites)",
    tag="surveys",
    parameters=[{"name": "campaign_id", **ID}],
    response=schemas.Campaign,
)
@require(Permission.MANAGE_SURVEYS)
def campaign_open(campaign_id: int) -> Any:
    c = get_or_404(Campaign, campaign_id)
    settings = SurveySettings.from_config(current_app.config)
    campaigns.open_campaign(orm(), c, now=current_clock().now(), settings=settings)
    return jsonify(campaign_json(c))


@bp.post("/campaigns/<int:campaign_id>/close")
@document(
    "/campaigns/{campaign_id}/close",
    "post",
    summary="Close a campaign",
    tag="surveys",
    parameters=[{"name": "campaign_id", **ID}],
    response=schemas.Campaign,
)
@require(Permission.MANAGE_SURVEYS)
def campaign_close(campaign_id: int) -> Any:
    c = get_or_404(Campaign, campaign_id)
    campaigns.close_campaign(orm(), c)
    return jsonify(campaign_json(c))


@bp.get("/followups")
@document(
    "/followups",
    "get",
    summary="Follow-up tasks of the user's regions (?status=open|in_progress|done)",
    tag="surveys",
    response=schemas.SurveysFollowupsList,
)
@require(Permission.VIEW_COLLECTION, Permission.VIEW_SURVEYS)
def followups_list() -> Any:
    rows = followup.followups(orm(), g.user, status=request.args.get("status") or None)
    return jsonify({"items": [followup_json(t) for t in rows]})


@bp.patch("/followups/<int:task_id>")
@document(
    "/followups/{task_id}",
    "patch",
    summary="Set a follow-up task's status and outcome",
    tag="surveys",
    parameters=[{"name": "task_id", **ID}],
    request=schemas.FollowUpChange,
    response=schemas.FollowUp,
)
@require(Permission.MANAGE_FOLLOWUPS)
def followup_patch(task_id: int) -> Any:
    task = get_or_404(FollowUpTask, task_id)
    body = json_object()
    followup.update_followup(
        orm(),
        task,
        status=str(body.get("status") or ""),
        outcome=None if body.get("outcome") is None else str(body["outcome"]),
        assignee_id=g.user.id,
        now=current_clock().now(),
    )
    return jsonify(followup_json(task))
