"""Imports every module that defines jobs, so the registry is complete in web and worker processes."""

from perception import mail  # noqa: F401  (send_email)
from perception.jobs import builtin  # noqa: F401
from perception.services import (  # noqa: F401
    analysis_alert_checks,
    analysis_rollup,
    analysis_text_run,
    collection_feedback_check,
    collection_reminders,
    kpi_escalation,
    kpi_jobs,
    review_jobs,
    surveys_invitations,
)
