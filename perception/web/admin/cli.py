"""`perception user ...` and `perception token ...`: the system owner's accounts and API tokens from a
shell, the same operations as the admin pages (perception.core.users)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from perception.core.audit import acting_as
from perception.core.extensions import orm
from perception.core.transaction import unit_of_work


def _in_unit(action: Any) -> Any:
    """Run one operation as the command's unit of work (committed, or rolled back on an error)."""
    with unit_of_work():
        return action()


@click.group("user")
def user_group() -> None:
    """Create users, set roles, reset passwords."""


@user_group.command("create")
@click.argument("username")
@click.option("--name", "display_name", default="")
@click.option("--email", default=None)
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option(
    "--collection-point", "point_code", default=None, help="Code of a collector's collection point."
)
@click.option("--customer", "customer_code", default=None, help="Code of a customer rep's organisation.")
@click.option("--password", default=None, help="Prompted when omitted.")
@with_appcontext
def user_create(
    username: str,
    display_name: str,
    email: str | None,
    roles: tuple[str, ...],
    point_code: str | None,
    customer_code: str | None,
    password: str | None,
) -> None:
    from perception.core import users
    from perception.core.models.org import CollectionPoint, CustomerOrg

    point_id = customer_id = None
    if point_code:
        point_id = orm().scalar(select(CollectionPoint.id).where(CollectionPoint.code == point_code))
        if point_id is None:
            raise click.UsageError(f"--collection-point: no collection point with code {point_code!r}")
    if customer_code:
        customer_id = orm().scalar(select(CustomerOrg.id).where(CustomerOrg.code == customer_code))
        if customer_id is None:
            raise click.UsageError(f"--customer: no customer organisation with code {customer_code!r}")
    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with acting_as("cli:user"):
        try:
            spec = users.UserSpec(
                username=username,
                display_name=display_name or username,
                email=email,
                roles=users.parse_roles(roles),
                password=password,
                collection_point_id=point_id,
                customer_id=customer_id,
            )
            _in_unit(lambda: users.create_user(orm(), spec))
        except users.AccountError as exc:
            raise click.UsageError(exc.text("en")) from None
    click.echo(f"Created {username}.")


def _user_or_fail(username: str) -> Any:
    from perception.core.models.auth import User

    user = orm().scalar(select(User).where(User.username == username))
    if user is None:
        raise click.UsageError(f"no user {username!r}")
    return user


@user_group.command("set-roles")
@click.argument("username")
@click.argument("roles", nargs=-1, required=True)
@with_appcontext
def user_set_roles(username: str, roles: tuple[str, ...]) -> None:
    from perception.core import users

    user = _user_or_fail(username)
    with acting_as("cli:user"):
        try:
            parsed = users.parse_roles(roles)
            spec = users.UserSpec(
                username=user.username,
                display_name=user.display_name,
                email=user.email,
                roles=parsed,
                language=user.language,
                collection_point_id=user.collection_point_id,
                region_id=None if user.collection_point_id else user.region_id,
                customer_id=user.customer_id,
                active=user.active,
            )
            _in_unit(lambda: users.update_user(orm(), user, spec))
        except users.AccountError as exc:
            raise click.UsageError(exc.text("en")) from None
    click.echo(f"{username}: {', '.join(sorted(r.value for r in user.roles))}")


@user_group.command("reset-password")
@click.argument("username")
@click.option("--password", default=None, help="Prompted when omitted.")
@with_appcontext
def user_reset_password(username: str, password: str | None) -> None:
    from perception.core import users

    user = _user_or_fail(username)
    if not password:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with acting_as("cli:user"):
        try:
            _in_unit(lambda: users.reset_password(orm(), user, password))
        except users.AccountError as exc:
            raise click.UsageError(exc.text("en")) from None
    click.echo(f"Password of {username} reset; existing sessions were signed out.")


@user_group.command("list")
@with_appcontext
def user_list() -> None:
    from perception.core.models.auth import User

    for u in orm().scalars(select(User).order_by(User.username)):
        roles = ",".join(sorted(r.value for r in u.roles))
        click.echo(f"{u.username:20} {'active' if u.active else 'inactive':8} {roles}")


@click.group("token")
def token_group() -> None:
    """Issue and revoke API tokens."""


@token_group.command("issue")
@click.argument("username")
@click.option("--name", default="cli", show_default=True)
@click.option("--days", type=int, default=None, help="Expire after this many days.")
@click.option("--role", "roles", multiple=True, help="Narrow the key to this role of the user (repeatable).")
@click.option(
    "--region", "region_codes", multiple=True, help="Narrow the key to this region (its code; repeatable)."
)
@click.option("--customer", "customer_code", default=None, help="Narrow the key to one customer (its code).")
@click.option("--read-only", is_flag=True, help="The key may only read (GET).")
@with_appcontext
def token_issue(
    username: str,
    name: str,
    days: int | None,
    roles: tuple[str, ...],
    region_codes: tuple[str, ...],
    customer_code: str | None,
    read_only: bool,
) -> None:
    """Issue an API key for USERNAME, optionally scoped (never wider than the user)."""
    from perception.core import users
    from perception.core.models.base import utcnow
    from perception.core.models.org import CustomerOrg, Region

    user = _user_or_fail(username)
    expires = utcnow() + timedelta(days=days) if days else None
    region_ids = [_id_by_code(Region, code, "region") for code in region_codes]
    customer_id = _id_by_code(CustomerOrg, customer_code, "customer")
    with acting_as("cli:token"):
        try:
            token, secret = _in_unit(
                lambda: users.issue_token(
                    orm(),
                    user,
                    name,
                    expires,
                    roles=roles,
                    region_ids=[r for r in region_ids if r is not None],
                    customer_id=customer_id,
                    read_only=read_only,
                )  # fmt: skip
            )
        except users.AccountError as exc:
            raise click.UsageError("; ".join(p.text(False) for p in exc.problems)) from exc
    click.echo(f"Token {token.id} ({token.prefix}…) for {username}; shown once:")
    click.echo(secret)


def _id_by_code(model: Any, code: str | None, what: str) -> int | None:
    if not code:
        return None
    found = orm().scalar(select(model.id).where(model.code == code))
    if found is None:
        raise click.UsageError(f"no {what} with code {code!r}")
    return int(found)


@token_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def token_revoke(token_id: int) -> None:
    from perception.core import users
    from perception.core.models.auth import ApiToken

    token = orm().get(ApiToken, token_id)
    if token is None:
        raise click.UsageError(f"no token {token_id}")
    with acting_as("cli:token"):
        _in_unit(lambda: users.revoke_token(orm(), token))
    click.echo(f"Token {token_id} revoked.")


@token_group.command("list")
@with_appcontext
def token_list() -> None:
    from perception.core.models.auth import ApiToken

    for t in orm().scalars(select(ApiToken).order_by(ApiToken.id)):
        state = "revoked" if t.revoked_at else "active"
        scope = ",".join(
            part
            for part in (
                t.scope_roles,
                "regions=" + "+".join(r.code for r in t.scope_regions) if t.scope_regions else "",
                f"customer={t.scope_customer_id}" if t.scope_customer_id else "",
                "read-only" if t.read_only else "",
            )
            if part
        )
        last = t.last_used_at.isoformat(timespec="minutes") if t.last_used_at else "never used"
        click.echo(f"{t.id:5} {t.prefix}… {t.user.username:20} {t.name:20} {state:8} {last:17} {scope}")
