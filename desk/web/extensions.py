"""What the desk's blueprints and the widget gateway share with the app factory: the CSRF
extension, the request's database session, the app's settings and rate limiter.

This module imports neither the factory (desk.web) nor bot/, so that any of them can
import it without an import circle."""
from __future__ import annotations

from flask import Flask, current_app
from flask_wtf.csrf import CSRFProtect

from desk.config import Settings
from desk.db import Database
from desk.services.rate_limit import RateLimiter

csrf = CSRFProtect()

DATABASE_KEY = "dialoga.db"
SETTINGS_KEY = "DIALOGA_SETTINGS"
LIMITER_KEY = "dialoga.limiter"


def database_of(app: Flask) -> Database:
    return app.extensions[DATABASE_KEY]


def settings_of(app: Flask) -> Settings:
    return app.config[SETTINGS_KEY]


def current_settings() -> Settings:
    return settings_of(current_app)


def db_session():
    """A unit of work on the desk's database for the current request (commits on success)."""
    return database_of(current_app).session()


def limiter_of(app: Flask) -> RateLimiter:
    """The desk's own rate limits (login attempts per client address)."""
    return app.extensions[LIMITER_KEY]
