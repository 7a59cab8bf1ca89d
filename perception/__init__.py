"""Perception: a user-perception system (用户感知体系) for IT service providers.

``create_app`` is the application factory: defaults, then ``instance/config.py``, then
``PERCEPTION_*`` environment variables, then the test override.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from perception import config as config_module
from perception.core.phase import Phase, load_phase

__version__ = "0.1.0"

PACKAGE_DIR = Path(__file__).resolve().parent

# The phases, in dependency order: a phase imports only those before it. Each is required: a
# missing or broken package stops start-up with its name (perception.core.phase.PhaseMissing).
PHASES: tuple[str, ...] = (
    "perception.setup",
    "perception.kpi",
    "perception.surveys",
    "perception.collection",
    "perception.analysis",
    "perception.review",
)


def template_folder() -> str:
    """Top-level templates/ in a checkout; perception/templates/ inside an installed wheel."""
    packaged = PACKAGE_DIR / "templates"
    if packaged.is_dir():
        return str(packaged)
    return str(PACKAGE_DIR.parent / "templates")


def instance_folder() -> str:
    return os.environ.get("PERCEPTION_INSTANCE_PATH") or str(Path.cwd() / "instance")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=instance_folder(),
        instance_relative_config=True,
        template_folder=template_folder(),
        static_folder="static",
    )
    app.config.from_object(config_module.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(config_module.env_overrides())
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    config_module.check_production_safety(app.config, app.debug)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(
            Path(app.instance_path) / "perception.sqlite"
        )
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = not (
            app.debug or app.testing or app.config["ENV_NAME"] != "production"
        )

    _init_extensions(app)
    _register_blueprints(app, [load_phase(name) for name in PHASES])

    from perception import cli
    from perception.web import errors, request_hooks

    errors.init_app(app)
    request_hooks.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from perception.core import db as database
    from perception.core import i18n, transaction
    from perception.core.extensions import babel, csrf, db, migrate

    database.configure_engine_options(app)
    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    transaction.init_app(app)
    i18n.init_app(app)
    babel.init_app(app, locale_selector=i18n.selected_locale)


def _register_blueprints(app: Flask, phases: list[Phase]) -> None:
    from perception import api
    from perception.core import jobs
    from perception.core.models import base as _core_models  # noqa: F401  (the shared tables)
    from perception.web.admin import bp as admin_bp
    from perception.web.auth import bp as auth_bp
    from perception.web.main import bp as main_bp

    for bp in (auth_bp, main_bp, admin_bp):
        app.register_blueprint(bp)
    for phase in phases:
        for bp in phase.blueprints:
            app.register_blueprint(bp)
    # Last: every phase's API module has added its endpoints to the api blueprint by now.
    for bp in api.blueprints:
        app.register_blueprint(bp)
    app.extensions["perception.phases"] = tuple(phases)
    app.extensions["perception.periodic"] = jobs.PLATFORM_PERIODIC + tuple(
        item for phase in phases for item in phase.periodic
    )
