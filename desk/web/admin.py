"""Desk accounts, for administrators: create, change role, deactivate/reactivate,
reset the password. The last active administrator cannot be demoted or deactivated."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from desk.models import Role
from desk.models.base import utcnow
from desk.services import users
from desk.services.users import MIN_PASSWORD_LENGTH, DuplicateLogin, InvalidLogin, LastAdmin, WeakPassword
from desk.web.auth import role_required
from desk.web.extensions import db_session

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_LABELS = {Role.OPERATOR.value: "operatore", Role.SUPERVISOR.value: "supervisore", Role.ADMIN.value: "amministratore"}
LAST_ADMIN_MESSAGE = "Il desk deve avere almeno un amministratore attivo: nomina prima un altro amministratore."
WEAK_PASSWORD_MESSAGE = f"La password deve avere almeno {MIN_PASSWORD_LENGTH} caratteri."


@blueprint.get("/users", endpoint="users")  # the menu (desk/web/navigation.py) expects admin.users
@role_required(Role.ADMIN)
def users_page():
    return _render({}, {})


@blueprint.post("/users")
@role_required(Role.ADMIN)
def create_user():
    form = request.form
    values = {"email": form.get("email", "").strip(), "display_name": form.get("display_name", "").strip(),
              "role": form.get("role", Role.OPERATOR.value)}
    errors = {}
    if values["role"] not in ROLE_LABELS:
        errors["role"] = "Ruolo non valido."
    if len(values["display_name"]) > 200:
        errors["display_name"] = "Al massimo 200 caratteri."
    if not errors:
        try:
            with db_session() as session:
                user = users.create_user(session, values["email"], values["display_name"], form.get("password", ""),
                                         Role(values["role"]))
                created = user.email
        except InvalidLogin:
            errors["email"] = "Il login deve essere un indirizzo email."
        except DuplicateLogin:
            errors["email"] = "Esiste già un utente con questo login."
        except WeakPassword:
            errors["password"] = WEAK_PASSWORD_MESSAGE
        else:
            flash(f"Utente {created} creato come {ROLE_LABELS[values['role']]}.", "success")
            return redirect(url_for("admin.users"))
    return _render(values, errors), 422


@blueprint.post("/users/<int:user_id>/role")
@role_required(Role.ADMIN)
def change_role(user_id: int):
    role = request.form.get("role", "")
    if role not in ROLE_LABELS:
        abort(400)
    try:
        with db_session() as session:
            user = _user_or_404(session, user_id)
            users.change_role(session, user, Role(role))
            email = user.email
    except LastAdmin:
        flash(LAST_ADMIN_MESSAGE, "error")
    else:
        flash(f"{email} ora è {ROLE_LABELS[role]}.", "success")
    return redirect(url_for("admin.users"))


@blueprint.post("/users/<int:user_id>/active")
@role_required(Role.ADMIN)
def set_active(user_id: int):
    active = request.form.get("active") == "1"
    try:
        with db_session() as session:
            user = _user_or_404(session, user_id)
            users.set_active(session, user, active)
            email = user.email
    except LastAdmin:
        flash(LAST_ADMIN_MESSAGE, "error")
    else:
        flash(f"{email} {'riattivato' if active else 'disattivato: non può più accedere'}.", "success")
    return redirect(url_for("admin.users"))


@blueprint.post("/users/<int:user_id>/password")
@role_required(Role.ADMIN)
def reset_password(user_id: int):
    try:
        with db_session() as session:
            user = _user_or_404(session, user_id)
            users.reset_password(session, user, request.form.get("password", ""))
            email = user.email
    except WeakPassword:
        flash(WEAK_PASSWORD_MESSAGE + " La password non è stata cambiata.", "error")
    else:
        flash(f"Nuova password impostata per {email}: comunicala di persona o per un canale sicuro.", "success")
    return redirect(url_for("admin.users"))


@blueprint.post("/users/<int:user_id>/unlock")
@role_required(Role.ADMIN)
def unlock(user_id: int):
    with db_session() as session:
        user = _user_or_404(session, user_id)
        users.unlock(session, user)
        email = user.email
    flash(f"{email} sbloccato: può accedere di nuovo.", "success")
    return redirect(url_for("admin.users"))


def _user_or_404(session, user_id: int):
    user = users.get(session, user_id)
    if user is None:
        abort(404)
    return user


def _render(values, errors):
    with db_session() as session:
        accounts = users.list_users(session)
        active_admins = users.count_admins(session)
        return render_template("admin/users.html", accounts=accounts, values=values, errors=errors,
                               roles=ROLE_LABELS, active_admins=active_admins, min_password=MIN_PASSWORD_LENGTH,
                               now=utcnow())
