"""The desk's web application: operators' desk, widget gateway, health."""
from __future__ import annotations

from datetime import timedelta
from typing import Optional

from flask import Flask
from werkzeug.routing import IntegerConverter

from desk import log_redaction
from desk.config import Settings
from desk.db import Database
from desk.services.rate_limit import limiter_for
from desk.startup_checks import require_safe_secret
from desk.web.extensions import DATABASE_KEY, LIMITER_KEY, SETTINGS_KEY, csrf


MAX_DATABASE_ID = 2**31 - 1


def database_id(url_map, *args, **kwargs) -> IntegerConverter:
    """`<int:...>` in the desk's routes: a row id, at most the largest 32-bit integer
    (werkzeug's own converter, with a maximum)."""
    kwargs.setdefault("max", MAX_DATABASE_ID)
    return IntegerConverter(url_map, *args, **kwargs)


def create_app(settings: Optional[Settings] = None, database: Optional[Database] = None) -> Flask:
    settings = settings or Settings.from_env()
    require_safe_secret(settings, "desk")
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_minutes),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=settings.max_request_bytes,  # larger bodies get 413 before anything parses them
    )
    log_redaction.install(settings)  # no secret in the desk's logs (gunicorn's handlers included)
    # Ids in URLs fit the database's integer columns: /directory/99999999999999999999 is a 404, not a 500.
    app.url_map.converters["int"] = database_id
    app.config[SETTINGS_KEY] = settings
    app.extensions[DATABASE_KEY] = database or Database.from_settings(settings)
    app.extensions[LIMITER_KEY] = limiter_for(settings.redis_url)
    csrf.init_app(app)

    from bot.widget import gateway as widget  # the widget's endpoints: a way in, served by the desk
    from desk.web import (admin, auth, canned, check_parameters, directory, errors, follow_up, health, home,
                          knowledge, learning, models, navigation, operations, privacy, public, queue, reports,
                          security, telegram_webhook, tickets)

    security.init_app(app, settings)
    operations.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    for module in (health, operations, public, auth, home, knowledge, directory, admin, reports, learning,
                   telegram_webhook, queue, tickets, canned, check_parameters, models, privacy, widget, follow_up):
        app.register_blueprint(module.blueprint)
    return app
