"""Writing service standards: create/edit (a change to a confirmed version makes a new draft
version), restore from an imported document (with states and confirmations), and export.

Editing rules (``edit_content``): the latest version is edited in place while it is a draft or
rejected (a rejected one becomes a draft again); a proposed version that changes goes back to
draft and its confirmations no longer count; a confirmed version is never changed: the change
becomes version n+1 (draft) and version n stays in force until n+1 is confirmed. The customer's
confirmation of the need carries over while the need text is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.models.auth import User
from perception.core.models.org import CustomerOrg
from perception.setup.models.catalog import Service, ServiceTier
from perception.setup.models.standards import (
    IN_FORCE_STATUSES,
    ServiceStandard,
    StandardEvent,
    StandardVersion,
    VersionStatus,
)
from perception.setup.services.defs import CONTENT_FIELDS, StandardDef, VersionDef
from perception.setup.services.errors import Problems
from perception.setup.services.reader import join
from perception.setup.services.refs import Refs, assign, codes_of, looked_up, usernames_of

_LOCKED = (VersionStatus.PROPOSED, VersionStatus.CONFIRMED, VersionStatus.SUPERSEDED)
_EDITABLE = CONTENT_FIELDS + ("requested_effective_from",)


def _content(v: VersionDef | StandardVersion) -> dict[str, Any]:
    return {f: getattr(v, f) for f in _EDITABLE}


def _identity(
    session: Session, d: StandardDef, path: str, p: Problems, user: User | None
) -> ServiceStandard | None:
    refs = Refs(session, p)
    service = refs.by_code(Service, d.service, join(path, "service"))
    tier_id = refs.id_of(ServiceTier, d.tier, join(path, "tier"))
    customer_id = refs.id_of(CustomerOrg, d.customer, join(path, "customer"))
    experience = refs.optional(ServiceStandard, d.experience_standard, join(path, "experience_standard"))
    if experience is not None and experience.code == d.code:
        p.add(
            join(path, "experience_standard"),
            "不能关联自身",
            "A standard cannot be its own experience target.",
        )
        experience = None
    if service is None or (d.tier and tier_id is None) or (d.customer and customer_id is None):
        return None
    standard = session.scalar(select(ServiceStandard).where(ServiceStandard.code == d.code))
    if standard is None:
        standard = ServiceStandard(
            code=d.code, service_id=service.id, tier_id=tier_id, customer_id=customer_id
        )
        session.add(standard)
    elif (standard.service_id, standard.tier_id, standard.customer_id) != (service.id, tier_id, customer_id):
        if any(v.status in _LOCKED for v in standard.versions):
            p.add(
                join(path, "service"),
                "标准已提交或确认，不能再更改其服务、等级或客户；请新建一个标准",
                "The standard has been proposed or confirmed: its service, tier and customer can no longer "
                "change; create a new standard instead.",
            )
            return None
        assign(standard, service_id=service.id, tier_id=tier_id, customer_id=customer_id)
    assign(
        standard,
        category=d.category,
        experience_standard_id=None if experience is None else experience.id,
        active=d.active,
    )
    session.flush()
    return standard


def save_standard(
    session: Session, d: StandardDef, user: User | None, path: str = "", problems: Problems | None = None
) -> ServiceStandard | None:
    """Create or edit a standard; its last VersionDef is the new content (see edit_content)."""
    p = problems if problems is not None else Problems()
    standard = _identity(session, d, path, p, user)
    if problems is None:
        p.raise_if_any()
    if standard is None:
        return None
    edit_content(session, standard, d.versions[-1], user)
    return standard


def edit_content(
    session: Session, standard: ServiceStandard, v: VersionDef, user: User | None
) -> StandardVersion:
    """Apply new content to a standard following the editing rules in the module docstring."""
    latest = standard.versions[-1] if standard.versions else None
    content = _content(v)
    if latest is not None and _content(latest) == content:
        return latest
    if latest is None or latest.status in (VersionStatus.CONFIRMED, VersionStatus.SUPERSEDED):
        version = StandardVersion(
            version=(latest.version + 1) if latest else 1, created_by_id=user and user.id
        )
        standard.versions.append(version)
        previous = latest
    else:
        version, previous = latest, None
        if latest.status in (VersionStatus.PROPOSED, VersionStatus.REJECTED):
            version.events.append(
                StandardEvent(action="reopened", user_id=user and user.id, side="provider", comment=None)
            )
        version.status = VersionStatus.DRAFT
        version.provider_confirmed_by_id = version.provider_confirmed_at = None
        version.customer_confirmed_by_id = version.customer_confirmed_at = None
        version.proposed_at = None
    if previous is not None:
        same_need = v.customer_need == previous.customer_need
        version.need_confirmed_by_id = previous.need_confirmed_by_id if same_need else None
        version.need_confirmed_at = previous.need_confirmed_at if same_need else None
    elif v.customer_need != version.customer_need:
        version.need_confirmed_by_id, version.need_confirmed_at = None, None
    assign(version, **content)
    session.flush()
    return version


def restore_standard(
    session: Session, d: StandardDef, path: str, problems: Problems, user: User | None = None
) -> ServiceStandard | None:
    """Import: versions are matched by number; a confirmed version's content must not differ
    (that would rewrite an agreement); new versions arrive with their status and confirmations.
    Versions missing from the document are kept (import never deletes)."""
    standard = _identity(session, d, path, problems, user)
    if standard is None:
        return None
    refs = Refs(session, problems)
    existing = {v.version: v for v in standard.versions}
    if sum(1 for v in d.versions if v.status == VersionStatus.CONFIRMED) > 1:
        problems.add(
            join(path, "versions"),
            "最多一个版本处于已确认（现行）状态",
            "At most one version can be confirmed (current).",
        )
    for i, vd in enumerate(d.versions):
        vpath = join(join(path, "versions"), i)
        version = existing.get(vd.version or 0)
        in_force = vd.status in IN_FORCE_STATUSES
        if in_force and (
            vd.effective_from is None or not vd.provider_confirmed_by or not vd.customer_confirmed_by
        ):
            problems.add(
                join(vpath, "status"),
                "已确认的版本需要生效日期以及服务方和客户方的确认人",
                "A confirmed version needs effective_from and both provider_confirmed_by and "
                "customer_confirmed_by.",
            )
            continue
        if version is not None and version.status in IN_FORCE_STATUSES and _content(version) != _content(vd):
            problems.add(
                vpath,
                f"第 {vd.version} 版已确认，内容不能更改；请以新版本号提交更改",
                f"Version {vd.version} is confirmed and its content cannot change: "
                "add the change as a new version.",
            )
            continue
        state = {
            "status": vd.status,
            "effective_from": vd.effective_from,
            "effective_to": vd.effective_to,
            "need_confirmed_by_id": refs.user_id(vd.need_confirmed_by, join(vpath, "need_confirmed_by")),
            "need_confirmed_at": vd.need_confirmed_at,
            "provider_confirmed_by_id": refs.user_id(
                vd.provider_confirmed_by, join(vpath, "provider_confirmed_by")
            ),
            "provider_confirmed_at": vd.provider_confirmed_at,
            "customer_confirmed_by_id": refs.user_id(
                vd.customer_confirmed_by, join(vpath, "customer_confirmed_by")
            ),
            "customer_confirmed_at": vd.customer_confirmed_at,
        }
        if in_force and (version is None or version.status not in IN_FORCE_STATUSES):
            # An import may record an agreement that happened, never make one: each bound
            # customer must have confirmed, as in perception.setup.services.confirm (issue 18).
            _check_confirmers(session, standard, vd, vpath, refs, problems, version)
        if version is None:
            version = StandardVersion(version=vd.version, **_content(vd), **state)
            standard.versions.append(version)
            for j, e in enumerate(vd.events):
                epath = join(join(vpath, "events"), j)
                with session.no_autoflush:
                    user_id = refs.user_id(e.user, join(epath, "user"))
                    customer_id = refs.id_of(CustomerOrg, e.customer, join(epath, "customer"))
                version.events.append(
                    StandardEvent(
                        action=e.action,
                        side=e.side,
                        user_id=user_id,
                        customer_id=customer_id,
                        comment=e.comment,
                        **({"at": e.at} if e.at else {}),
                    )
                )
        assign(version, **_content(vd), **state)
    session.flush()
    return standard


def _check_confirmers(
    session: Session,
    standard: ServiceStandard,
    vd: VersionDef,
    vpath: str,
    refs: Refs,
    problems: Problems,
    existing: StandardVersion | None = None,
) -> None:
    """An imported confirmed version must name real confirmers of the right sides: a provider
    confirmer and a representative of a customer bound by the standard; and every customer the
    standard binds must have confirmed it (a ``customer_confirmed`` event naming that customer, in
    the document or already stored)."""
    from perception.setup.services.confirm import bound_customers, confirmed_customers, side_of

    provider = refs.user(vd.provider_confirmed_by, join(vpath, "provider_confirmed_by"))
    if provider is not None and side_of(provider) != "provider":
        problems.add(
            join(vpath, "provider_confirmed_by"),
            f"用户“{provider.username}”不能代表服务方确认标准",
            f"User '{provider.username}' cannot confirm standards for the provider.",
        )
    customer = refs.user(vd.customer_confirmed_by, join(vpath, "customer_confirmed_by"))
    if customer is not None and (
        side_of(customer) != "customer" or customer.customer_id not in bound_customers(session, standard)
    ):
        problems.add(
            join(vpath, "customer_confirmed_by"),
            f"用户“{customer.username}”不是受该标准约束的客户的代表",
            f"User '{customer.username}' does not represent a customer bound by this standard.",
        )
        return
    bound = set(bound_customers(session, standard))
    confirmed = confirmed_customers(existing) if existing is not None else set()
    for event in vd.events if existing is None else ():  # a stored version's trail is not re-imported
        if event.action == "customer_confirmed" and event.customer:
            with session.no_autoflush:
                confirmed.add(refs.id_of(CustomerOrg, event.customer, join(vpath, "events")) or 0)
    if customer is not None and customer.customer_id is not None:
        confirmed.add(customer.customer_id)
    missing = bound - confirmed
    if missing:
        names = codes_of(session, CustomerOrg, sorted(missing))
        listed = ", ".join(sorted(str(looked_up(names, m)) for m in missing))
        problems.add(
            join(vpath, "status"),
            f"该标准约束 {len(bound)} 个客户，其中 {len(missing)} 个尚未确认（{listed}）："
            "请以“已提交”状态导入，由各客户代表确认后生效",
            f"This standard binds {len(bound)} customers and {len(missing)} have not confirmed it "
            f"({listed}): import it as proposed and let each customer's representative confirm it.",
        )


def export_standard(session: Session, s: ServiceStandard) -> dict[str, Any]:
    """The document entry of a standard with every version and its confirmation trail."""
    return export_standards(session, [s])[0]


def export_standards(session: Session, standards: Sequence[ServiceStandard]) -> list[dict[str, Any]]:
    """``export_standard`` of each standard, with the codes and usernames they refer to looked up
    once for all of them."""
    versions = [v for s in standards for v in s.versions]
    events = [e for v in versions for e in v.events]
    names = usernames_of(
        session,
        [
            *(i for v in versions for i in (v.need_confirmed_by_id, v.provider_confirmed_by_id)),
            *(v.customer_confirmed_by_id for v in versions),
            *(e.user_id for e in events),
        ],
    )
    customers = codes_of(
        session, CustomerOrg, [*(s.customer_id for s in standards), *(e.customer_id for e in events)]
    )
    services = codes_of(session, Service, (s.service_id for s in standards))
    tiers = codes_of(session, ServiceTier, (s.tier_id for s in standards))
    targets = codes_of(session, ServiceStandard, (s.experience_standard_id for s in standards))

    def version_json(v: StandardVersion) -> dict[str, Any]:
        out: dict[str, Any] = {"version": v.version, "status": v.status}
        out.update({f: _plain(getattr(v, f)) for f in _EDITABLE})
        out.update(
            effective_from=_plain(v.effective_from),
            effective_to=_plain(v.effective_to),
            need_confirmed_by=looked_up(names, v.need_confirmed_by_id),
            need_confirmed_at=_plain(v.need_confirmed_at),
            provider_confirmed_by=looked_up(names, v.provider_confirmed_by_id),
            provider_confirmed_at=_plain(v.provider_confirmed_at),
            customer_confirmed_by=looked_up(names, v.customer_confirmed_by_id),
            customer_confirmed_at=_plain(v.customer_confirmed_at),
            events=[
                {
                    "action": e.action,
                    "side": e.side,
                    "user": looked_up(names, e.user_id),
                    "customer": looked_up(customers, e.customer_id),
                    "comment": e.comment,
                    "at": _plain(e.at),
                }
                for e in v.events
            ],
        )
        return out

    return [
        {
            "code": s.code,
            "service": looked_up(services, s.service_id),
            "tier": looked_up(tiers, s.tier_id),
            "customer": looked_up(customers, s.customer_id),
            "category": s.category,
            "experience_standard": looked_up(targets, s.experience_standard_id),
            "active": s.active,
            "versions": [version_json(v) for v in s.versions],
        }
        for s in standards
    ]


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
