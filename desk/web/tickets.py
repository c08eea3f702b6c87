"""The ticket page: transcript, form data, SLA clock, history, and the operator's actions
(take, assign, status, private note, reply). Every change goes through desk.services.tickets,
which checks it and leaves an audit event; replies are queued in the outbox by tickets.reply."""
from __future__ import annotations

import io

from functools import wraps
from typing import Callable
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.utils import secure_filename

from desk.models import Role, TicketStatus
from desk.models.base import utcnow
from desk.services import canned, outbox, queue, tickets, users
from desk.services.ticket_page import history, sla_clock, suggested_answers
from desk.services.tickets import ALLOWED_TRANSITIONS, InvalidContact, InvalidTransition, TicketClosed
from desk.web.auth import role_required
from desk.web.extensions import db_session, settings_of
from desk.web.ticket_display import STATUS_LABELS, business_calendar, people_names, register_filters

blueprint = Blueprint("tickets", __name__)
register_filters(blueprint)

MAX_TEXT = 10000


def with_ticket(view: Callable) -> Callable:
    """Open a unit of work and load the ticket named in the URL (404 when unknown)."""

    @wraps(view)
    def wrapper(ref: str):
        with db_session() as session:
            ticket = tickets.find_by_ref(session, ref)
            if ticket is None:
                abort(404)
            return view(session, ticket)

    return wrapper


@blueprint.get("/ticket/<ref>")
@role_required(Role.OPERATOR)
@with_ticket
def show(session, ticket):
    now = utcnow()
    operators = [user for user in users.list_users(session) if user.active]
    previous_ref, next_ref = queue.neighbours(session, ticket)
    return render_template(
        "ticket/show.html",
        ticket=ticket,
        clock=sla_clock(business_calendar(), ticket.current_status, ticket.sla_due_at, now),
        items=history(session, ticket),
        names=people_names(users.list_users(session)),
        operators=operators,
        transitions=_transitions(ticket),
        suggestions=suggested_answers(session, ticket),
        canned_replies=[(reply, canned.fill(reply.body, ticket.name, ticket.ref))
                        for reply in canned.replies_for(session, ticket.language)],
        topic_titles=queue.topic_titles(session, [s.get("topic") for s in ticket.suggested_topics or [] if isinstance(s, dict)]),
        previous_ref=previous_ref,
        next_ref=next_ref,
        refresh_seconds=5,
        emails=outbox.emails_of_ticket(session, ticket.id),
        email_after_unread_minutes=settings_of(current_app).email_after_unread_minutes,
    )


@blueprint.get("/ticket/<ref>/cronologia")
@role_required(Role.OPERATOR)
@with_ticket
def timeline(session, ticket):
    """The history alone, polled by the ticket page: delivery states and new messages appear live."""
    return render_template(
        "ticket/_history.html", ticket=ticket, items=history(session, ticket),
        names=people_names(users.list_users(session)), refresh_seconds=5,
        emails=outbox.emails_of_ticket(session, ticket.id),
    )


@blueprint.get("/ticket/<ref>/allegati/<int:attachment_id>")
@role_required(Role.OPERATOR)
def attachment(ref: str, attachment_id: int):
    """A file the user sent: always downloaded, never shown inline, so that a file posing as a
    web page cannot run in the desk's origin."""
    with db_session() as session:
        ticket = tickets.find_by_ref(session, ref)
        found = tickets.find_attachment(session, ticket, attachment_id) if ticket is not None else None
        if found is None:
            abort(404)
        response = send_file(io.BytesIO(found.data), mimetype="application/octet-stream", as_attachment=True,
                             download_name=secure_filename(found.filename) or f"allegato-{found.id}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@blueprint.post("/ticket/<ref>/prendi")
@role_required(Role.OPERATOR)
@with_ticket
def take(session, ticket):
    """Take the ticket: it is assigned to me and, if still open, goes in progress."""
    previous = ticket.assignee
    if ticket.current_status not in tickets.ACTIVE_STATUSES:
        flash("Il ticket non è attivo: riaprilo prima di prenderlo in carico.", "error")
        return _back(ticket)
    tickets.assign(session, ticket, current_user.email, actor=current_user.email)
    if ticket.current_status is TicketStatus.OPEN:
        tickets.change_status(session, ticket, TicketStatus.IN_PROGRESS, actor=current_user.email)
    if previous and previous != current_user.email:
        names = people_names(users.list_users(session))
        flash(f"Hai preso in carico {ticket.ref} (era assegnato a {names.get(previous, previous)}).", "success")
    else:
        flash(f"Hai preso in carico {ticket.ref}.", "success")
    return _back(ticket)


@blueprint.post("/ticket/<ref>/assegna")
@role_required(Role.OPERATOR)
@with_ticket
def assign(session, ticket):
    assignee = (request.form.get("assignee") or "").strip() or None
    if assignee is not None:
        person = users.find_by_email(session, assignee)
        if person is None or not person.active:
            flash("Scegli un operatore attivo dall'elenco.", "error")
            return _back(ticket)
        assignee = person.email
    tickets.assign(session, ticket, assignee, actor=current_user.email)
    if assignee is None:
        flash(f"{ticket.ref} è tornato in coda senza assegnatario.", "success")
    else:
        name = people_names(users.list_users(session)).get(assignee, assignee)
        flash(f"{ticket.ref} assegnato a {name}.", "success")
    return _back(ticket)


@blueprint.post("/ticket/<ref>/stato")
@role_required(Role.OPERATOR)
@with_ticket
def change_status(session, ticket):
    wanted = request.form.get("status", "")
    if wanted not in STATUS_LABELS:
        flash("Stato sconosciuto.", "error")
        return _back(ticket)
    try:
        tickets.change_status(session, ticket, wanted, actor=current_user.email)
    except InvalidTransition as error:
        flash(
            f"Il ticket non può passare da «{STATUS_LABELS[error.before.value]}» a «{STATUS_LABELS[error.after.value]}»."
            " Usa uno dei passaggi proposti.", "error",
        )
        return _back(ticket)
    message = f"{ticket.ref}: stato «{STATUS_LABELS[wanted]}»."
    if wanted == TicketStatus.RESOLVED.value:
        message += " L'utente riceve un avviso sul suo canale."
    flash(message, "success")
    return _back(ticket)


@blueprint.post("/ticket/<ref>/nota")
@role_required(Role.OPERATOR)
@with_ticket
def note(session, ticket):
    body = _text("body")
    if body is None:
        flash("La nota è vuota o troppo lunga.", "error")
        return _back(ticket)
    tickets.add_note(session, ticket, body, actor=current_user.email)
    flash("Nota interna aggiunta (l'utente non la vede).", "success")
    return _back(ticket)


@blueprint.post("/ticket/<ref>/risposta")
@role_required(Role.OPERATOR)
@with_ticket
def reply(session, ticket):
    body = _text("body")
    if body is None:
        flash("La risposta è vuota o troppo lunga.", "error")
        return _back(ticket)
    try:
        tickets.reply(session, ticket, body, actor=current_user.email, set_waiting=bool(request.form.get("wait")))
    except TicketClosed:
        flash("Il ticket è chiuso: non può ricevere altre risposte.", "error")
        return _back(ticket)
    flash("Risposta messa in coda per l'invio all'utente.", "success")
    return _back(ticket)


@blueprint.post("/ticket/<ref>/contatto")
@role_required(Role.OPERATOR)
@with_ticket
def change_contact(session, ticket):
    """How the user is answered, when they ask: by e-mail (with a valid address) or only in the chat."""
    kind = request.form.get("kind", "")
    try:
        tickets.change_contact(session, ticket, kind, request.form.get("address"), actor=current_user.email)
    except InvalidContact:
        flash("Scrivi un indirizzo e-mail valido (es. nome@esempio.it).", "error")
        return _back(ticket)
    except TicketClosed:
        flash("Il ticket è chiuso: il contatto non cambia più.", "error")
        return _back(ticket)
    if ticket.contact_kind == "email":
        flash(f"Le prossime risposte arriveranno anche per e-mail a {ticket.contact}.", "success")
    else:
        flash("Le prossime risposte arriveranno solo in chat.", "success")
    return _back(ticket)


def _transitions(ticket):
    order = list(TicketStatus)
    return sorted(ALLOWED_TRANSITIONS[ticket.current_status], key=order.index)


def _text(field: str):
    text = (request.form.get(field) or "").strip()
    if not text or len(text) > MAX_TEXT:
        return None
    return text


def _back(ticket):
    """Post-redirect-get: back to the queue view the action came from, or to the ticket."""
    if request.form.get("back") == "queue":
        view = queue.QueueFilter.from_args(dict(parse_qsl(request.form.get("queue_args", ""))))
        query = urlencode(view.query_args())
        return redirect(url_for("queue.index") + (f"?{query}" if query else ""))
    return redirect(url_for("tickets.show", ref=ticket.ref))
