"""The desk's web app on a real database, and desk users of each role."""
from __future__ import annotations

import re
import secrets
from typing import Optional

from flask import Flask

from desk.config import Settings
from desk.db import Database
from desk.models import Role
from desk.services import users
from desk.web import create_app

PASSWORD = "una-password-lunga"
# The desk refuses its development key outside development: tests run it as in production.
TEST_SECRET_KEY = secrets.token_urlsafe(48)


def desk_settings(database_url: str, **settings) -> Settings:
    settings.setdefault("secret_key", TEST_SECRET_KEY)
    return Settings(database_url=database_url, **settings)


def desk_app_for(database: Database, **settings) -> Flask:
    app = create_app(desk_settings(database.url, **settings), database=database)
    app.testing = True
    return app


def make_user(database: Database, role: Role, email: Optional[str] = None, name: Optional[str] = None) -> str:
    email = email or f"{role.value}@sportello.example"
    with database.session() as session:
        if users.find_by_email(session, email) is None:
            users.create_user(session, email, name or role.value.title(), PASSWORD, role)
    return email


def csrf_token_of(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert match, "the page carries no CSRF token"
    return match.group(1)


def log_in(client, email: str, password: str = PASSWORD):
    page = client.get("/login")
    token = csrf_token_of(page.get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def post_form(client, url: str, data: Optional[dict] = None, page: str = "/", **kwargs):
    """POST as the browser would: with the session's CSRF token, read from a desk page."""
    token = csrf_token_of(client.get(page).get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)
