"""The request's database session, typed as a plain SQLAlchemy Session for the services.

``db.session`` is a scoped-session proxy (and tests swap it), so it is looked up on each call.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy.orm import Session

from perception.extensions import db


def orm() -> Session:
    return cast(Session, db.session)
