"""HTTP hardening of every desk response: Content-Security-Policy without inline code,
no framing, no MIME sniffing, no referrer to other sites, HSTS when the desk is public over
HTTPS; and the client's address as seen through a configured number of reverse proxies."""
from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from desk.config import Settings
from desk.startup_checks import cookie_warnings

log = logging.getLogger(__name__)

# Scripts and styles only from the desk's own files: no inline <script>, <style>, style=""
# or on...="" handlers, no eval. htmx is told not to inject its indicator styles (base.html).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000"


def security_headers(settings: Settings) -> dict:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }
    if settings.public_url.lower().startswith("https://"):
        headers["Strict-Transport-Security"] = HSTS
    return headers


def trust_proxies(app: Flask, hops: int) -> None:
    """Behind `hops` reverse proxies, the client's address (rate limits) and scheme come from
    the X-Forwarded-For/-Proto entries they append; with 0 those headers are ignored."""
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def init_app(app: Flask, settings: Settings) -> None:
    trust_proxies(app, settings.proxy_hops)
    headers = security_headers(settings)

    @app.after_request
    def add_security_headers(response):
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    for warning in cookie_warnings(settings):
        log.warning(warning)
