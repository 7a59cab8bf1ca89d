"""Users and their roles, API tokens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core import security, sessions
from perception.core.errors import UserError
from perception.core.models.auth import ApiToken, Role, User, UserRole
from perception.core.models.base import utcnow
from perception.core.models.org import CollectionPoint, CustomerOrg, Region


class AccountError(UserError):
    """A problem with a user account's fields (username, roles, password, scope)."""


@dataclass(frozen=True)
class UserSpec:
    username: str
    display_name: str
    roles: frozenset[Role]
    email: str | None = None
    password: str | None = None
    language: str | None = None
    collection_point_id: int | None = None
    region_id: int | None = None
    customer_id: int | None = None
    active: bool = True


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    roles = set()
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            roles.add(Role(value))
        except ValueError:
            choices = ", ".join(r.value for r in Role)
            raise AccountError.one(
                "roles",
                f"未知角色“{value}”；可选：{choices}",
                f"unknown role {value!r}; choose from {choices}",
            ) from None
    return frozenset(roles)


def _bind(session: Session, user: User, spec: UserSpec) -> None:
    """Collectors belong to exactly one collection point (and so its region); customer
    representatives to exactly one customer organisation."""
    user.collection_point_id = spec.collection_point_id
    user.region_id = spec.region_id
    user.customer_id = spec.customer_id
    if spec.collection_point_id is not None:
        point = session.get(CollectionPoint, spec.collection_point_id)
        if point is None:
            raise AccountError.one("collection_point_id", "没有这个采集点", "no such collection point")
        user.region_id = point.region_id
    if Role.COLLECTOR in spec.roles and user.collection_point_id is None:
        raise AccountError.one(
            "collection_point_id", "采集员必须属于一个采集点", "a collector must belong to a collection point"
        )
    if Role.CUSTOMER_REP in spec.roles:
        if spec.customer_id is None or session.get(CustomerOrg, spec.customer_id) is None:
            raise AccountError.one(
                "customer_id",
                "客户代表必须属于一个客户组织",
                "a customer representative must belong to a customer organisation",
            )
    elif spec.customer_id is not None:
        raise AccountError.one(
            "customer_id",
            "只有客户代表才属于客户组织",
            "only customer representatives belong to a customer organisation",
        )


def create_user(session: Session, spec: UserSpec, *, password_hash: str | None = None) -> User:
    """A new user of ``spec``; ``password_hash``: a hash of ``spec.password`` made earlier, for
    users created together with one shared password (the demo's), hashed once instead of once each."""
    username = spec.username.strip()
    if not username or len(username) > 80:
        raise AccountError.one("username", "1 到 80 个字符", "1 to 80 characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError.one("username", "该用户名已被使用", "already taken")
    if not spec.roles:
        raise AccountError.one("roles", "请至少选择一个角色", "choose at least one role")
    password = spec.password or ""
    problem = security.password_problem(password)
    if problem:
        raise AccountError.one("password", *problem)
    user = User(
        username=username,
        display_name=spec.display_name.strip() or username,
        email=spec.email,
        language=spec.language,
        active=spec.active,
        password_hash=password_hash or security.hash_password(password),
    )
    _bind(session, user, spec)
    user.role_links = [UserRole(role=r.value) for r in sorted(spec.roles)]
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, user: User, spec: UserSpec) -> User:
    if not spec.roles:
        raise AccountError.one("roles", "请至少选择一个角色", "choose at least one role")
    user.display_name = spec.display_name.strip() or user.username
    user.email = spec.email
    user.language = spec.language
    if user.active and not spec.active:
        user.session_version += 1
        sessions.revoke_all(session, user.id, utcnow())
    user.active = spec.active
    _bind(session, user, spec)
    set_roles(session, user, spec.roles)
    session.flush()
    return user


def set_roles(session: Session, user: User, roles: frozenset[Role]) -> None:
    current = {link.role: link for link in user.role_links}
    wanted = {r.value for r in roles}
    for value, link in current.items():
        if value not in wanted:
            user.role_links.remove(link)
    for value in sorted(wanted - current.keys()):
        user.role_links.append(UserRole(role=value))
    session.flush()


def reset_password(session: Session, user: User, password: str) -> None:
    problem = security.password_problem(password)
    if problem:
        raise AccountError.one("password", *problem)
    user.password_hash = security.hash_password(password)
    user.session_version += 1  # sign out every existing session
    sessions.revoke_all(session, user.id, utcnow())
    session.flush()


def issue_token(
    session: Session,
    user: User,
    name: str,
    expires_at: datetime | None = None,
    *,
    roles: Iterable[str] = (),
    region_id: int | None = None,
    region_ids: Iterable[int] = (),
    customer_id: int | None = None,
    read_only: bool = False,
) -> tuple[ApiToken, str]:
    """A new API key for ``user`` (the secret is returned once). The scope narrows, never widens:
    roles must be the user's, and a region-bound or customer-bound user's key stays inside it.
    ``region_ids`` (or the one ``region_id``) narrow the key to those regions."""
    chosen = sorted({str(r).strip() for r in roles if str(r).strip()})
    unknown = [r for r in chosen if r not in {role.value for role in user.roles}]
    if unknown:
        raise AccountError.one(
            "roles",
            f"该用户没有这些角色：{'、'.join(unknown)}",
            f"The user does not hold: {', '.join(unknown)}.",
            value=",".join(unknown),
        )
    wanted = sorted({int(r) for r in region_ids} | ({region_id} if region_id is not None else set()))
    regions = [session.get(Region, r) for r in wanted]
    outside = [str(r) for r, found in zip(wanted, regions, strict=True) if found is None]
    outside += [str(r) for r in wanted if user.region_id not in (None, r)]
    if outside:
        raise AccountError.one(
            "region_ids",
            "该用户不能访问这些区域：" + "、".join(sorted(set(outside))),
            "The user cannot see these regions: " + ", ".join(sorted(set(outside))) + ".",
            value=",".join(sorted(set(outside))),
        )
    if customer_id is not None and (
        session.get(CustomerOrg, customer_id) is None or user.customer_id not in (None, customer_id)
    ):
        raise AccountError.one("customer_id", "该用户不能访问此客户", "The user cannot see this customer.")
    secret, digest, prefix = security.new_token_secret()
    token = ApiToken(
        user_id=user.id,
        name=name[:120] or "token",
        prefix=prefix,
        token_hash=digest,
        expires_at=expires_at,
        scope_roles=",".join(chosen),
        scope_regions=[r for r in regions if r is not None],
        scope_customer_id=customer_id,
        read_only=read_only,
    )
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(session: Session, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()


def token_for_secret(session: Session, secret: str, now: datetime) -> ApiToken | None:
    """The live token with this secret whose user is active, or None. Reads only."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == security.hash_token(secret)))
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.active:
        return None
    return token


def token_use_due(token: ApiToken, now: datetime) -> bool:
    """Stamp a token's last use at most once a minute, so API reads rarely write at all."""
    return token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60


def stamp_token_use(session: Session, token_id: int, now: datetime) -> None:
    token = session.get(ApiToken, token_id)
    if token is not None:
        token.last_used_at = now
        session.flush()
