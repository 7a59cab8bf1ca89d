"""`perception webhooks ...`: the system owner's webhook subscriptions from a shell: add one (its
secret is shown once), list them, rotate a secret, read the delivery log, replay a delivery."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from perception.core.audit import acting_as
from perception.core.models.base import utcnow
from perception.core.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription
from perception.core.transaction import unit_of_work
from perception.core.webhooks import EVENT_TYPES, new_secret, replay, rotate_secret


@click.group("webhooks")
def webhooks_group() -> None:
    """Webhook subscriptions, their delivery log and replays."""


@webhooks_group.command("add")
@click.argument("url")
@click.option("--event", "events", multiple=True, required=True, type=click.Choice(EVENT_TYPES))
@click.option("--description", default=None)
@with_appcontext
def webhooks_add(url: str, events: tuple[str, ...], description: str | None) -> None:
    """Subscribe URL to the given event types; prints the signing secret (shown once)."""
    if not url.startswith(("https://", "http://")):
        raise click.ClickException("the URL must start with https:// (or http:// on a private network)")
    secret = new_secret()
    with acting_as("cli:webhooks-add"), unit_of_work() as session:
        subscription = WebhookSubscription(
            url=url, event_types=list(events), secret=secret, description=description
        )
        session.add(subscription)
        session.flush()
        ident = subscription.id
    click.echo(f"subscription {ident}\nsecret: {secret}")


@webhooks_group.command("list")
@with_appcontext
def webhooks_list() -> None:
    with unit_of_work() as session:
        for s in session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)):
            state = (
                "active"
                if s.active
                else f"disabled {s.disabled_at:%Y-%m-%d %H:%M}"
                if s.disabled_at
                else "off"
            )
            click.echo(f"{s.id}\t{state}\t{','.join(s.event_types)}\t{s.url}")


@webhooks_group.command("rotate")
@click.argument("subscription_id", type=int)
@with_appcontext
def webhooks_rotate(subscription_id: int) -> None:
    """A new secret; the old one keeps signing beside it for 24 hours."""
    with acting_as("cli:webhooks-rotate"), unit_of_work() as session:
        subscription = session.get(WebhookSubscription, subscription_id)
        if subscription is None:
            raise click.ClickException(f"no subscription {subscription_id}")
        secret = rotate_secret(subscription, utcnow())
    click.echo(f"secret: {secret}")


@webhooks_group.command("log")
@click.argument("subscription_id", type=int)
@click.option("--limit", default=20, show_default=True)
@with_appcontext
def webhooks_log(subscription_id: int, limit: int) -> None:
    """The latest deliveries of a subscription with every attempt (time, status, seconds)."""
    with unit_of_work() as session:
        deliveries = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
            .order_by(WebhookDelivery.id.desc()).limit(limit)
        ).all()  # fmt: skip
        for d in deliveries:
            click.echo(f"{d.id}\t{d.message_id}\t{d.event_type}\t{d.status}\t{d.attempts} attempt(s)")
            for a in session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == d.id)):
                click.echo(f"\t{a.at:%Y-%m-%d %H:%M:%S}\t{a.status_code or a.error}\t{a.seconds:.3f} s")


@webhooks_group.command("replay")
@click.argument("delivery_id", type=int)
@with_appcontext
def webhooks_replay(delivery_id: int) -> None:
    """Send a delivery again now (same message id), re-enabling its subscription."""
    from flask import current_app

    from perception.core.webhooks import WebhookSettings, deliver

    with acting_as("cli:webhooks-replay"), unit_of_work() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            raise click.ClickException(f"no delivery {delivery_id}")
        replay(session, delivery, utcnow())
        ok = deliver(session, delivery_id, utcnow(), WebhookSettings.from_config(current_app.config))
    click.echo("delivered" if ok else "not delivered: see `perception webhooks log`")
