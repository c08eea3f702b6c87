"""Logging in and out, who the current operator is, and role checks for views.

A desk session carries its user's session version from the login; the user loader refuses a
session whose version is no longer the user's (desk.services.users.end_sessions), so that a
copied cookie stops working after logout, a password, role or activity change."""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Callable
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, jsonify, make_response, redirect, render_template, request,
                   session, url_for)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from desk.models import Role, User
from desk.services import users
from desk.services.rate_limit import Limit
from desk.services.users import LoginOutcome
from desk.web.extensions import current_settings, db_session, limiter_of

blueprint = Blueprint("auth", __name__)
login_manager = LoginManager()

SESSION_VERSION_KEY = "session_version"
# One answer for a wrong password, an unknown login, a locked or a deactivated account: the page
# must not tell which e-mail addresses have an account.
LOGIN_REFUSED = ("Email o password non corrette. Dopo diversi tentativi sbagliati l'accesso resta sospeso "
                 "per qualche minuto: riprova più tardi o chiedi a un amministratore.")
TOO_MANY_ATTEMPTS = "Troppi tentativi di accesso da questo indirizzo: riprova tra un minuto."


@dataclass(frozen=True)
class DeskUser:
    """The logged-in operator as views see it: a snapshot, detached from any session."""

    id: int
    email: str
    display_name: str
    role: Role

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    def can(self, role: Role) -> bool:
        return self.role.includes(role)

    @classmethod
    def of(cls, user: User) -> "DeskUser":
        return cls(id=user.id, email=user.email, display_name=user.display_name, role=user.current_role)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=200)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=400)])


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Accedi per continuare."
    login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str):
    if not user_id.isdigit():
        return None
    with db_session() as db:
        user = users.get(db, int(user_id))
        if user is None or not user.active or session.get(SESSION_VERSION_KEY) != user.session_version:
            return None
        return DeskUser.of(user)


@login_manager.unauthorized_handler
def unauthorized():
    if wants_json():
        return jsonify(error="login required"), 401
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def wants_json() -> bool:
    if request.headers.get("HX-Request"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith("/api/") or (best == "application/json" and not request.accept_mimetypes.accept_html)


def role_required(role: Role) -> Callable:
    """The view needs a logged-in user with at least this role (admin > supervisor > operator)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)

        wrapper.least_role = role  # read by the route-access tests
        return wrapper

    return decorator


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "POST":
        decision = limiter_of(current_app).hit(
            "login", request.remote_addr or "unknown", Limit(current_settings().login_attempts_per_minute, 60))
        if not decision.allowed:
            return _too_many_attempts(form, decision.retry_after_seconds)
    if form.validate_on_submit():
        if _log_in(form.email.data, form.password.data):
            return redirect(_safe_next(request.args.get("next")))
        flash(LOGIN_REFUSED, "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


def _too_many_attempts(form: LoginForm, retry_after: int):
    flash(TOO_MANY_ATTEMPTS, "error")
    response = make_response(render_template("auth/login.html", form=form), 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _log_in(email: str, password: str) -> bool:
    """Check the password (a failure is counted, committed with the unit of work) and start a
    fresh session that remembers the user's session version."""
    with db_session() as db:
        result = users.authenticate(db, email, password)
        if result.outcome is not LoginOutcome.OK:
            return False
        desk_user, version = DeskUser.of(result.user), result.user.session_version
    session.clear()  # a fresh session at login: no fixation
    session.permanent = True
    session[SESSION_VERSION_KEY] = version
    login_user(desk_user)
    return True


@blueprint.post("/logout")
@login_required
def logout():
    with db_session() as db:
        users.end_sessions(db, current_user.id)
    logout_user()
    session.clear()
    flash("Sei uscito dal desk.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target) -> str:
    """Only local paths: a crafted ?next= must not send the operator to another site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("home.index")
