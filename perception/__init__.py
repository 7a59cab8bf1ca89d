"""Perception: a user-perception system (用户感知体系) for IT service providers.

``create_app`` is the application factory: defaults, then ``instance/config.py``, then
``PERCEPTION_*`` environment variables, then the test override.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from typing import Any

from flask import Flask

from perception import config as config_module

__version__ = "0.1.0"

PACKAGE_DIR = Path(__file__).resolve().parent

# One blueprint per phase plus the platform ones. A module listed here that does not exist yet
# is skipped, so phases can land independently.
BLUEPRINTS: tuple[str, ...] = (
    "perception.auth",
    "perception.main",
    "perception.admin",
    "perception.api",
    "perception.setup",
    "perception.surveys",
    "perception.public",
    "perception.collection",
    "perception.kpi",
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
    _register_blueprints(app)

    from perception import cli, errors, web

    errors.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from perception import database, i18n
    from perception.extensions import babel, csrf, db, migrate

    database.configure_engine_options(app)
    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    i18n.init_app(app)
    babel.init_app(app, locale_selector=i18n.selected_locale)


def _register_blueprints(app: Flask) -> None:
    for name in BLUEPRINTS:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        for bp in getattr(module, "blueprints", (module.bp,)):
            app.register_blueprint(bp)
