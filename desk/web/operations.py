"""Production plumbing of the desk's web app: the request id of every request, the proxy's
forwarded headers, and GET /metrics (Prometheus)."""
from __future__ import annotations

import ipaddress
import secrets
from flask import Blueprint, Flask, Response, abort, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from desk.models.base import utcnow
from desk.ops import metrics
from desk.ops.request_context import (REQUEST_ID_HEADER, configure_logging, new_request_id, reset_request_id,
                                      set_request_id, valid_request_id)
from desk.topics import topic_ids
from desk.web.extensions import csrf, database_of, settings_of

blueprint = Blueprint("operations", __name__)
csrf.exempt(blueprint)


def init_app(app: Flask) -> None:
    settings = settings_of(app)
    configure_logging(settings.log_format)
    if settings.behind_proxy:
        # One proxy (nginx) in front: its X-Forwarded-For is the client, X-Forwarded-Proto the scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)

    @app.before_request
    def _request_id():
        g.request_id = valid_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
        g.request_id_token = set_request_id(g.request_id)

    @app.after_request
    def _request_id_header(response):
        if "request_id" in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response

    @app.teardown_request
    def _forget_request_id(_error=None):
        token = g.pop("request_id_token", None)
        if token is not None:
            reset_request_id(token)


def _loopback_without_proxy() -> bool:
    if request.headers.get("X-Forwarded-For"):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _authorised() -> bool:
    token = settings_of(current_app).metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        return given.startswith("Bearer ") and secrets.compare_digest(given[len("Bearer "):], token)
    return _loopback_without_proxy()


def _tracker_store():
    from desk.services.privacy.purge import open_tracker_store

    extensions = current_app.extensions
    if "dialoga.metrics_tracker_store" not in extensions:
        extensions["dialoga.metrics_tracker_store"] = open_tracker_store(settings_of(current_app))
    return extensions["dialoga.metrics_tracker_store"]


@blueprint.get("/metrics")
def scrape():
    if not _authorised():
        abort(404)  # says nothing about the endpoint to whoever may not read it
    tracker_store = _tracker_store()
    by_intent = tracker_store.user_messages_by_intent() if tracker_store else None
    with database_of(current_app).session() as session:
        figures = metrics.collect(session, utcnow(), topic_ids(), by_intent)
    return Response(metrics.exposition(figures), mimetype="text/plain; version=0.0.4; charset=utf-8")
