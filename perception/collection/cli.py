"""`perception collection ...` commands: importing past weekly reports and phone callbacks from a shell
(without --apply a dry run that only checks and counts)."""

from __future__ import annotations

from pathlib import Path

import click

from perception.collection.models.fieldwork import CallbackCampaign
from perception.collection.services.callback_history import import_callbacks
from perception.collection.services.report_history import import_reports
from perception.collection.views import bp
from perception.core.audit import acting_as
from perception.core.clock import current_clock
from perception.core.transaction import unit_of_work
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions
from perception.surveys.cli import say_problems, say_result

bp.cli.help = "Collection from a shell: importing past weekly reports and callbacks."


@bp.cli.command("import-reports")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--apply", is_flag=True, help="Store the reports (default: dry run).")
def import_reports_command(path: Path, apply: bool) -> None:
    """Import past weekly reports with entries and submission times (CSV/XLSX, one row per entry)."""
    try:
        with acting_as("cli:collection-import-reports"), unit_of_work() as session:
            result = import_reports(session, ImportOptions(dry_run=not apply), data=path,
                                    filename=path.name)  # fmt: skip
    except KpiImportError as exc:
        raise say_problems(exc) from None
    say_result(result, apply)


@bp.cli.command("import-callbacks")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "campaign_id", type=int, required=True, help="Id of the callback campaign.")
@click.option("--apply", is_flag=True, help="Store the calls (default: dry run).")
def import_callbacks_command(path: Path, campaign_id: int, apply: bool) -> None:
    """Import past phone callbacks with their outcomes (CSV/XLSX, one row per call)."""
    try:
        with acting_as("cli:collection-import-callbacks"), unit_of_work() as session:
            campaign = session.get(CallbackCampaign, campaign_id)
            if campaign is None:
                raise click.ClickException(f"no callback campaign with the id {campaign_id}")
            result = import_callbacks(
                session, campaign, ImportOptions(dry_run=not apply), org_timezone=current_clock().timezone,
                data=path, filename=path.name,
            )  # fmt: skip
    except KpiImportError as exc:
        raise say_problems(exc) from None
    say_result(result, apply)
