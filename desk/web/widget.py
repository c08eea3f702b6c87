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
from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Optional

from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_file
from itsdangerous import BadSignature, URLSafeTimedSerializer

from desk.answer_format import answer_text, format_date
from desk.config import PROJECT_ROOT, Settings
from desk.db import DatabaseUnavailable
from desk.models.base import utcnow
from desk.services import outbox
from desk.services.business_hours import BusinessCalendar
from desk.services.conversations import AssistantClient, AssistantUnavailable, InboundMessage, unavailable_text
from desk.services.rate_limit import Limit, RateLimiter, limiter_for
from desk.web import csrf, db_session, settings_of

log = logging.getLogger(__name__)

blueprint = Blueprint("widget", __name__)
csrf.exempt(blueprint)  # cross-origin JSON: protected by the session token and the allowed origins

WIDGET_SCRIPT = PROJECT_ROOT / "bot" / "widget" / "widget.js"
CHANNEL = "widget"
TOKEN_HEADER = "X-Widget-Token"
MAX_TEXT_LENGTH = 2000
LANGUAGES = ("it", "en")
FEEDBACK_PAYLOADS = {"/feedback_helpful": "helpful", "/feedback_not_helpful": "not_helpful"}
DEMO_PAGES = {"": "Home", "servizi": "Servizi", "contatti": "Contatti"}

TEXTS: Dict[str, Dict[str, str]] = {
    "rate_limited": {
        "it": "Stai scrivendo molto velocemente: aspetta qualche secondo e riprova.",
        "en": "You are writing very fast: please wait a few seconds and try again.",
    },
    "session_expired": {
        "it": "La conversazione è scaduta: ne inizio una nuova.",
        "en": "This conversation has expired: I am starting a new one.",
    },
    "origin_refused": {
        "it": "Questo sito non è autorizzato a usare la chat dello sportello.",
        "en": "This site is not allowed to use the desk's chat.",
    },
    "bad_request": {"it": "Richiesta non valida.", "en": "Invalid request."},
    "empty_text": {"it": "Scrivi un messaggio prima di inviarlo.", "en": "Please write a message first."},
    "too_long": {
        "it": f"Il messaggio è troppo lungo: scrivilo in meno di {MAX_TEXT_LENGTH} caratteri.",
        "en": f"The message is too long: please keep it under {MAX_TEXT_LENGTH} characters.",
    },
    "database_unavailable": {
        "it": "Lo sportello non riesce a leggere i messaggi in questo momento: riprovo tra poco.",
        "en": "The desk cannot read its messages right now: I will try again shortly.",
    },
    "hours_open": {"it": "Operatori in servizio ora ({hours})", "en": "Operators available now ({hours})"},
    "hours_closed": {
        "it": "Operatori non in servizio: riapriamo {when}",
        "en": "Operators are away: back {when}",
    },
    "hours_closed_intake": {
        "it": ("Gli operatori in questo momento non sono in servizio (orario: {hours}). Puoi lasciare comunque "
               "la richiesta: ti risponderemo qui dalla riapertura, {when}."),
        "en": ("Our operators are away right now (office hours: {hours}). You can still leave your request: "
               "we will answer you here once we are back, {when}."),
    },
}

_WEEKDAYS = {
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "it": ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
           "ottobre", "novembre", "dicembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}
_WEB_ADDRESS = re.compile(r"^https?://[^\s]+$")
# The assistant's own sentences are well formed: their function words tell Italian from English
# (knowledge answers say their language in `custom`; offers and form questions do not).
_FUNCTION_WORDS = {
    "it": frozenset("il lo la le gli di da in con su per che non una uno un sono sei ti mi ci del della alla "
                    "nel questa questo vuoi puoi come se è".split()),
    "en": frozenset("the a an and of to in on for that not you your are is it this with can would please "
                    "what how i me my we our".split()),
}
_WORDS = re.compile(r"[^\W\d_]+|è", re.UNICODE)


def say(key: str, language: str, **values: str) -> str:
    variants = TEXTS[key]
    return variants.get(language, variants["it"]).format(**values)


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
            assistant=AssistantClient(settings.rasa_url),
            limiter=limiter_for(settings.redis_url),
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


# Shaping the assistant's replies for the widget


def widget_messages(replies: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Rasa's REST channel sends a message's `custom` object as a separate message right after
    its text; the widget wants one message with text, buttons and what `custom` says about it."""
    shaped: List[Dict[str, Any]] = []
    for reply in replies:
        text = reply.get("text")
        if isinstance(text, str) and text.strip():
            shaped.append({"text": text, "buttons": _buttons(reply.get("buttons"))})
        custom = reply.get("custom")
        if isinstance(custom, dict) and custom:
            if not shaped:
                shaped.append({"text": "", "buttons": []})
            _apply_custom(shaped[-1], custom)
    shaped = [message for message in shaped if message["text"] or message["buttons"]]
    for message in shaped:
        if "language" not in message:
            language = language_of_reply(message["text"])
            if language:
                message["language"] = language
    return shaped


def language_of_reply(text: str) -> Optional[str]:
    """Italian or English when the function words of the assistant's text clearly say which."""
    words = [word.lower() for word in _WORDS.findall(text)]
    votes = {language: sum(word in vocabulary for word in words) for language, vocabulary in _FUNCTION_WORDS.items()}
    if votes["it"] >= votes["en"] + 3:
        return "it"
    if votes["en"] >= votes["it"] + 3:
        return "en"
    return None


def _buttons(buttons: Any) -> List[Dict[str, str]]:
    shaped = []
    for button in buttons if isinstance(buttons, list) else []:
        if not isinstance(button, dict):
            continue
        title, payload = str(button.get("title") or ""), str(button.get("payload") or "")
        if title and payload:
            item = {"title": title, "payload": payload}
            if payload in FEEDBACK_PAYLOADS:
                item["feedback"] = FEEDBACK_PAYLOADS[payload]
            shaped.append(item)
    return shaped


def _apply_custom(message: Dict[str, Any], custom: Dict[str, Any]) -> None:
    if custom.get("source"):
        message["source"] = str(custom["source"])
        url = str(custom.get("source_url") or "")
        if _WEB_ADDRESS.match(url):
            message["source_url"] = url
        if custom.get("verified_on"):
            message["verified_on"] = str(custom["verified_on"])
        message["text"] = without_source_lines(message["text"], custom)
    if custom.get("topic"):
        message["topic"] = str(custom["topic"])
    if custom.get("language") in LANGUAGES:
        message["language"] = custom["language"]
    if custom.get("escalation"):
        message["escalation"] = str(custom["escalation"])
        if custom.get("asks"):
            message["asks"] = str(custom["asks"])
    ticket = custom.get("ticket")
    if isinstance(ticket, dict) and ticket.get("ref"):
        message["ticket"] = {"ref": str(ticket["ref"]), "status": str(ticket.get("status") or "")}


def without_source_lines(text: str, custom: Dict[str, Any]) -> str:
    """The answer text names its source and date in words (desk.answer_format); the widget
    shows them in a line of its own under the answer, so they are taken out of the text."""
    source = str(custom["source"]) + (f" — {custom['source_url']}" if custom.get("source_url") else "")
    try:
        verified = date.fromisoformat(str(custom.get("verified_on")))
    except ValueError:
        verified = None
    for language in LANGUAGES:
        lines = [answer_text("source_line", language, source=source)]
        if verified is not None:
            lines.append(answer_text("verified_line", language, date=format_date(verified, language)))
        for line in ("\n".join(lines), *lines):
            text = text.replace(line, "")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# Office hours


def describe_moment(moment_utc: datetime, calendar: BusinessCalendar, language: str, now_utc: datetime) -> str:
    local = calendar.to_local(moment_utc)
    today = calendar.to_local(now_utc).date()
    at = "alle" if language == "it" else "at"
    if local.date() == today:
        day = "oggi" if language == "it" else "today"
    elif local.date() == today + timedelta(days=1):
        day = "domani" if language == "it" else "tomorrow"
    elif language == "it":
        day = f"{_WEEKDAYS['it'][local.weekday()]} {local.day} {_MONTHS['it'][local.month - 1]}"
    else:
        day = f"on {_WEEKDAYS['en'][local.weekday()]} {local.day} {_MONTHS['en'][local.month - 1]}"
    return f"{day} {at} {local:%H:%M}"


def office_hours(calendar: BusinessCalendar, language: str, now: Optional[datetime] = None) -> Dict[str, Any]:
    now = now or utcnow()
    opening = calendar.add_business_hours(now, 0)  # now itself while the desk is open
    hours = calendar.describe(language)
    if opening <= now:
        return {"open": True, "hours": hours, "status": say("hours_open", language, hours=hours)}
    when = describe_moment(opening, calendar, language, now)
    return {
        "open": False, "hours": hours, "next_opening": calendar.to_local(opening).isoformat(),
        "status": say("hours_closed", language, when=when),
        "intake_notice": say("hours_closed_intake", language, hours=hours, when=when),
    }


# Origins, sessions, limits


def _own_origin() -> str:
    return request.host_url.rstrip("/").lower()


def origin_allowed(origin: str) -> bool:
    origin = origin.rstrip("/").lower()
    return origin == _own_origin() or origin in gateway().settings.widget_origins


def _language(value: Any) -> str:
    return value if value in LANGUAGES else "it"


def _json_body() -> Dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise WidgetError(400, "bad_request", "it")
    return body


def _authorised_session(session_id: Any, language: str) -> str:
    token = request.headers.get(TOKEN_HEADER, "")
    signed = gateway().session_of(token) if token else None
    if not isinstance(session_id, str) or signed is None or not secrets.compare_digest(signed, session_id):
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
    body = request.get_json(silent=True) or {}
    language = _language(body.get("lang") if isinstance(body, dict) else None)
    _within_limit("sessions", request.remote_addr or "unknown", gateway().settings.widget_sessions_per_minute, language)
    return jsonify(**gateway().new_session(), poll_seconds=gateway().settings.widget_poll_seconds), 201


@blueprint.post("/widget/api/messages")
def send_message():
    body = _json_body()
    language = _language(body.get("lang"))
    session_id = _authorised_session(body.get("session"), language)
    _within_limit("messages", session_id, gateway().settings.widget_messages_per_minute, language)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise WidgetError(400, "empty_text", language)
    if len(text) > MAX_TEXT_LENGTH:
        raise WidgetError(413, "too_long", language)
    try:
        replies = gateway().assistant.route(InboundMessage(CHANNEL, session_id, text.strip(), language))
    except AssistantUnavailable as error:
        log.warning("widget session %s: assistant unavailable: %s", session_id, error)
        notice = {"text": unavailable_text(language), "buttons": [], "notice": True}
        return jsonify(error="assistant_unavailable", message=notice["text"], messages=[notice]), 503
    return jsonify(messages=widget_messages(replies))


@blueprint.get("/widget/api/updates")
def updates():
    language = _language(request.args.get("lang"))
    session_id = _authorised_session(request.args.get("session"), language)
    after = request.args.get("after", "0")
    if not after.isdigit():
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


@blueprint.get("/widget/api/hours")
def hours():
    return jsonify(office_hours(gateway().calendar, _language(request.args.get("lang"))))
