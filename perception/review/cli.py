"""`perception review ...`: create the current period's review by hand and send the reminders (the
same work as the daily job ``ensure_reviews``), and (re)generate a review's PDF."""

from __future__ import annotations

from datetime import date, datetime, time

import click

from perception.core.extensions import db
from perception.core.transaction import unit_of_work
from perception.review.views import bp


@bp.cli.command("ensure")
@click.option(
    "--on", "on", default=None, help="Create the review of the period containing this date (YYYY-MM-DD)."
)
def ensure_command(on: str | None) -> None:
    """Create the review of the current (or given) period if missing, and send due reminders."""
    from perception.core.audit import acting_as
    from perception.review.services.jobs import ensure_reviews

    moment = datetime.combine(date.fromisoformat(on), time(12)) if on else None
    with acting_as("cli:review-ensure"), unit_of_work() as session:
        result = ensure_reviews(session, now=moment)
    state = "created" if result["created"] else "exists"
    click.echo(f"review {result['review']}: {state}; reminders sent: {len(result['reminders'])}")


@bp.cli.command("pdf")
@click.argument("code")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh")
def pdf_command(code: str, lang: str) -> None:
    """Generate (or regenerate) the PDF of review CODE (e.g. 2026-H1) and store it."""
    from sqlalchemy import select

    from perception.core.audit import acting_as
    from perception.review.models import Review
    from perception.review.services.reports import generate_report

    review = db.session.scalar(select(Review).where(Review.code == code))
    if review is None:
        raise click.ClickException(f"no review {code!r}")
    with acting_as("cli:review-pdf"), unit_of_work() as session:
        report = generate_report(session, review, lang)
    if report.error:
        raise click.ClickException(report.error)
    click.echo(f"{code} {lang}: {report.pages} pages, {report.size_bytes} bytes in {report.seconds} s")
