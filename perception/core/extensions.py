"""Flask extensions, created once and attached in the factory with init_app."""

from __future__ import annotations

from typing import cast

from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from perception.core.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()


def orm() -> Session:
    """``db.session`` typed as the plain SQLAlchemy Session that the services take.

    ``db.session`` is a ``scoped_session`` proxy that forwards every call to the current
    request's (or app context's) Session, so it can be handed to the services as is; this
    only tells the type checker so. It is looked up on each call because tests swap it.
    """
    return cast(Session, db.session)
