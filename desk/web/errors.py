"""Error pages: plain Italian explanations, JSON for API and htmx calls."""
from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from desk.db import DatabaseUnavailable

_MESSAGES = {
    400: "La richiesta non è valida.",
    403: "Non hai i permessi per questa pagina.",
    404: "Pagina non trovata.",
    413: "La richiesta è troppo grande.",
    503: "Il database non è raggiungibile in questo momento. Riprova tra poco.",
}


def init_app(app) -> None:
    for code in (403, 404):
        app.register_error_handler(code, lambda error, code=code: _render(code))
    app.register_error_handler(CSRFError, lambda error: _render(400, "Il modulo è scaduto: ricarica la pagina e riprova."))
    app.register_error_handler(DatabaseUnavailable, lambda error: _render(503))
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(BadRequest, lambda error: _render(400))


# Endpoints called by programs, not people: their errors are always JSON.
_MACHINE_PATHS = ("/widget/api/", "/telegram/")


def _too_large(error):
    if request.path.startswith("/widget/api/"):
        from bot.widget.gateway import request_language
        from bot.widget.texts import say

        return jsonify(error="request_too_large", message=say("request_too_large", request_language())), 413
    return _render(413)


def _render(code: int, message: str = ""):
    from desk.web.auth import wants_json

    message = message or _MESSAGES[code]
    if wants_json() or request.path.startswith(_MACHINE_PATHS):
        return jsonify(error=message), code
    return render_template("errors/error.html", code=code, message=message), code
