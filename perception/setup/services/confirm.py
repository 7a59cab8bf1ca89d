"""Joint confirmation (共同确认) of service-standard versions: draft -> proposed -> confirmed.

Rules:
- Only a draft that passes the five-principle check (scoring.principles) can be proposed. One
  exception, never silent: a rule with no history to replay (``feasible_no_history``, e.g. a new
  service's standard agreed before its first ticket) may be proposed when the proposer explicitly
  accepts it (``accept_without_history``); the acceptance is an event of the trail and an audit
  entry, and the representatives see "feasibility unproven: no history" beside the standard.
- A proposed version is confirmed when the provider side AND the customer side have confirmed it;
  either side may reject it with a comment (the version becomes ``rejected``; editing it makes it a
  draft again).
- Provider side: a user holding Permission.CONFIRM_STANDARD_PROVIDER who is not a customer
  representative.
- Customer side: a user with Role.CUSTOMER_REP whose ``customer_id`` is one of the *bound
  customers*. A customer-specific standard binds its customer. A general standard (customer NULL)
  applies to every customer subscribed to the service (at its tier, when set), so it binds every one
  of them: each subscribed customer confirms it separately and it is in force only once all have.
  A representative of any other customer is refused. (Requiring one customer to speak for all
  would let one customer agree a standard for another; a customer with its own needs gets a
  customer-specific standard, which wins for that customer in ``applicable_standards``.)
- Confirming makes the version effective from max(requested date, confirmation date): dates in the
  past are never rewritten. The previous version in force gets ``effective_to`` = that date and
  status ``superseded``; until then it stays in force.
- Changing a confirmed version's content creates version n+1 as a draft (setup_standard_io).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.audit import record
from perception.core.authz import Permission, can
from perception.core.errors import Problem
from perception.core.models.auth import Role, User
from perception.core.models.base import utcnow
from perception.core.webhooks import emit
from perception.setup.models.catalog import Subscription
from perception.setup.models.standards import ServiceStandard, StandardEvent, StandardVersion, VersionStatus
from perception.setup.services.errors import NotAllowed, SetupError
from perception.setup.services.rep_mail import notify_representatives
from perception.setup.services.standards import History, check_version, measured_history

__all__ = [
    "ACCEPTED_WITHOUT_HISTORY",
    "STEPS",
    "accepted_without_history",
    "add_comment",
    "bound_customers",
    "confirm",
    "confirm_need",
    "confirmed_customers",
    "propose",
    "reject",
    "side_of",
    "take_step",
]

# The steps a person takes on a version, by the names the pages and the API use.
STEPS = ("propose", "confirm", "reject", "confirm_need", "comment")
#: The trail event recording that the proposer accepted a rule with no history to replay.
ACCEPTED_WITHOUT_HISTORY = "accepted_without_history"
#: The zh/en note shown beside such a standard to the people who confirm it.
UNPROVEN_NOTE = {
    "zh": "可行性未经证明：没有可回放的历史数据",
    "en": "Feasibility unproven: no history to replay the rule on",
}


def bound_customers(session: Session, standard: ServiceStandard) -> list[int]:
    """Customers whose representatives must confirm the standard (see the module docstring)."""
    if standard.customer_id is not None:
        return [standard.customer_id]
    stmt = select(Subscription.customer_id).where(Subscription.service_id == standard.service_id)
    if standard.tier_id is not None:
        stmt = stmt.where(Subscription.tier_id == standard.tier_id)
    return sorted(set(session.scalars(stmt)))


def _round_events(version: StandardVersion) -> list[StandardEvent]:
    """Events since the version was last proposed (earlier confirmations no longer count)."""
    events = list(version.events)
    starts = [i for i, e in enumerate(events) if e.action == "proposed"]
    return events[starts[-1] :] if starts else []


def accepted_without_history(version: StandardVersion) -> bool:
    """Whether the version's current proposal was accepted with no history to replay (its
    feasibility is unproven), as the confirming sides must be told."""
    return any(e.action == ACCEPTED_WITHOUT_HISTORY for e in _round_events(version))


def confirmed_customers(version: StandardVersion) -> set[int]:
    return {
        e.customer_id for e in _round_events(version) if e.action == "customer_confirmed" and e.customer_id
    }


def side_of(user: User) -> str | None:
    """'customer' for a customer representative, 'provider' for a provider confirmer, else None."""
    if user.has_role(Role.CUSTOMER_REP) and user.customer_id is not None:
        return "customer"
    if can(Permission.CONFIRM_STANDARD_PROVIDER, user):
        return "provider"
    return None


def _event(
    session: Session,
    version: StandardVersion,
    action: str,
    user: User | None,
    *,
    side: str | None = None,
    comment: str | None = None,
) -> None:
    customer_id = user.customer_id if user is not None and side == "customer" else None
    version.events.append(
        StandardEvent(
            action=action,
            side=side,
            user_id=None if user is None else user.id,
            customer_id=customer_id,
            comment=comment,
            at=utcnow(),
        )
    )


def _refuse(zh: str, en: str, field: str = "status") -> NotAllowed:
    return NotAllowed([Problem(field, zh, en, code="forbidden")])


def _customer_allowed(session: Session, version: StandardVersion, user: User) -> None:
    if user.customer_id not in bound_customers(session, version.standard):
        raise _refuse(
            "您所在的客户组织不受该标准约束，不能确认或拒绝它",
            "Your customer organisation is not bound by this standard, so you cannot confirm or reject it.",
            "customer",
        )


def _check_side(session: Session, version: StandardVersion, user: User) -> str:
    side = side_of(user)
    if side is None:
        raise _refuse("您没有确认服务标准的权限", "You may not confirm service standards.", "user")
    if side == "customer":
        _customer_allowed(session, version, user)
    return side


def propose(
    session: Session,
    version: StandardVersion,
    user: User,
    history: History | None = None,
    *,
    accept_without_history: bool = False,
    base_url: str | None = None,
) -> StandardVersion:
    """Draft -> proposed, only if the five-principle check passes (failing principles are the problems).
    A rule with no history to replay passes only with ``accept_without_history`` (the proposer's
    explicit acknowledgement, recorded in the trail and the audit log); without it the problem names
    that field. With ``base_url``, each bound customer's representatives get a mail that it waits for
    them, saying when its feasibility is unproven."""
    if version.status != VersionStatus.DRAFT:
        raise SetupError.one(
            "status",
            "只有草稿可以提交确认",
            "Only a draft can be proposed for confirmation.",
            code="invalid_state",
        )
    if history is None:
        history = measured_history(session, version)
    report = check_version(version, history)
    # A rule with no history to replay is never shown feasible, but a new service's standards are
    # agreed before its first ticket: the proposer may accept that explicitly, never silently. Any
    # history that refutes the rule blocks it.
    no_history = report.result("feasible").code == "feasible_no_history"
    problems = [
        Problem(f"principles.{r.principle}", r.reason_zh, r.reason_en, code=r.code)
        for r in report.results
        if not r.passed and r.code != "feasible_no_history"
    ]
    if no_history and not accept_without_history:
        feasible = report.result("feasible")
        problems.append(
            Problem(
                "accept_without_history",
                f"{feasible.reason_zh}。如仍要提交，请勾选“在没有历史数据的情况下提交”："
                "确认方将看到“可行性未经证明”",
                f'{feasible.reason_en} To propose it anyway, tick "Propose without history": '
                'the confirming sides will see "feasibility unproven".',
                code="feasible_no_history",
            )
        )
    if not bound_customers(session, version.standard):
        problems.append(
            Problem(
                "customer",
                "还没有客户订购该服务（等级），无人可代表客户确认",
                "No customer subscribes to this service (tier) yet, so nobody can confirm for the customer.",
                code="no_bound_customer",
            )
        )
    if problems:
        raise SetupError(problems)
    version.status = VersionStatus.PROPOSED
    version.proposed_at = utcnow()
    version.provider_confirmed_by_id = version.provider_confirmed_at = None
    version.customer_confirmed_by_id = version.customer_confirmed_at = None
    _event(session, version, "proposed", user, side="provider")
    if no_history:
        _event(session, version, ACCEPTED_WITHOUT_HISTORY, user, side="provider")
        record(
            session,
            "standard_proposed_without_history",
            object_type="StandardVersion",
            object_id=version.id,
            summary=f"{version.standard.code} v{version.version}: proposed without history to replay "
            "(feasibility unproven), accepted by the proposer",
        )
    session.flush()
    if base_url is not None:
        code = version.standard.code
        unproven_zh = f"\n{UNPROVEN_NOTE['zh']}。" if no_history else ""
        unproven_en = f"\n{UNPROVEN_NOTE['en']}." if no_history else ""
        notify_representatives(
            session,
            bound_customers(session, version.standard),
            subject={
                "zh": f"服务标准 {code} 等待贵单位确认",
                "en": f"Service standard {code} awaits your confirmation",
            },
            body={
                "zh": f"服务方已提交服务标准 {code}（第 {version.version} 版）：{version.statement_zh or ''}"
                f"{unproven_zh}",
                "en": f"The provider proposed service standard {code} (version {version.version}): "
                f"{version.statement_en or version.statement_zh or ''}{unproven_en}",
            },
            base_url=base_url,
        )
    return version


def confirm(
    session: Session,
    version: StandardVersion,
    user: User,
    comment: str | None = None,
    *,
    today: date,
) -> StandardVersion:
    """Record one side's confirmation; once both sides (every bound customer) confirmed, put it in
    force from ``today`` (the organisation's date) or the requested later date."""
    if version.status != VersionStatus.PROPOSED:
        raise SetupError.one(
            "status",
            "只有已提交的版本可以确认",
            "Only a proposed version can be confirmed.",
            code="invalid_state",
        )
    side = _check_side(session, version, user)
    now = utcnow()
    if side == "provider":
        if version.provider_confirmed_at is not None:
            raise SetupError.one(
                "status", "服务方已经确认过", "The provider side has already confirmed.", code="invalid_state"
            )
        version.provider_confirmed_by_id, version.provider_confirmed_at = user.id, now
        _event(session, version, "provider_confirmed", user, side=side, comment=comment)
    else:
        if user.customer_id in confirmed_customers(version):
            raise SetupError.one(
                "status", "贵方已经确认过", "Your organisation has already confirmed.", code="invalid_state"
            )
        version.customer_confirmed_by_id, version.customer_confirmed_at = user.id, now
        _event(session, version, "customer_confirmed", user, side=side, comment=comment)
        if version.need_confirmed_at is None:
            version.need_confirmed_by_id, version.need_confirmed_at = user.id, now
    session.flush()
    bound = set(bound_customers(session, version.standard))
    if version.provider_confirmed_at is not None and bound and bound <= confirmed_customers(version):
        _put_in_force(session, version, today)
    return version


def _put_in_force(session: Session, version: StandardVersion, today: date) -> None:
    start = max(version.requested_effective_from or today, today)
    for previous in version.standard.versions:
        if previous.id != version.id and previous.status == VersionStatus.CONFIRMED:
            previous.status = VersionStatus.SUPERSEDED
            previous.effective_to = max(previous.effective_from or start, start)
    version.status = VersionStatus.CONFIRMED
    version.effective_from = start
    version.effective_to = None
    session.flush()
    event = {"standard_id": version.standard_id, "version_id": version.id, "from": start.isoformat()}
    emit(session, "standard.confirmed", {**event, "code": version.standard.code})


def reject(session: Session, version: StandardVersion, user: User, comment: str) -> StandardVersion:
    """Either side rejects a proposed version; a comment saying why is required."""
    if version.status != VersionStatus.PROPOSED:
        raise SetupError.one(
            "status",
            "只有已提交的版本可以拒绝",
            "Only a proposed version can be rejected.",
            code="invalid_state",
        )
    side = _check_side(session, version, user)
    if not (comment or "").strip():
        raise SetupError.one(
            "comment", "拒绝时请说明原因", "Say why you reject it (a comment is required).", code="required"
        )
    version.status = VersionStatus.REJECTED
    _event(session, version, "rejected", user, side=side, comment=comment.strip())
    session.flush()
    return version


def confirm_need(
    session: Session, version: StandardVersion, user: User, comment: str | None = None
) -> StandardVersion:
    """A bound customer's representative confirms the customer need a draft answers (principle 'aligned')."""
    if not (user.has_role(Role.CUSTOMER_REP) and user.customer_id is not None):
        raise _refuse(
            "只有客户代表可以确认客户需求",
            "Only a customer representative can confirm the customer need.",
            "user",
        )
    _customer_allowed(session, version, user)
    if version.status not in (VersionStatus.DRAFT, VersionStatus.PROPOSED):
        raise SetupError.one(
            "status", "该版本已结束确认流程", "This version is no longer being agreed.", code="invalid_state"
        )
    if not (version.customer_need or "").strip():
        raise SetupError.one(
            "customer_need", "请先写明客户需求", "Write down the customer need first.", code="required"
        )
    version.need_confirmed_by_id, version.need_confirmed_at = user.id, utcnow()
    _event(session, version, "need_confirmed", user, side="customer", comment=comment)
    session.flush()
    return version


def add_comment(session: Session, version: StandardVersion, user: User, comment: str) -> None:
    if not comment.strip():
        raise SetupError.one("comment", "评论不能为空", "The comment is empty.", code="required")
    _event(session, version, "comment", user, side=side_of(user), comment=comment.strip())
    session.flush()


def take_step(
    session: Session,
    step: str,
    version: StandardVersion,
    user: User,
    comment: str,
    *,
    today: date,
    base_url: str | None = None,
    accept_without_history: bool = False,
) -> StandardVersion:
    """One of ``STEPS`` on ``version`` by ``user`` (an empty comment is no comment); ``today`` is
    the organisation's date a confirmation puts the version in force from; ``base_url`` makes the
    links of the mails a proposal sends to the customers' representatives; ``accept_without_history``:
    the proposer accepts a rule with no history to replay (see :func:`propose`)."""
    if step == "propose":
        return propose(
            session, version, user, accept_without_history=accept_without_history, base_url=base_url
        )
    if step == "confirm":
        return confirm(session, version, user, comment or None, today=today)
    if step == "reject":
        return reject(session, version, user, comment)
    if step == "confirm_need":
        return confirm_need(session, version, user, comment or None)
    if step == "comment":
        add_comment(session, version, user, comment)
        return version
    raise ValueError(f"unknown step {step!r}; one of {', '.join(STEPS)}")
