"""Small helpers shared by the review views, API and CLI."""

from __future__ import annotations

from typing import cast

from sqlalchemy.orm import Session

from perception.extensions import db


def session() -> Session:
    """The request's session, typed as the services expect it (read at call time: tests swap it)."""
    return cast(Session, db.session)
