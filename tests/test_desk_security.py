"""Start-up refusals and HTTP hardening: the development secret key, proxies and client
addresses, security headers, database errors without personal data."""
from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from bot.widget.gateway import WidgetGateway
from desk.config import PROJECT_ROOT, Settings
from desk.db import DatabaseUnavailable
from desk.services.rate_limit import MemoryRateLimiter
from desk.startup_checks import MIN_SECRET_KEY_LENGTH, UnsafeConfiguration, secret_key_problem
from desk.web import create_app
from desk.web.extensions import LIMITER_KEY, settings_of
from tests.support.desk import TEST_SECRET_KEY, desk_app_for, log_in
from tests.support.stack import VENV_BIN

STRONG_KEY = "k" * MIN_SECRET_KEY_LENGTH


# The secret key


def test_outside_development_the_default_or_a_short_key_is_refused():
    assert Settings.from_env({}).environment == "production"
    assert Settings.from_env({"DIALOGA_ENV": "development"}).environment == "development"
    assert "development value" in secret_key_problem(Settings())
    assert "fewer than 32" in secret_key_problem(Settings(secret_key=STRONG_KEY[:-1]))
    assert secret_key_problem(Settings(secret_key=STRONG_KEY)) is None
    assert secret_key_problem(Settings(environment="development")) is None


def test_the_desk_refuses_to_start_on_the_development_key(seeded_database):
    with pytest.raises(UnsafeConfiguration, match="DIALOGA_SECRET_KEY"):
        create_app(Settings(database_url=seeded_database.url), database=seeded_database)
    with pytest.raises(UnsafeConfiguration, match="fewer than 32"):
        create_app(Settings(database_url=seeded_database.url, secret_key="short-but-not-default"), database=seeded_database)
    development = create_app(Settings(database_url=seeded_database.url, environment="development"),
                             database=seeded_database)
    assert development.test_client().get("/login").status_code == 200


def _run(command, tmp_path, **environment):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DIALOGA_", "TELEGRAM_"))}
    env.update({"DIALOGA_DATABASE_URL": f"sqlite:///{tmp_path / 'dialoga.db'}",
                "DIALOGA_SPOOL_DIR": str(tmp_path / "spool")}, **environment)
    return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name, command, environment", [
    ("worker", [str(VENV_BIN / "dialoga"), "worker", "--once"], {}),
    ("telegram", [sys.executable, "-m", "bot.telegram"], {"TELEGRAM_BOT_TOKEN": "123:abc"}),
    ("desk", [str(VENV_BIN / "gunicorn"), "--workers", "1", "--bind", "127.0.0.1:0", "desk.web:create_app()"], {}),
])
def test_each_process_refuses_to_start_on_the_development_key(tmp_path, name, command, environment):
    refused = _run(command, tmp_path, **environment)
    assert refused.returncode != 0, name
    assert "refuses to start" in refused.stderr and "DIALOGA_SECRET_KEY" in refused.stderr, refused.stderr[-2000:]
    short = _run(command, tmp_path, DIALOGA_SECRET_KEY="too-short", **environment)
    assert short.returncode != 0 and "fewer than 32" in short.stderr, name


def test_the_worker_starts_in_development_mode_or_with_a_strong_key(tmp_path):
    command = [str(VENV_BIN / "dialoga"), "worker", "--once"]
    assert _run(command, tmp_path, DIALOGA_ENV="development").returncode == 0
    assert _run(command, tmp_path, DIALOGA_SECRET_KEY=TEST_SECRET_KEY).returncode == 0


def test_make_run_starts_in_development_mode():
    printed = subprocess.run(["make", "-n", "run"], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout
    assert "DIALOGA_ENV=${DIALOGA_ENV:-development} .venv/bin/honcho start" in printed


# Reverse proxies


def limited_app(database, **settings):
    """The desk with its rate-limit windows frozen in time, so that no window ends mid-test."""
    app = desk_app_for(database, **settings)
    app.extensions[LIMITER_KEY] = MemoryRateLimiter(clock=lambda: 1_000_000.0)
    widget = WidgetGateway.from_settings(settings_of(app))
    widget.limiter = MemoryRateLimiter(clock=lambda: 1_000_000.0)
    app.extensions["dialoga.widget"] = widget
    return app


def _widget_session(client, forwarded_for=None, remote_addr="10.0.0.1"):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/widget/api/session", json={"lang": "it"}, headers=headers,
                       environ_base={"REMOTE_ADDR": remote_addr}).status_code


def test_behind_one_proxy_x_forwarded_for_decides_the_rate_limit_key(seeded_database):
    client = limited_app(seeded_database, proxy_hops=1, widget_sessions_per_minute=1).test_client()
    assert _widget_session(client, "203.0.113.1") == 201
    assert _widget_session(client, "203.0.113.2") == 201  # another user behind the same proxy
    assert _widget_session(client, "203.0.113.1") == 429
    assert _widget_session(client, "198.51.100.9, 203.0.113.2") == 429  # only the proxy's own entry counts


def test_without_proxies_x_forwarded_for_is_ignored(seeded_database):
    client = limited_app(seeded_database, widget_sessions_per_minute=1).test_client()
    assert Settings.from_env({}).proxy_hops == 0
    assert _widget_session(client, "203.0.113.1") == 201
    assert _widget_session(client, "203.0.113.2") == 429  # same socket address: the header changes nothing
    assert _widget_session(client, "203.0.113.2", remote_addr="10.0.0.2") == 201


def test_behind_one_proxy_login_throttling_counts_per_forwarded_address(seeded_database):
    app = limited_app(seeded_database, proxy_hops=1, login_attempts_per_minute=1)
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.1"
    assert log_in(client, "nessuno@sportello.example", "sbagliata!!").status_code == 401
    assert log_in(client, "nessuno@sportello.example", "sbagliata!!").status_code == 429
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.2"
    assert log_in(client, "nessuno@sportello.example", "sbagliata!!").status_code == 401


# Security headers


def test_desk_pages_carry_a_strict_content_security_policy_and_hardening_headers(seeded_database):
    client = desk_app_for(seeded_database).test_client()
    for path in ("/login", "/widget/demo", "/privacy", "/healthz"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, path
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, path
        assert "frame-ancestors 'none'" in policy and headers["X-Frame-Options"] == "DENY", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert "Strict-Transport-Security" not in headers, path  # the desk is not public over https


def test_hsts_and_a_cookie_warning_when_the_public_url_is_https(seeded_database, caplog):
    with caplog.at_level(logging.WARNING, logger="desk.web.security"):
        app = desk_app_for(seeded_database, public_url="https://desk.example")
    assert app.test_client().get("/login").headers["Strict-Transport-Security"].startswith("max-age=")
    assert any("DIALOGA_SECURE_COOKIES" in record.getMessage() for record in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="desk.web.security"):
        desk_app_for(seeded_database, public_url="https://desk.example", secure_cookies=True)
    assert not caplog.records


def test_templates_have_no_inline_scripts_styles_or_handlers():
    import re

    offending = []
    for template in (PROJECT_ROOT / "desk" / "web" / "templates").rglob("*.html"):
        html = template.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")", r"<style", r"\sstyle=",
                        r"\son[a-z]+\s*=", r"javascript:"):
            if re.search(pattern, html, re.IGNORECASE):
                offending.append((template.name, pattern))
    assert offending == []


def test_the_widget_script_needs_no_unsafe_csp_source():
    import re

    script = (PROJECT_ROOT / "bot" / "widget" / "widget.js").read_text(encoding="utf-8")
    for pattern in (r"\beval\(", r"new Function\(", r"setTimeout\(\s*['\"]", r"setInterval\(\s*['\"]",
                    r"\.innerHTML\b", r"\.outerHTML\b", r"insertAdjacentHTML", r"setAttribute\(\s*['\"]on",
                    r"setAttribute\(\s*['\"]style"):
        assert not re.search(pattern, script), pattern
    assert "adoptedStyleSheets" in script  # styles without a <style> element where browsers allow


# Database errors


def test_a_failing_statement_does_not_carry_its_parameters(database):
    secret = "maria.rossi.personale@example.org"
    with pytest.raises(DatabaseUnavailable) as failure:
        with database.session() as session:
            session.execute(text("INSERT INTO no_such_table (email) VALUES (:email)"), {"email": secret})
    assert "no_such_table" in str(failure.value)  # the statement is still there to debug with
    assert secret not in str(failure.value) and secret not in str(failure.value.__cause__)
