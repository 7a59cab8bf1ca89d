from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from perception.core import audit, security, throttle
from perception.core.extensions import orm
from perception.core.i18n import normalise_language
from perception.core.models.auth import User
from perception.core.models.base import utcnow
from perception.core.transaction import write_afterwards
from perception.web.auth import bp, devices
from perception.web.auth.forms import LanguageForm, LoginForm
from perception.web.request_hooks import end_session, login_user


def safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else goes home (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if g.user is not None:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        username = form.username.data.strip()
        address = request.remote_addr or "unknown"
        window = current_app.config["LOGIN_FAILURE_WINDOW"]
        now = utcnow()
        # Reserve a hit on each counter before the password is checked: one atomic statement
        # each, so simultaneous attempts on any node never check more than the limit allows.
        limits = devices.limits_for(username, address)
        if any(throttle.hit(orm(), lim.key, now, window) > lim.limit for lim in limits):
            # The answer is 429, so the request rolls back (with its hits, which are over the
            # limit anyway): the audit row is written afterwards.
            write_afterwards(
                lambda session: audit.record(
                    session, "login_throttled", summary=username, actor_name=username
                )
            )
            flash(_("Too many failed sign-in attempts. Please wait 15 minutes and try again."), "error")
            return render_template("auth/login.html", form=form), 429
        user = orm().scalar(select(User).where(User.username == username))
        ok = user is not None and user.active and security.verify_password(user, form.password.data)
        if user is None:
            security.burn_time()
        if not ok or user is None:
            audit.record(orm(), "login_failed", summary=username, actor_name=username)
            flash(_("Unknown username or wrong password."), "error")
            return render_template("auth/login.html", form=form), 200
        for lim in limits:  # a success is not a failure: give the reserved hits back
            throttle.release(orm(), lim.key)
        user.last_login_at = now
        login_user(user)
        g.user = user
        audit.record(orm(), "login", object_type="User", object_id=user.id)
        response = redirect(safe_next(form.next.data))
        devices.remember_device(response, username)
        return response
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> Any:
    form = LanguageForm()  # any FlaskForm validates the CSRF token
    form.validate_on_submit()
    if g.user is not None:
        audit.record(orm(), "logout", object_type="User", object_id=g.user.id)
    end_session()
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language() -> Any:
    form = LanguageForm()
    if form.validate_on_submit():
        lang = normalise_language(form.lang.data)
        if lang:
            session["lang"] = lang
            session.permanent = True
            if g.user is not None:
                g.user.language = lang
    return redirect(safe_next(form.next.data or request.referrer and urlsplit(request.referrer).path))
