"""`perception review ...`: create the current period's review by hand and send the reminders (the
same work as the daily job ``ensure_reviews``), and (re)generate a review's PDF."""

from __future__ import annotations

import click
from sqlalchemy import select

from perception.core.audit import acting_as
from perception.core.clock import current_clock
from perception.core.errors import UserError
from perception.core.periods import parse_day
from perception.core.transaction import unit_of_work
from perception.review import settings
from perception.review.jobs import ensure_and_remind
from perception.review.models import Review
from perception.review.services.reports import generate_report
from perception.review.views import bp

bp.cli.help = "Create the current review, send its reminders, generate its PDF."


@bp.cli.command("ensure")
@click.option(
    "--on", "on", default=None, help="Create the review of the period containing this date (YYYY-MM-DD)."
)
def ensure_command(on: str | None) -> None:
    """Create the review of the current (or given) period if missing, and send due reminders."""
    clock = current_clock()
    try:
        today = parse_day(on, "--on") if on else clock.today()
    except UserError as exc:
        raise click.BadParameter(exc.en, param_hint="--on") from None
    with acting_as("cli:review-ensure"), unit_of_work() as session:
        result = ensure_and_remind(session, today, clock.now())
    state = "created" if result["created"] else "exists"
    click.echo(f"review {result['review']}: {state}; reminders sent: {len(result['reminders'])}")


@bp.cli.command("pdf")
@click.argument("code")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh")
def pdf_command(code: str, lang: str) -> None:
    """Generate (or regenerate) the PDF of review CODE (e.g. 2026-H1) and store it."""
    with acting_as("cli:review-pdf"), unit_of_work() as session:
        review = session.scalar(select(Review).where(Review.code == code))
        if review is None:
            raise click.ClickException(f"no review {code!r}")
        report = generate_report(
            session, review, lang, today=current_clock().today(), settings=settings.pdf_settings()
        )
    if report.error:
        raise click.ClickException(report.error)
    click.echo(f"{code} {lang}: {report.pages} pages, {report.size_bytes} bytes in {report.seconds} s")
