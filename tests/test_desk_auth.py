"""Logging in to the desk: hashing, lockout, sessions, CSRF, safe redirects; every route
refuses anonymous users and users below its role."""
from datetime import timedelta

import pytest
from werkzeug.routing import Rule

from desk.models import Role
from desk.models.base import utcnow
from desk.services import users
from desk.services.users import LOCKOUT, MAX_FAILED_LOGINS, LoginOutcome, WeakPassword
from tests.support.desk import PASSWORD, csrf_token_of, log_in, make_user, post_form

# Pages anyone may open: login, health, the privacy notice linked from chats, static files and
# the widget's own endpoints (with their demo page), users' follow-up pages (signed links); the
# model server (/models/) asks for its own token instead of a session (tests/test_models_page.py), and
# so do the metrics (/metrics: a token, or loopback without a proxy; tests/test_operations.py).
PUBLIC_PREFIXES = ("/login", "/healthz", "/privacy", "/static/", "/widget", "/demo", "/telegram/", "/seguito/",
                   "/models/", "/metrics")


def test_passwords_are_stored_hashed_and_checked(seeded_database):
    with seeded_database.session() as session:
        user = users.create_user(session, " Anna@Sportello.Example ", "Anna", PASSWORD, Role.OPERATOR)
        assert user.email == "anna@sportello.example"
        assert PASSWORD not in user.password_hash and user.password_hash.startswith("scrypt:")
        assert users.authenticate(session, "anna@sportello.example", PASSWORD).outcome is LoginOutcome.OK
        assert users.authenticate(session, "ANNA@sportello.example", "sbagliata!!").outcome is LoginOutcome.BAD_CREDENTIALS
        assert users.authenticate(session, "nessuno@sportello.example", PASSWORD).outcome is LoginOutcome.BAD_CREDENTIALS


def test_short_passwords_and_duplicate_logins_are_refused(seeded_database):
    with seeded_database.session() as session:
        with pytest.raises(WeakPassword):
            users.create_user(session, "a@b.example", "A", "corta", Role.OPERATOR)
        users.create_user(session, "a@b.example", "A", PASSWORD, Role.OPERATOR)
        with pytest.raises(ValueError):
            users.create_user(session, "A@b.example", "A", PASSWORD, Role.ADMIN)


def test_repeated_failures_lock_the_account_even_for_the_right_password(seeded_database):
    now = utcnow()
    with seeded_database.session() as session:
        users.create_user(session, "op@sportello.example", "Op", PASSWORD, Role.OPERATOR)
        for _ in range(MAX_FAILED_LOGINS - 1):
            assert users.authenticate(session, "op@sportello.example", "sbagliata!!", now).outcome is LoginOutcome.BAD_CREDENTIALS
        assert users.authenticate(session, "op@sportello.example", "sbagliata!!", now).outcome is LoginOutcome.LOCKED
        assert users.authenticate(session, "op@sportello.example", PASSWORD, now).outcome is LoginOutcome.LOCKED
        later = now + LOCKOUT + timedelta(seconds=1)
        assert users.authenticate(session, "op@sportello.example", PASSWORD, later).outcome is LoginOutcome.OK


def test_the_login_page_logs_in_and_out(desk_app, seeded_database):
    email = make_user(seeded_database, Role.OPERATOR, name="Giulia Operatrice")
    client = desk_app.test_client()
    assert client.get("/").status_code == 302
    response = log_in(client, email)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Giulia Operatrice" in home
    response = post_form(client, "/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_says_so_without_telling_which_part_was_wrong(desk_app, seeded_database):
    email = make_user(seeded_database, Role.OPERATOR)
    client = desk_app.test_client()
    response = log_in(client, email, "sbagliata!!")
    assert response.status_code == 401
    assert "Email o password non corrette" in response.get_data(as_text=True)
    response = log_in(client, "nessuno@sportello.example", "sbagliata!!")
    assert "Email o password non corrette" in response.get_data(as_text=True)


def test_the_web_login_locks_out_after_repeated_failures(desk_app, seeded_database):
    email = make_user(seeded_database, Role.OPERATOR)
    client = desk_app.test_client()
    for _ in range(MAX_FAILED_LOGINS):
        log_in(client, email, "sbagliata!!")
    response = log_in(client, email)
    assert response.status_code == 401
    assert "bloccato" in response.get_data(as_text=True)


def test_a_login_without_the_csrf_token_is_refused(desk_app, seeded_database):
    email = make_user(seeded_database, Role.OPERATOR)
    client = desk_app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code in (200, 400)
    assert client.get("/").status_code == 302  # still anonymous


def test_next_only_leads_to_pages_of_the_desk(desk_app, seeded_database):
    email = make_user(seeded_database, Role.OPERATOR)
    client = desk_app.test_client()
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=https://evil.example/x", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"
    client = desk_app.test_client()
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=//evil.example/x", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_session_cookie_is_http_only_and_secure_when_configured(seeded_database):
    from tests.support.desk import desk_app_for

    app = desk_app_for(seeded_database, secure_cookies=True, session_minutes=30)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=30)
    client = app.test_client()
    log_in(client, make_user(seeded_database, Role.OPERATOR))
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.secure and cookie.expires is not None


def test_a_deactivated_user_is_logged_out(desk_app, seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    assert client.get("/").status_code == 200
    with seeded_database.session() as session:
        user = users.find_by_email(session, "operator@sportello.example")
        users.set_role(session, user, Role.OPERATOR, active=False)
    assert client.get("/").status_code == 302


def _example_path(rule: Rule) -> str:
    values = {}
    for argument in rule.arguments:
        converter = rule._converters[argument]
        values[argument] = 1 if type(converter).__name__ in ("IntegerConverter", "NumberConverter") else "x"
    return rule.build(values, append_unknown=False)[1]


def _desk_rules(app):
    for rule in app.url_map.iter_rules():
        path = _example_path(rule)
        if not path.startswith(PUBLIC_PREFIXES):
            yield rule, path


def test_every_desk_route_refuses_anonymous_users(desk_app):
    client = desk_app.test_client()
    checked = 0
    for rule, path in _desk_rules(desk_app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            if method == "GET":
                assert response.status_code == 302 and "/login" in response.headers["Location"], (method, path)
            else:
                # A POST without a session is stopped by CSRF (400) or the login check (302/401).
                assert response.status_code in (302, 400, 401), (method, path, response.status_code)
            json_response = client.open(path, method=method, headers={"Accept": "application/json", "HX-Request": "true"})
            assert json_response.status_code in (400, 401), (method, path, json_response.status_code)
            checked += 1
    assert checked >= 2


def test_every_role_restricted_route_refuses_lower_roles(desk_app, desk_login):
    clients = {role: desk_login(role) for role in (Role.OPERATOR, Role.SUPERVISOR)}
    for rule, path in _desk_rules(desk_app):
        least_role = getattr(desk_app.view_functions[rule.endpoint], "least_role", None)
        if least_role is None or "GET" not in rule.methods:
            continue
        for role, client in clients.items():
            response = client.get(path)
            if not role.includes(least_role):
                assert response.status_code == 403, (role, path)


def test_the_first_admin_is_created_from_the_command_line(seeded_database, monkeypatch):
    from click.testing import CliRunner

    from desk.cli import main

    monkeypatch.setenv("DIALOGA_DATABASE_URL", seeded_database.url)
    result = CliRunner().invoke(
        main, ["users", "create", "--email", "capo@sportello.example", "--name", "Capo", "--role", "admin",
               "--password", PASSWORD],
    )
    assert result.exit_code == 0, result.output
    with seeded_database.session() as session:
        assert users.find_by_email(session, "capo@sportello.example").current_role is Role.ADMIN
    result = CliRunner().invoke(main, ["users", "create", "--email", "x@sportello.example", "--password", "corta"])
    assert result.exit_code != 0 and "10 characters" in result.output
