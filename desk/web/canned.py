"""Canned replies, managed by supervisors: list, create, edit, deactivate and reactivate.
Operators use them from the reply composer of the ticket page."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from desk.models import Role
from desk.services import canned
from desk.web.auth import role_required
from desk.web.extensions import db_session
from desk.web.ticket_display import register_filters

blueprint = Blueprint("canned", __name__)
register_filters(blueprint)


class CannedReplyForm(FlaskForm):
    title = StringField("Titolo", validators=[DataRequired("Scrivi un titolo."), Length(max=canned.MAX_TITLE)])
    language = SelectField("Lingua", choices=[("it", "Italiano"), ("en", "Inglese")], validate_choice=False,
                           validators=[AnyOf(["it", "en"], message="Scegli italiano o inglese.")])
    body = TextAreaField("Testo", validators=[DataRequired("Scrivi il testo."), Length(max=canned.MAX_BODY)])


class EmptyForm(FlaskForm):
    """Only the CSRF token: for the deactivate and reactivate buttons."""


@blueprint.get("/risposte-predefinite")
@role_required(Role.SUPERVISOR)
def index():
    with db_session() as session:
        replies = canned.list_replies(session, include_inactive=True)
        return render_template("canned/index.html", replies=replies, form=EmptyForm())


@blueprint.route("/risposte-predefinite/nuova", methods=["GET", "POST"])
@role_required(Role.SUPERVISOR)
def create():
    form = CannedReplyForm()
    if form.validate_on_submit():
        with db_session() as session:
            reply = canned.create(session, form.title.data, form.body.data, form.language.data, current_user.email)
            title = reply.title
        flash(f"Risposta predefinita «{title}» creata.", "success")
        return redirect(url_for("canned.index"))
    return render_template("canned/form.html", form=form, reply=None), 400 if form.errors else 200


@blueprint.route("/risposte-predefinite/<int:reply_id>/modifica", methods=["GET", "POST"])
@role_required(Role.SUPERVISOR)
def edit(reply_id: int):
    with db_session() as session:
        reply = canned.get(session, reply_id) or abort(404)
        form = CannedReplyForm(obj=reply)
        if form.validate_on_submit():
            canned.update(session, reply, form.title.data, form.body.data, form.language.data, current_user.email)
            flash(f"Risposta predefinita «{reply.title}» aggiornata.", "success")
            return redirect(url_for("canned.index"))
        return render_template("canned/form.html", form=form, reply=reply), 400 if form.errors else 200


@blueprint.post("/risposte-predefinite/<int:reply_id>/disattiva")
@role_required(Role.SUPERVISOR)
def deactivate(reply_id: int):
    return _set_active(reply_id, False)


@blueprint.post("/risposte-predefinite/<int:reply_id>/riattiva")
@role_required(Role.SUPERVISOR)
def reactivate(reply_id: int):
    return _set_active(reply_id, True)


def _set_active(reply_id: int, active: bool):
    with db_session() as session:
        reply = canned.get(session, reply_id) or abort(404)
        canned.set_active(session, reply, active, current_user.email)
        title = reply.title
    flash(f"«{title}» " + ("riattivata: gli operatori la vedono di nuovo." if active else
                           "disattivata: gli operatori non la vedono più."), "success")
    return redirect(url_for("canned.index"))
