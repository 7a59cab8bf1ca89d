"""Helpers shared by the setup views: database-backed choices, form data to document entries, and
putting path-named problems on form fields in the user's language."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import flash
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from perception.core.authz import scoped
from perception.core.extensions import orm
from perception.core.i18n import is_zh, localized
from perception.core.models.auth import Role, User
from perception.core.models.org import CustomerOrg, Region
from perception.setup import labels
from perception.setup.models.catalog import Service, ServiceTier
from perception.setup.models.standards import ServiceStandard, Sla
from perception.setup.services.errors import Problems, SetupError
from perception.setup.views import bp

T = TypeVar("T")


NONE = SelectChoice("", "—")
_ROW = re.compile(r"^(\w+)\[(\d+)\]")


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"L": labels, "label": labels.label}


def code_choices(model: type, *, optional: bool = True, scope: bool = True) -> list[SelectChoice]:
    stmt: Any = select(model).order_by(model.code)  # type: ignore[attr-defined]
    if scope:
        stmt = scoped(stmt, model)
    rows = orm().scalars(stmt)
    named = [SelectChoice(r.code, f"{r.code} · {localized(r)}") for r in rows]
    return ([NONE] if optional else []) + named


def standard_choices() -> list[SelectChoice]:
    rows = orm().scalars(scoped(select(ServiceStandard).order_by(ServiceStandard.code), ServiceStandard))
    return [NONE] + [SelectChoice(s.code, s.code) for s in rows]


def sla_choices() -> list[SelectChoice]:
    rows = orm().scalars(scoped(select(Sla).where(Sla.kind == "sla").order_by(Sla.code), Sla))
    return [NONE] + [SelectChoice(s.code, f"{s.code} · {localized(s)}") for s in rows]


def user_choices(*roles: Role, key: str = "username") -> list[SelectChoice]:
    users = orm().scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    out = [NONE]
    for u in users:
        if roles and not u.has_role(*roles):
            continue
        if u.has_role(Role.CUSTOMER_REP) and not roles:
            continue
        out.append(SelectChoice(str(getattr(u, key)), f"{u.username} · {u.display_name}"))
    return out


def catalogue_choices(form: FlaskForm) -> None:
    """Fill the usual reference selects present on a form."""
    fills: dict[str, Callable[[], list[SelectChoice]]] = {
        "service": lambda: code_choices(Service),
        "tier": lambda: code_choices(ServiceTier),
        "customer": lambda: code_choices(CustomerOrg),
        "region": lambda: code_choices(Region),
        "owner": lambda: user_choices(),
        "user": lambda: user_choices(),
        "experience_standard": standard_choices,
        "supports": sla_choices,
        "regions": lambda: code_choices(Region, optional=False),
        "services": lambda: code_choices(Service, optional=False),
    }
    for name, fill in fills.items():
        if name in form._fields:
            form[name].choices = fill()


def form_data(form: FlaskForm, names: Iterable[str] | None = None) -> dict[str, Any]:
    names = names if names is not None else [n for n in form._fields if n != "csrf_token"]
    return {n: form[n].data for n in names}


def read(reader: Callable[..., T], data: Any, **kw: Any) -> T:
    """Run a setup_schema reader on one entry; raises SetupError with every problem."""
    problems = Problems()
    result = reader(data, "", problems, **kw)
    problems.raise_if_any()
    return result


def show_problems(form: FlaskForm, error: SetupError) -> None:
    """Each problem goes on the field its path names (a list row's field for ``holidays[2].date``
    with the line number), otherwise it is flashed."""
    zh = is_zh()
    for problem in error.problems:
        text = problem.text(zh)
        path = problem.field or ""
        match = _ROW.match(path)
        name = problem.form_field
        if match and match.group(1) in form._fields:
            name = match.group(1)
            text = _("Line %(n)s: %(text)s", n=int(match.group(2)) + 1, text=text)
        if name in form._fields and name != "csrf_token":
            form[name].errors = [*form[name].errors, text]
        else:
            flash(f"{path}: {text}" if path not in ("", "$") else text, "error")
