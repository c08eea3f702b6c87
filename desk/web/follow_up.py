"""The user's private follow-up page, linked from every e-mail: /seguito/<token>.

Anyone holding the link reads the exchange of that one ticket (the question, the user's
messages and the desk's public replies; never internal notes), answers the operator (a
follow-up through desk.services.tickets: the ticket goes back to the desk) or closes it.
A forged, expired or stale token gets the same 404 as any unknown page, the forms carry the
desk's CSRF token, and every request counts against a limit per client address."""
from __future__ import annotations

import threading

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from desk.models import TicketStatus
from desk.services import tickets
from desk.services.follow_up import FollowUpLinks, exchange
from desk.services.rate_limit import Limit, RateLimiter, limiter_for
from desk.web.extensions import db_session, settings_of
from desk.web.ticket_display import local_time

blueprint = Blueprint("follow_up", __name__)

MAX_TEXT = 5000
_setup_lock = threading.Lock()

TEXTS = {
    "it": {
        "title": "La tua richiesta {ref}",
        "intro": "Qui trovi la conversazione con lo sportello «Dialoga con noi». Questa pagina è personale: non inoltrare il link.",
        "status": "Stato",
        "you": "Tu",
        "desk": "Sportello",
        "attachment": "File inviato",
        "reply_title": "Rispondi all'operatore",
        "reply_label": "Il tuo messaggio",
        "reply_button": "Invia la risposta",
        "close_title": "Non ti serve più aiuto?",
        "close_help": "Chiudendo la richiesta non riceverai altri messaggi su di essa. Per una nuova domanda scrivi all'assistente.",
        "close_button": "Chiudi la richiesta",
        "closed": "La richiesta è chiusa: per una nuova domanda scrivi all'assistente.",
        "sent": "Messaggio inviato: l'operatore lo vedrà nella sua coda.",
        "closed_now": "Richiesta chiusa. Grazie di averci scritto.",
        "empty": "Scrivi un messaggio (al massimo 5000 caratteri).",
        "too_many": "Troppe richieste da questo indirizzo: riprova tra un minuto.",
        "statuses": {"open": "aperta, in attesa di un operatore", "in_progress": "un operatore se ne sta occupando",
                     "waiting_on_user": "in attesa di una tua risposta", "resolved": "risolta", "closed": "chiusa"},
    },
    "en": {
        "title": "Your request {ref}",
        "intro": "Here is your conversation with the \"Dialoga con noi\" desk. This page is personal: do not forward the link.",
        "status": "Status",
        "you": "You",
        "desk": "Desk",
        "attachment": "File sent",
        "reply_title": "Answer the operator",
        "reply_label": "Your message",
        "reply_button": "Send the answer",
        "close_title": "Don't need help any more?",
        "close_help": "Once the request is closed you will get no more messages about it. For a new question, write to the assistant.",
        "close_button": "Close the request",
        "closed": "The request is closed: for a new question, write to the assistant.",
        "sent": "Message sent: the operator will see it in their queue.",
        "closed_now": "Request closed. Thank you for writing to us.",
        "empty": "Write a message (5000 characters at most).",
        "too_many": "Too many requests from this address: please try again in a minute.",
        "statuses": {"open": "open, waiting for an operator", "in_progress": "an operator is working on it",
                     "waiting_on_user": "waiting for your answer", "resolved": "resolved", "closed": "closed"},
    },
}


def _links() -> FollowUpLinks:
    settings = settings_of(current_app)
    return FollowUpLinks(settings.secret_key, settings.follow_up_link_days)


def _limiter() -> RateLimiter:
    extensions = current_app.extensions
    if "dialoga.follow_up_limiter" not in extensions:
        with _setup_lock:
            extensions.setdefault("dialoga.follow_up_limiter", limiter_for(settings_of(current_app).redis_url))
    return extensions["dialoga.follow_up_limiter"]


@blueprint.before_request
def _within_limit():
    limit = Limit(settings_of(current_app).follow_up_requests_per_minute, 60)
    decision = _limiter().hit("follow-up", request.remote_addr or "unknown", limit)
    if not decision.allowed:
        language = "en" if request.accept_languages.best_match(["it", "en"]) == "en" else "it"
        response = current_app.make_response((render_template("follow_up/limited.html", t=TEXTS[language],
                                                               language=language), 429))
        response.headers["Retry-After"] = str(decision.retry_after_seconds)
        return response
    return None


@blueprint.after_request
def _private(response):
    """The token is in the address: keep it out of caches, referrers and search engines."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
    return response


def _ticket_or_404(session, token: str):
    ticket = _links().ticket_for(session, token)
    if ticket is None:
        abort(404)  # the same for a forged, expired or stale token as for any unknown page
    return ticket


@blueprint.get("/seguito/<token>")
def show(token: str):
    with db_session() as session:
        ticket = _ticket_or_404(session, token)
        return _render(session, ticket, token, notice=request.args.get("fatto"))


@blueprint.post("/seguito/<token>/risposta")
def answer(token: str):
    with db_session() as session:
        ticket = _ticket_or_404(session, token)
        text = (request.form.get("body") or "").strip()
        if ticket.current_status is TicketStatus.CLOSED:
            return _render(session, ticket, token, status=409)
        if not text or len(text) > MAX_TEXT:
            return _render(session, ticket, token, error="empty", status=400)
        tickets.add_follow_up(session, ticket, text, back_to_assignee=True)
    return redirect(url_for("follow_up.show", token=token, fatto="sent"))


@blueprint.post("/seguito/<token>/chiudi")
def close(token: str):
    with db_session() as session:
        ticket = _ticket_or_404(session, token)
        if ticket.current_status is not TicketStatus.CLOSED:
            tickets.close(session, ticket, actor="user")
    return redirect(url_for("follow_up.show", token=token, fatto="closed_now"))


def _render(session, ticket, token: str, notice=None, error=None, status: int = 200):
    language = ticket.language if ticket.language in TEXTS else "it"
    texts = TEXTS[language]
    return render_template(
        "follow_up/page.html", ticket=ticket, token=token, t=texts, language=language,
        items=exchange(session, ticket), local_time=local_time,
        notice=texts.get(notice) if notice in ("sent", "closed_now") else None,
        error=texts[error] if error else None,
        closed=ticket.current_status is TicketStatus.CLOSED,
    ), status
