"""Imports every module that defines jobs, so the registry is complete in web and worker processes."""

from perception import mail  # noqa: F401  (send_email)
from perception.jobs import builtin  # noqa: F401
from perception.services import collection_feedback_check, collection_reminders  # noqa: F401
from perception.services import surveys_invitations  # noqa: F401
from perception.services import review_jobs  # noqa: F401
from perception.services import analysis_alert_checks, analysis_rollup, analysis_text_run  # noqa: F401
from perception.services import kpi_escalation, kpi_jobs  # noqa: F401
