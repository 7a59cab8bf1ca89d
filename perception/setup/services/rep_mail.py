"""Telling a customer's representatives that something waits for them (issue 17): a standard to
confirm, a review to countersign. One mail per representative with an address, in their language
(Chinese unless they chose English), linking to their portal; sent after the transaction that
made the thing wait has committed, so a refused step mails nobody."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.models.auth import Role, User, UserRole
from perception.core.transaction import after_commit

PORTAL_PATH = "/portal"


def representatives(session: Session, customer_ids: Iterable[int]) -> list[User]:
    """Active representatives of these customers who have an email address."""
    ids = sorted(set(customer_ids))
    if not ids:
        return []
    stmt = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            UserRole.role == Role.CUSTOMER_REP,
            User.customer_id.in_(ids),
            User.active.is_(True),
            User.email.is_not(None),
        )
        .order_by(User.id)
    )
    return list(session.scalars(stmt).unique())


def notify_representatives(
    session: Session,
    customer_ids: Iterable[int],
    *,
    subject: dict[str, str],
    body: dict[str, str],
    base_url: str,
) -> list[str]:
    """Queue the mail to every representative of the customers; returns the addresses."""
    from perception.core.mail import send_email

    link = f"{base_url.rstrip('/')}{PORTAL_PATH}"
    sent: list[str] = []
    for user in representatives(session, customer_ids):
        lang = "en" if (user.language or "").startswith("en") else "zh"
        closing = "请在客户门户中查看：" if lang == "zh" else "Open your customer portal: "
        text = f"{body[lang]}\n\n{closing}{link}\n"
        after_commit(partial(send_email, str(user.email), subject[lang], text))
        sent.append(str(user.email))
    return sent
