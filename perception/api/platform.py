"""Platform endpoints: who am I, the organisation (region-scoped), the audit log."""

from __future__ import annotations

from typing import Any

from flask import abort, g, jsonify
from sqlalchemy import select

from perception.api import bp, paging
from perception.api import schemas as s
from perception.api.errors import page_args
from perception.api.openapi import document
from perception.core.authz import Permission, get_or_404, require, scoped
from perception.core.extensions import orm
from perception.core.models.audit import AuditEntry
from perception.core.models.org import CollectionPoint, CustomerOrg, Region


def region_json(r: Region) -> dict[str, Any]:
    return {"id": r.id, "code": r.code, "name_zh": r.name_zh, "name_en": r.name_en, "timezone": r.timezone}


@bp.get("/me")
@document("/me", "get", summary="The authenticated user, roles and scope", tag="platform", response=s.Me)
@require(Permission.USE_API)
def me() -> Any:
    u = g.user
    return jsonify(
        {
            "id": u.id,
            "username": u.username,
            "display_name": u.display_name,
            "roles": sorted(r.value for r in u.roles),
            "region_id": u.region_id,
            "collection_point_id": u.collection_point_id,
            "customer_id": u.customer_id,
        }
    )


@bp.get("/regions")
@document(
    "/regions",
    "get",
    summary="Regions the user may see, with their ids, in id order, paged",
    tag="organisation",
    parameters=paging.PARAMETERS,
    response=s.RegionPage,
)
@require(Permission.USE_API)
def regions() -> Any:
    return jsonify(paging.page_of_select(scoped(select(Region), Region), Region.id, region_json))


@bp.get("/regions/<int:region_id>")
@document(
    "/regions/{region_id}",
    "get",
    summary="One region (404 when outside the user's scope)",
    tag="organisation",
    parameters=[{"name": "region_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    response=s.Region,
)
@require(Permission.USE_API)
def region(region_id: int) -> Any:
    return jsonify(region_json(get_or_404(Region, region_id)))


def _placed_json(row: CollectionPoint | CustomerOrg) -> dict[str, Any]:
    return {
        "id": row.id,
        "code": row.code,
        "name_zh": row.name_zh,
        "name_en": row.name_en,
        "region_id": row.region_id,
    }


@bp.get("/collection-points")
@document(
    "/collection-points",
    "get",
    summary="Collection points the user may see, with their ids, in id order, paged",
    tag="organisation",
    parameters=paging.PARAMETERS,
    response=s.CollectionPointPage,
)
@require(Permission.USE_API)
def collection_points() -> Any:
    stmt = scoped(select(CollectionPoint), CollectionPoint)
    return jsonify(paging.page_of_select(stmt, CollectionPoint.id, _placed_json))


@bp.get("/customers")
@document(
    "/customers",
    "get",
    summary="Customer organisations the user may see, with their ids, in id order, paged",
    tag="organisation",
    parameters=paging.PARAMETERS,
    response=s.CustomerPage,
)
@require(Permission.USE_API)
def customers() -> Any:
    stmt = scoped(select(CustomerOrg), CustomerOrg)
    return jsonify(paging.page_of_select(stmt, CustomerOrg.id, _placed_json))


@bp.get("/audit")
@document(
    "/audit",
    "get",
    summary="The audit log, newest first (system owner)",
    tag="platform",
    parameters=paging.PARAMETERS,
    response=s.AuditPage,
)
@require(Permission.VIEW_AUDIT)
def audit() -> Any:
    page, size = page_args()
    rows = orm().scalars(
        select(AuditEntry).order_by(AuditEntry.id.desc()).limit(size).offset((page - 1) * size)
    )
    return jsonify(
        {
            "page": page,
            "items": [
                {
                    "id": a.id,
                    "at": a.at.isoformat() + "Z",  # stored in UTC
                    "actor": a.actor_name,
                    "action": a.action,
                    "object_type": a.object_type,
                    "object_id": a.object_id,
                    "summary": a.summary,
                    "before": a.before,
                    "after": a.after,
                }
                for a in rows
            ],
        }
    )


@bp.get("/jobs/<job_id>")
@document(
    "/jobs/{job_id}",
    "get",
    summary="A background job's state: queued, running (step, done of total), done, failed (the reason), "
    "retries (404 unless the caller asked for it or may see what it produces)",
    tag="platform",
    parameters=[{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}],
    response=s.Job,
)
@require(Permission.USE_API)
def job_state(job_id: str) -> Any:
    from perception.core.jobs.state import may_watch, state_of
    from perception.core.models.jobs import Job

    job = orm().get(Job, job_id[:32])
    if job is None or not may_watch(g.user, job):
        abort(404)
    return jsonify(state_of(job).to_json())
