"""`perception kpi ...` commands: imports, KPI recomputation and the escalation check from a shell
(cron can run `perception kpi escalate` every few minutes for minute-level escalation)."""

from __future__ import annotations

from pathlib import Path

import click

from perception.core.audit import acting_as
from perception.core.clock import current_clock
from perception.core.transaction import unit_of_work
from perception.kpi.services.escalation import check_escalations, mark_recovered
from perception.kpi.services.jobs import recompute_recent
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from perception.kpi.services.value_import import import_kpi_values
from perception.kpi.views import bp

bp.cli.help = "Imports, KPI recomputation and the escalation check from a shell."


def _run_import(kind: str, path: Path, apply: bool, allow_duplicate: bool) -> None:
    run = import_tickets if kind == "tickets" else import_kpi_values
    options = ImportOptions(dry_run=not apply, allow_duplicate=allow_duplicate, max_excel_rows=1_000_000)
    try:
        with acting_as(f"cli:kpi-import-{kind}"), unit_of_work() as session:
            result = run(session, options, data=path, filename=path.name)
    except KpiImportError as exc:
        for problem in exc.problems:
            click.echo(problem.located("en"), err=True)
        raise click.ClickException(f"nothing imported: {exc.total} problem(s)") from None
    verb = "imported" if apply else "dry run (nothing stored; add --apply)"
    click.echo(
        f"{verb}: {result.rows_total} rows, {result.rows_new} new, {result.rows_changed} changed, "
        f"{result.rows_unchanged} unchanged in {result.seconds:.1f} s "
        f"({result.rows_total / max(result.seconds, 1e-9):,.0f} rows/s)"
    )
    if result.duplicate_of:
        click.echo(f"note: the same content was applied before as batch {result.duplicate_of}")


@bp.cli.command("import-tickets")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--apply", is_flag=True, help="Store the tickets (default: dry run).")
@click.option("--allow-duplicate", is_flag=True, help="Apply even if this file was imported before.")
def import_tickets_command(path: Path, apply: bool, allow_duplicate: bool) -> None:
    """Import tickets from a CSV or Excel file (upsert by ticket id)."""
    _run_import("tickets", path, apply, allow_duplicate)


@bp.cli.command("import-values")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--apply", is_flag=True, help="Store the values (default: dry run).")
@click.option("--allow-duplicate", is_flag=True)
def import_values_command(path: Path, apply: bool, allow_duplicate: bool) -> None:
    """Import KPI values from a CSV or Excel file."""
    _run_import("values", path, apply, allow_duplicate)


@bp.cli.command("compute")
@click.option("--weeks", default=26, show_default=True, type=click.IntRange(1, 520))
def compute_command(weeks: int) -> None:
    """Recompute the weekly ticket KPIs of the last WEEKS weeks."""
    with acting_as("cli:kpi-compute"), unit_of_work() as session:
        summary = recompute_recent(session, weeks, clock=current_clock())
    click.echo(
        f"{summary.tickets} tickets -> {summary.groups} groups, "
        f"{summary.values} KPI values in {summary.seconds:.1f} s"
    )


@bp.cli.command("escalate")
def escalate_command() -> None:
    """Fire due SLA escalations now (each rule once per breach) and close recovered ones."""
    now = current_clock().now()
    with acting_as("cli:kpi-escalate"), unit_of_work() as session:
        fired = check_escalations(session, now)
        recovered = mark_recovered(session, now)
    click.echo(f"{len(fired)} escalation(s) fired, {recovered} recovered")
