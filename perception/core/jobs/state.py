"""What a page or API client is told about a job: its state in words, its progress, its retries
and the reason of its last failure, and who may see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from perception.core.models.jobs import Job, JobStatus

STATUS_LABELS = {
    JobStatus.QUEUED: _l("Queued"),
    JobStatus.RUNNING: _l("Running"),
    JobStatus.DONE: _l("Done"),
    JobStatus.FAILED: _l("Failed"),
}

# Steps that long operations report (perception.core.jobs.progress.report), in words.
STEP_LABELS = {
    "probe": _l("Checking the worker"),
    "loading": _l("Loading the texts"),
    "themes": _l("Finding themes"),
    "training": _l("Training the classifiers"),
    "predicting": _l("Classifying the texts"),
    "writing": _l("Saving the results"),
    "sections": _l("Computing the sections"),
    "rendering": _l("Drawing the PDF"),
}


@dataclass(frozen=True)
class JobState:
    id: str
    name: str
    status: str
    status_label: str
    step: str | None
    step_label: str | None
    done: int
    total: int
    attempts: int
    retries: int
    max_attempts: int
    error: str | None
    created_at: datetime
    due_at: datetime
    finished_at: datetime | None

    @property
    def active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def percent(self) -> int | None:
        return round(100 * self.done / self.total) if self.total else None

    @property
    def waiting_to_retry(self) -> bool:
        return self.status == JobStatus.QUEUED and self.attempts > 0

    @property
    def retry_in_seconds(self) -> int:
        from perception.core.models.base import utcnow

        return max(round((self.due_at - utcnow()).total_seconds()), 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "status_label": self.status_label,
            "step": self.step,
            "step_label": self.step_label,
            "done": self.done,
            "total": self.total,
            "percent": self.percent,
            "attempts": self.attempts,
            "retries": self.retries,
            "max_attempts": self.max_attempts,
            "error": self.error,
            "created_at": self.created_at.isoformat() + "Z",
            "next_attempt_at": self.due_at.isoformat() + "Z" if self.waiting_to_retry else None,
            "finished_at": self.finished_at.isoformat() + "Z" if self.finished_at else None,
        }


def state_of(job: Job) -> JobState:
    from perception.core.extensions import db
    from perception.core.jobs.progress import beat_of

    beat = beat_of(current_app, db.engine, job)
    step = beat.step if beat else None
    # The reason, not the traceback kept below it for the logs.
    error = (job.error or "").split("\n", 1)[0] or None
    return JobState(
        id=job.id,
        name=job.name,
        status=job.status,
        status_label=str(STATUS_LABELS.get(JobStatus(job.status), job.status)),
        step=step,
        step_label=str(STEP_LABELS[step]) if step in STEP_LABELS else None,
        done=beat.done if beat else (job.done if job.status == JobStatus.DONE else 0),
        total=beat.total if beat else job.total,
        attempts=job.attempts,
        retries=job.retries,
        max_attempts=job.max_attempts,
        error=error,
        created_at=job.created_at,
        due_at=job.due_at,
        finished_at=job.finished_at,
    )


def may_watch(user: Any, job: Job) -> bool:
    """The user who asked for the job, and holders of the permission its registration names."""
    from perception.core.authz import Permission, can
    from perception.core.jobs import WATCHERS

    if user is None:
        return False
    if job.requested_by_id is not None and job.requested_by_id == user.id:
        return True
    permission = WATCHERS.get(job.name)
    return permission is not None and can(Permission(permission), user)
