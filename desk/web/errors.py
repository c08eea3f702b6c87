"""Error pages: plain Italian explanations, JSON for API and htmx calls."""
from flask import jsonify, render_template
from flask_wtf.csrf import CSRFError

from desk.db import DatabaseUnavailable

_MESSAGES = {
    400: "La richiesta non è valida.",
    403: "Non hai i permessi per questa pagina.",
    404: "Pagina non trovata.",
    503: "Il database non è raggiungibile in questo momento. Riprova tra poco.",
}


def init_app(app) -> None:
    for code in (403, 404):
        app.register_error_handler(code, lambda error, code=code: _render(code))
    app.register_error_handler(CSRFError, lambda error: _render(400, "Il modulo è scaduto: ricarica la pagina e riprova."))
    app.register_error_handler(DatabaseUnavailable, lambda error: _render(503))


def _render(code: int, message: str = ""):
    from desk.web.auth import wants_json

    message = message or _MESSAGES[code]
    if wants_json():
        return jsonify(error=message), code
    return render_template("errors/error.html", code=code, message=message), code
