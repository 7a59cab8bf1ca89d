"""Flask extensions, created once and attached in the factory with init_app."""

from __future__ import annotations

from typing import Any, cast

from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from perception.core.models.base import Base


class RequestSession(FlaskSession):
    """``db.session``'s class: in a request that runs on a Core ``connection()``
    (``perception.core.transaction``), the Session works on that connection, in its transaction
    (joined: the request's hooks commit or roll it back), never on a second one."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any) -> Any:
        if bind is None:
            from perception.core.transaction import held_connection

            held = held_connection()
            if held is not None:
                return held
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLAlchemy(model_class=Base, session_options={"class_": RequestSession})
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
