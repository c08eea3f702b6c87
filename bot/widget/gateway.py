"""The web widget's gateway: the script firm owners' associations embed, its JSON endpoints
and a demo page.

Browsers never reach the assistant: a message goes to /widget/api/messages and the desk
forwards it server-side (desk.services.conversations). Operator replies and resolution
notices wait in the outbox until the widget asks /widget/api/updates for them.

The endpoints are called cross-origin from the associations' sites, so they carry no
cookies and no CSRF token: a widget session is a random id plus a token signed with the
desk's secret, sent in a header, and only the configured origins (and the desk itself)
get CORS headers; a request whose Origin is not allowed is refused."""
from __future__ import annotations

import logging
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_file
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.widget.hours import office_hours
from bot.widget.replies import LANGUAGES, widget_messages
from bot.widget.texts import MAX_TEXT_LENGTH, say
from desk.config import Settings
from desk.db import DatabaseUnavailable
from desk.services import outbox, update_notices
from desk.services.business_hours import BusinessCalendar
from desk.services.conversations import AssistantClient, AssistantUnavailable, InboundMessage, unavailable_text
from desk.services.rate_limit import Limit, RateLimiter, limiter_for
from desk.services.ticket_lookup import pseudonym
from desk.text import user_text
from desk.web.extensions import csrf, db_session, settings_of
from desk.web.json_input import MalformedBody, json_object

log = logging.getLogger(__name__)

blueprint = Blueprint("widget", __name__)
csrf.exempt(blueprint)  # cross-origin JSON: protected by the session token and the allowed origins

WIDGET_SCRIPT = Path(__file__).resolve().parent / "widget.js"
CHANNEL = "widget"
TOKEN_HEADER = "X-Widget-Token"
DEMO_PAGES = {"": "Home", "servizi": "Servizi", "contatti": "Contatti"}
# `after` of /widget/api/updates: an outbox id, ASCII digits within the id column's range.
OUTBOX_ID = re.compile(r"[0-9]{1,10}")
MAX_OUTBOX_ID = 2**31 - 1
# The client's idempotency key of a message (optional): the same when it sends the message again.
MESSAGE_KEY = re.compile(r"[A-Za-z0-9._:-]{8,100}")


class WidgetError(Exception):
    def __init__(self, status: int, code: str, language: str, retry_after: Optional[int] = None) -> None:
        super().__init__(code)
        self.status, self.code, self.language, self.retry_after = status, code, language, retry_after


@dataclass
class WidgetGateway:
    """What the widget endpoints share across requests, built once per app."""

    settings: Settings
    assistant: AssistantClient
    limiter: RateLimiter
    calendar: BusinessCalendar
    signer: URLSafeTimedSerializer

    @classmethod
    def from_settings(cls, settings: Settings) -> "WidgetGateway":
        return cls(
            settings=settings,
            assistant=AssistantClient(settings.rasa_url, actions_url=settings.actions_url),
            limiter=limiter_for(settings.redis_url, settings.redis_prefix),
            calendar=BusinessCalendar.from_env(),
            signer=URLSafeTimedSerializer(settings.secret_key, salt="dialoga-widget-session"),
        )

    def new_session(self) -> Dict[str, str]:
        session_id = secrets.token_urlsafe(18)
        return {"session": session_id, "token": self.signer.dumps(session_id)}

    def session_of(self, token: str) -> Optional[str]:
        try:
            return self.signer.loads(token, max_age=self.settings.widget_session_days * 86400)
        except BadSignature:
            return None


_setup_lock = threading.Lock()


def gateway() -> WidgetGateway:
    extensions = current_app.extensions
    if "dialoga.widget" not in extensions:
        with _setup_lock:
            extensions.setdefault("dialoga.widget", WidgetGateway.from_settings(settings_of(current_app)))
    return extensions["dialoga.widget"]


# Origins, sessions, limits


def _own_origin() -> str:
    return request.host_url.rstrip("/").lower()


def origin_allowed(origin: str) -> bool:
    origin = origin.rstrip("/").lower()
    return origin == _own_origin() or origin in gateway().settings.widget_origins


def _language(value: Any) -> str:
    return value if isinstance(value, str) and value in LANGUAGES else "it"


def request_language() -> str:
    """The user's language before the body is read: ?lang=, else the browser's preference."""
    if request.args.get("lang") in LANGUAGES:
        return request.args["lang"]
    return request.accept_languages.best_match(LANGUAGES, default="it")


def _json_body(language: str) -> Dict[str, Any]:
    try:
        return json_object()
    except MalformedBody as error:
        log.info("widget request with a malformed body: %s", error)
        raise WidgetError(400, "bad_request", language) from None


def _signed_session(language: str) -> str:
    """The conversation the request's token was issued for: checked before the body is read."""
    token = request.headers.get(TOKEN_HEADER, "")
    signed = gateway().session_of(token) if token and len(token) <= 512 else None
    if not isinstance(signed, str):
        raise WidgetError(401, "session_expired", language)
    return signed


def _authorised_session(session_id: Any, signed: str, language: str) -> str:
    if not isinstance(session_id, str) or not secrets.compare_digest(signed.encode(), session_id.encode()):
        raise WidgetError(401, "session_expired", language)
    return session_id


def _within_limit(name: str, key: str, hits_per_minute: int, language: str) -> None:
    decision = gateway().limiter.hit(f"widget-{name}", key, Limit(hits_per_minute, 60))
    if not decision.allowed:
        raise WidgetError(429, "rate_limited", language, retry_after=decision.retry_after_seconds)


@blueprint.errorhandler(WidgetError)
def _widget_error(error: WidgetError):
    response = jsonify(error=error.code, message=say(error.code, error.language))
    response.status_code = error.status
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@blueprint.errorhandler(DatabaseUnavailable)
def _database_unavailable(error: DatabaseUnavailable):
    log.warning("widget request without the database: %s", error)
    language = _language(request.args.get("lang"))
    return jsonify(error="database_unavailable", message=say("database_unavailable", language)), 503


@blueprint.before_request
def _check_origin():
    if not request.path.startswith("/widget/api/"):
        return None
    origin = request.headers.get("Origin")
    # Browsers send Origin on every cross-origin request (and on same-origin POSTs); a request
    # without one comes from a non-browser client, which an origin check could not stop anyway.
    if origin is not None and not origin_allowed(origin):
        log.info("widget request refused from origin %s", origin)
        raise WidgetError(403, "origin_refused", _language(request.args.get("lang")))
    if request.method == "OPTIONS":
        response = current_app.make_response(("", 204))
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = f"Content-Type, {TOKEN_HEADER}"
        response.headers["Access-Control-Max-Age"] = "600"
        return response
    return None


@blueprint.after_request
def _cors_headers(response):
    if request.path.startswith("/widget/api/"):
        origin = request.headers.get("Origin")
        if origin is not None and origin_allowed(origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        response.headers.add("Vary", "Origin")
        response.headers["Cache-Control"] = "no-store"
    return response


# Routes


@blueprint.get("/widget.js")
def script():
    response = send_file(WIDGET_SCRIPT, mimetype="text/javascript", max_age=300)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get("/widget/demo")
@blueprint.get("/widget/demo/<page>")
def demo(page: str = ""):
    if page not in DEMO_PAGES:
        abort(404)
    return render_template("widget/demo.html", page=page, pages=DEMO_PAGES)


@blueprint.post("/widget/api/session")
def new_session():
    try:
        body = json_object() if request.content_length else {}
    except MalformedBody:
        body = {}  # the body only carries an optional language
    language = _language(body.get("lang")) if "lang" in body else request_language()
    _within_limit("sessions", request.remote_addr or "unknown", gateway().settings.widget_sessions_per_minute, language)
    return jsonify(**gateway().new_session(), poll_seconds=gateway().settings.widget_poll_seconds), 201


def _message_request():
    """(body, language, session id) of a POST that a conversation's session signs, within the
    session's message rate: what every endpoint that writes for a conversation checks first."""
    signed = _signed_session(request_language())
    body = _json_body(request_language())
    language = _language(body.get("lang"))
    session_id = _authorised_session(body.get("session"), signed, language)
    _within_limit("messages", session_id, gateway().settings.widget_messages_per_minute, language)
    return body, language, session_id


@blueprint.post("/widget/api/messages")
def send_message():
    body, language, session_id = _message_request()
    text = body.get("text")
    if not isinstance(text, str):
        raise WidgetError(400, "empty_text", language)
    if len(text) > MAX_TEXT_LENGTH:
        raise WidgetError(413, "too_long", language)
    text = user_text(text)
    if not text:
        raise WidgetError(400, "empty_text", language)
    try:
        client = pseudonym(gateway().settings.secret_key, f"widget-client:{request.remote_addr or 'unknown'}")
        replies = gateway().assistant.route(InboundMessage(CHANNEL, session_id, text, language, client=client,
                                                           message_key=_message_key(body.get("message_key"))))
    except AssistantUnavailable as error:
        log.warning("widget session %s: assistant unavailable: %s", session_id, error)
        notice = {"text": unavailable_text(language), "buttons": [], "notice": True}
        return jsonify(error="assistant_unavailable", message=notice["text"], messages=[notice]), 503
    return jsonify(messages=widget_messages(replies))


def _message_key(value: Any) -> Optional[str]:
    """A well-formed key or none: an odd one is ignored (the message still goes through)."""
    return value if isinstance(value, str) and MESSAGE_KEY.fullmatch(value) else None


@blueprint.get("/widget/api/updates")
def updates():
    language = _language(request.args.get("lang"))
    session_id = _authorised_session(request.args.get("session"), _signed_session(language), language)
    after = request.args.get("after", "0")
    if not OUTBOX_ID.fullmatch(after) or int(after) > MAX_OUTBOX_ID:
        raise WidgetError(400, "bad_request", language)
    _within_limit("updates", session_id, gateway().settings.widget_polls_per_minute, language)
    with db_session() as session:
        pending = outbox.for_address(session, CHANNEL, session_id, int(after))
        for message in pending:
            outbox.mark_sent(session, message)
        shaped = [
            {"id": message.id, "kind": message.kind, "text": message.body, "language": message.language,
             "at": message.created_at.isoformat() + "Z"}
            for message in pending
        ]
    return jsonify(messages=shaped, last_id=max([m["id"] for m in shaped], default=int(after)))


@blueprint.post("/widget/api/subscriptions/email")
def notices_by_email():
    """The user's e-mail, with explicit consent, for the update notices this conversation
    subscribed to: they then go by e-mail instead of waiting for the next visit."""
    body, language, session_id = _message_request()
    email = body.get("email")
    if not isinstance(email, str) or not email.strip() or len(email) > 200:
        raise WidgetError(400, "bad_email", language)
    if body.get("consent") is not True:
        raise WidgetError(400, "consent_needed", language)
    try:
        with db_session() as session:
            count = update_notices.set_email(session, CHANNEL, session_id, email, consent=True)
    except update_notices.InvalidEmail:
        raise WidgetError(400, "bad_email", language) from None
    if not count:
        raise WidgetError(409, "no_subscription", language)
    return jsonify(subscriptions=count, message=say("notices_by_email", language, count=str(count)))


@blueprint.get("/widget/api/hours")
def hours():
    return jsonify(office_hours(gateway().calendar, _language(request.args.get("lang"))))
