"""`perception surveys ...` commands: importing past answers from a shell (a migration loads years of
history in one command; without --apply it is a dry run that only checks and counts)."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from perception.core.audit import acting_as
from perception.core.clock import current_clock
from perception.core.transaction import unit_of_work
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions, ImportResult
from perception.surveys.models import Campaign
from perception.surveys.services.history_import import import_responses
from perception.surveys.views import bp

bp.cli.help = "Surveys from a shell: importing past answers."


def say_result(result: ImportResult, apply: bool) -> None:
    verb = "imported" if apply else "dry run (nothing stored; add --apply)"
    click.echo(
        f"{verb}: {result.rows_total} rows, {result.rows_new} new, {result.rows_changed} changed, "
        f"{result.rows_unchanged} unchanged in {result.seconds:.1f} s"
    )


def say_problems(exc: KpiImportError) -> click.ClickException:
    for problem in exc.problems:
        click.echo(problem.located("en"), err=True)
    return click.ClickException(f"nothing imported: {exc.total} problem(s)")


@bp.cli.command("import-responses")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "code", required=True, help="Code of the campaign the answers belong to.")
@click.option("--apply", is_flag=True, help="Store the responses (default: dry run).")
def import_responses_command(path: Path, code: str, apply: bool) -> None:
    """Import past survey answers (CSV/XLSX; own layout, LimeSurvey or Formbricks export)."""
    try:
        with acting_as("cli:surveys-import-responses"), unit_of_work() as session:
            campaign = session.scalar(select(Campaign).where(Campaign.code == code))
            if campaign is None:
                raise click.ClickException(f"no campaign with the code {code!r}")
            result = import_responses(
                session, campaign, ImportOptions(dry_run=not apply, max_excel_rows=1_000_000),
                org_timezone=current_clock().timezone, data=path, filename=path.name,
            )  # fmt: skip
    except KpiImportError as exc:
        raise say_problems(exc) from None
    say_result(result, apply)
