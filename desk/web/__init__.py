"""The desk's web application: operators' desk, widget gateway, health."""
from __future__ import annotations

from datetime import timedelta
from typing import Optional

from flask import Flask, current_app
from flask_wtf.csrf import CSRFProtect

from desk.config import Settings
from desk.db import Database

csrf = CSRFProtect()


def create_app(settings: Optional[Settings] = None, database: Optional[Database] = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        DIALOGA_SETTINGS=settings,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_minutes),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.extensions["dialoga.db"] = database or Database.from_settings(settings)
    csrf.init_app(app)

    from bot.widget import gateway as widget  # the widget's endpoints: a way in, served by the desk
    from desk.web import (admin, auth, canned, directory, errors, follow_up, health, home, knowledge, learning,
                          models, navigation, operations, privacy, public, queue, reports, telegram_webhook,
                          tickets)

    operations.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    for module in (health, operations, public, auth, home, knowledge, directory, admin, reports, learning, telegram_webhook,
                   queue, tickets, canned, models, privacy, widget, follow_up):
        app.register_blueprint(module.blueprint)
    return app


def database_of(app: Flask) -> Database:
    return app.extensions["dialoga.db"]


def settings_of(app: Flask) -> Settings:
    return app.config["DIALOGA_SETTINGS"]


def db_session():
    """A unit of work on the desk's database for the current request (commits on success)."""
    return database_of(current_app).session()
