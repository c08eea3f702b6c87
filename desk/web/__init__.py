"""The desk's web application (operators' desk, widget gateway, health)."""
from __future__ import annotations

from typing import Optional

from flask import Flask

from desk.config import Settings
from desk.db import Database


def create_app(settings: Optional[Settings] = None, database: Optional[Database] = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, DIALOGA_SETTINGS=settings)
    app.extensions["dialoga.db"] = database or Database.from_settings(settings)

    from desk.web import health, public

    app.register_blueprint(health.blueprint)
    app.register_blueprint(public.blueprint)
    return app


def database_of(app: Flask) -> Database:
    return app.extensions["dialoga.db"]
