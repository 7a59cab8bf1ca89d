"""A background job's state for the people who wait for it: a page that refreshes itself while the
job runs (no JavaScript needed) and the same as JSON for the small script that updates a progress
bar in place (static/js/jobs.js)."""

from __future__ import annotations

from typing import Any

from flask import abort, g, jsonify, render_template, request

from perception.core.authz import login_required
from perception.core.extensions import orm
from perception.core.jobs.state import may_watch, state_of
from perception.core.models.jobs import Job
from perception.web.main import bp


def _same_site_path(target: str | None) -> str | None:
    """Only a path on this site (never ``//host`` or a URL) is offered as the way back."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.get("/jobs/<job_id>")
@login_required
def job_state(job_id: str) -> Any:
    job = orm().get(Job, job_id[:32])
    if job is None or not may_watch(g.user, job):
        abort(404)
    state = state_of(job)
    if request.args.get("format") == "json":
        return jsonify(state.to_json())
    return render_template("main/job.html", job=state, back=_same_site_path(request.args.get("next")))
