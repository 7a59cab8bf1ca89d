"""`perception kpi intake-connect / intake-rotate`: an owner adds a service-desk connection (its secret
is shown once, to paste into the service desk) or replaces a connection's secret."""

from __future__ import annotations

import secrets

import click
from sqlalchemy import select

from perception.core.audit import acting_as
from perception.core.transaction import unit_of_work
from perception.kpi.intake_models import IntakeConnection, IntakeKind
from perception.kpi.views import bp


@bp.cli.command("intake-connect")
@click.argument("code")
@click.option("--kind", type=click.Choice([k.value for k in IntakeKind]), required=True)
@click.option("--name", required=True, help="What people call this service desk.")
@click.option("--service", default=None, help="Service code of its tickets when a payload names none.")
@click.option("--customer", default=None, help="Customer code of its tickets when a payload names none.")
def intake_connect(code: str, kind: str, name: str, service: str | None, customer: str | None) -> None:
    """Add a service-desk connection; prints its endpoint path and secret (shown once)."""
    secret = secrets.token_urlsafe(32)
    with acting_as("cli:kpi-intake-connect"), unit_of_work() as session:
        if session.scalar(select(IntakeConnection).where(IntakeConnection.code == code)):
            raise click.ClickException(f"a connection with the code {code!r} exists; use intake-rotate")
        session.add(IntakeConnection(code=code, kind=kind, name=name, secret=secret, default_service=service,
                                     default_customer=customer))  # fmt: skip
    click.echo(f"endpoint: /intake/{code}/events\nsecret: {secret}")


@bp.cli.command("intake-rotate")
@click.argument("code")
def intake_rotate(code: str) -> None:
    """Give a connection a new secret (the old one stops working at once)."""
    secret = secrets.token_urlsafe(32)
    with acting_as("cli:kpi-intake-rotate"), unit_of_work() as session:
        connection = session.scalar(select(IntakeConnection).where(IntakeConnection.code == code))
        if connection is None:
            raise click.ClickException(f"no connection with the code {code!r}")
        connection.secret = secret
    click.echo(f"secret: {secret}")
