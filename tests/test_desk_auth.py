"""Logging in to the desk: hashing, lockout, throttling, sessions that end, CSRF, safe redirects;
every route refuses anonymous users and users below its declared role."""
import re
import threading
from datetime import timedelta

import pytest
from werkzeug.routing import Rule

from desk.db import Database
from desk.models import Role
from desk.models.base import utcnow
from desk.services import users
from desk.services.rate_limit import MemoryRateLimiter
from desk.services.users import FIRST_LOCKOUT, MAX_FAILED_LOGINS, MAX_LOCKOUT, LoginOutcome, WeakPassword
from desk.web.extensions import LIMITER_KEY
from tests.support.databases import truncate_all
from tests.support.desk import PASSWORD, csrf_token_of, desk_app_for, log_in, make_user, post_form

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
        later = now + FIRST_LOCKOUT + timedelta(seconds=1)
        assert users.authenticate(session, "op@sportello.example", PASSWORD, later).outcome is LoginOutcome.OK
        assert users.find_by_email(session, "op@sportello.example").failed_logins == 0


def test_locks_double_up_to_a_cap_and_attempts_during_a_lock_do_not_count(seeded_database):
    assert [users.lockout_after(n) for n in range(1, MAX_FAILED_LOGINS)] == [None] * (MAX_FAILED_LOGINS - 1)
    assert users.lockout_after(MAX_FAILED_LOGINS) == FIRST_LOCKOUT
    assert users.lockout_after(MAX_FAILED_LOGINS + 1) == 2 * FIRST_LOCKOUT
    assert users.lockout_after(MAX_FAILED_LOGINS + 2) == 4 * FIRST_LOCKOUT
    assert users.lockout_after(MAX_FAILED_LOGINS + 100) == MAX_LOCKOUT
    now = utcnow()
    with seeded_database.session() as session:
        users.create_user(session, "op@sportello.example", "Op", PASSWORD, Role.OPERATOR)
        for _ in range(MAX_FAILED_LOGINS):
            users.authenticate(session, "op@sportello.example", "sbagliata!!", now)
        for _ in range(10):  # refused while locked, not counted
            assert users.authenticate(session, "op@sportello.example", "sbagliata!!", now).outcome is LoginOutcome.LOCKED
        user = users.find_by_email(session, "op@sportello.example")
        assert user.failed_logins == MAX_FAILED_LOGINS and user.locked_until == now + FIRST_LOCKOUT
        after_lock = now + FIRST_LOCKOUT + timedelta(seconds=1)
        result = users.authenticate(session, "op@sportello.example", "sbagliata!!", after_lock)
        assert result.outcome is LoginOutcome.LOCKED and result.locked_until == after_lock + 2 * FIRST_LOCKOUT


def test_parallel_wrong_passwords_each_count_on_postgresql(postgres_url):
    """Concurrent attempts must not overwrite each other's count (read-modify-write would)."""
    database = Database(postgres_url)
    truncate_all(database)
    attempts = MAX_FAILED_LOGINS - 1
    try:
        make_user(database, Role.OPERATOR)
        start = threading.Barrier(attempts)
        outcomes = []

        def wrong_password() -> None:
            start.wait()
            with database.session() as session:
                outcomes.append(users.authenticate(session, "operator@sportello.example", "sbagliata!!").outcome)

        threads = [threading.Thread(target=wrong_password) for _ in range(attempts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes == [LoginOutcome.BAD_CREDENTIALS] * attempts
        with database.session() as session:
            assert users.find_by_email(session, "operator@sportello.example").failed_logins == attempts
            assert users.authenticate(session, "operator@sportello.example", "sbagliata!!").outcome is LoginOutcome.LOCKED
    finally:
        database.dispose()


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


def _normalised(response, email: str) -> str:
    """The page as the visitor sees it, without what differs by construction (token, typed e-mail)."""
    html = response.get_data(as_text=True).replace(email, "EMAIL")
    return re.sub(r'name="csrf[-_]token"[^>]*', "CSRF", html)


def test_locked_accounts_unknown_logins_and_wrong_passwords_get_the_same_answer(desk_app, seeded_database):
    email = make_user(seeded_database, Role.OPERATOR)
    wrong = log_in(desk_app.test_client(), email, "sbagliata!!")
    unknown = log_in(desk_app.test_client(), "nessuno@sportello.example", "sbagliata!!")
    for _ in range(MAX_FAILED_LOGINS - 1):
        log_in(desk_app.test_client(), email, "sbagliata!!")
    locked = log_in(desk_app.test_client(), email)  # the right password, on a locked account
    assert wrong.status_code == unknown.status_code == locked.status_code == 401
    assert "Email o password non corrette" in wrong.get_data(as_text=True)
    assert _normalised(locked, email) == _normalised(unknown, "nessuno@sportello.example") == _normalised(wrong, email)
    with seeded_database.session() as session:
        assert users.find_by_email(session, email).locked_until is not None  # it is locked indeed


def test_an_administrator_unlocks_a_locked_account(desk_app, seeded_database, desk_login):
    email = make_user(seeded_database, Role.OPERATOR)
    for _ in range(MAX_FAILED_LOGINS):
        log_in(desk_app.test_client(), email, "sbagliata!!")
    assert log_in(desk_app.test_client(), email).status_code == 401
    admin = desk_login(Role.ADMIN)
    with seeded_database.session() as session:
        user_id = users.find_by_email(session, email).id
    assert "Sblocca" in admin.get("/admin/users").get_data(as_text=True)
    response = post_form(admin, f"/admin/users/{user_id}/unlock", page="/admin/users")
    assert response.status_code == 302
    assert log_in(desk_app.test_client(), email).status_code == 302


def test_login_attempts_are_throttled_per_client_address(seeded_database):
    app = desk_app_for(seeded_database, login_attempts_per_minute=3)
    app.extensions[LIMITER_KEY] = MemoryRateLimiter(clock=lambda: 1_000_000.0)  # no window ends mid-test
    email = make_user(seeded_database, Role.OPERATOR)
    client = app.test_client()
    for _ in range(3):
        assert log_in(client, "nessuno@sportello.example", "sbagliata!!").status_code == 401
    throttled = log_in(client, email)  # even the right password: the address is over its limit
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert "Troppi tentativi" in throttled.get_data(as_text=True)
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert log_in(elsewhere, email).status_code == 302


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


# Sessions that end: a copy of the session cookie, taken while logged in, is replayed afterwards.

def _copy_of_session(app, client):
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/").status_code == 200  # the copy works while the session is valid
    return thief


def _operator_id(database) -> int:
    with database.session() as session:
        return users.find_by_email(session, "operator@sportello.example").id


def test_a_copied_cookie_stops_working_after_logout(desk_app, desk_login):
    operator = desk_login(Role.OPERATOR)
    thief = _copy_of_session(desk_app, operator)
    assert post_form(operator, "/logout").status_code == 302
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert desk_login(Role.OPERATOR).get("/").status_code == 200  # logging in again works


@pytest.mark.parametrize("change, form", [
    ("password", {"password": "un-altra-password-lunga"}),
    ("role", {"role": Role.SUPERVISOR.value}),
    ("active", {"active": "0"}),
])
def test_a_copied_cookie_stops_working_after_an_administrator_changes_the_account(
        desk_app, seeded_database, desk_login, change, form):
    operator = desk_login(Role.OPERATOR)
    thief = _copy_of_session(desk_app, operator)
    admin = desk_login(Role.ADMIN)
    response = post_form(admin, f"/admin/users/{_operator_id(seeded_database)}/{change}", form, page="/admin/users")
    assert response.status_code == 302
    for client in (thief, operator):
        response = client.get("/")
        assert response.status_code == 302 and "/login" in response.headers["Location"], change
    assert admin.get("/").status_code == 200  # the administrator's own session is untouched


# Route access. Every route of the app, with every method, is either public (PUBLIC_ENDPOINTS) or
# declared here with the least role that may use it (operator < supervisor < admin). A new route
# that is in neither fails test_every_route_is_public_or_has_a_declared_role.
PUBLIC_ENDPOINTS = {
    "auth.login", "health.healthz", "public.privacy", "static", "telegram_webhook.receive",
    "widget.script", "widget.demo", "widget.hours", "widget.new_session", "widget.send_message", "widget.updates",
    "widget.notices_by_email",  # the widget session's signed token, like the other widget endpoints
    # an update notice e-mail's unsubscribe link: the signed token is the credential (tests/test_update_notices_email.py)
    "public.unsubscribe",
    # users' follow-up pages: a signed, expiring link is the credential (tests/test_follow_up_page.py)
    "follow_up.show", "follow_up.answer", "follow_up.close",
    # the model server: the assistants' own token is the credential (tests/test_models_page.py)
    "models.live_model",
    # the map of local service points (tests/test_service_point_map.py)
    "public.service_points",
    # Prometheus metrics: a token, or loopback without a proxy (tests/test_operations.py)
    "operations.scrape",
}
LEAST_ROLE = {
    "home.index": Role.OPERATOR,
    "auth.logout": Role.OPERATOR,
    "queue.index": Role.OPERATOR,
    "queue.results": Role.OPERATOR,
    "queue.next_ticket": Role.OPERATOR,
    "tickets.show": Role.OPERATOR,
    "tickets.timeline": Role.OPERATOR,
    "tickets.attachment": Role.OPERATOR,
    "tickets.take": Role.OPERATOR,
    "tickets.assign": Role.OPERATOR,
    "tickets.change_status": Role.OPERATOR,
    "tickets.note": Role.OPERATOR,
    "tickets.reply": Role.OPERATOR,
    "tickets.change_contact": Role.OPERATOR,
    "knowledge.index": Role.OPERATOR,
    "knowledge.edit": Role.OPERATOR,
    "knowledge.save": Role.OPERATOR,
    "knowledge.preview": Role.OPERATOR,
    "knowledge.versions": Role.OPERATOR,
    "knowledge.revert": Role.OPERATOR,
    "knowledge.deadlines": Role.OPERATOR,
    "knowledge.verified": Role.OPERATOR,
    "directory.index": Role.OPERATOR,
    "directory.create": Role.OPERATOR,
    "directory.edit": Role.OPERATOR,
    "directory.delete": Role.SUPERVISOR,
    "learning.index": Role.OPERATOR,
    "learning.preview_label": Role.OPERATOR,
    "learning.confirm_label": Role.OPERATOR,
    "learning.create_draft": Role.OPERATOR,
    "learning.dismiss": Role.OPERATOR,
    "learning.draft_status": Role.OPERATOR,
    "learning.preview_clarification": Role.OPERATOR,
    "learning.reject_clarification": Role.OPERATOR,
    "canned.index": Role.SUPERVISOR,
    "canned.create": Role.SUPERVISOR,
    "canned.edit": Role.SUPERVISOR,
    "canned.deactivate": Role.SUPERVISOR,
    "canned.reactivate": Role.SUPERVISOR,
    "reports.index": Role.SUPERVISOR,
    "reports.export": Role.SUPERVISOR,
    "models.index": Role.SUPERVISOR,
    "models.status": Role.SUPERVISOR,
    "models.train": Role.SUPERVISOR,
    "models.promote": Role.SUPERVISOR,
    "privacy.index": Role.SUPERVISOR,
    "privacy.run_purge": Role.SUPERVISOR,
    "privacy.person": Role.ADMIN,
    "privacy.search": Role.ADMIN,
    "privacy.export": Role.ADMIN,
    "privacy.erase": Role.ADMIN,
    "check_parameters.index": Role.SUPERVISOR,
    "check_parameters.edit": Role.SUPERVISOR,
    "check_parameters.save": Role.SUPERVISOR,
    "check_parameters.new_period": Role.SUPERVISOR,
    "check_parameters.create_period": Role.SUPERVISOR,
    "check_parameters.versions": Role.SUPERVISOR,
    "admin.users": Role.ADMIN,
    "admin.create_user": Role.ADMIN,
    "admin.change_role": Role.ADMIN,
    "admin.set_active": Role.ADMIN,
    "admin.reset_password": Role.ADMIN,
    "admin.unlock": Role.ADMIN,
}
ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)


def _example_path(rule: Rule) -> str:
    values = {}
    for argument in rule.arguments:
        converter = rule._converters[argument]
        values[argument] = 1 if type(converter).__name__ in ("IntegerConverter", "NumberConverter") else "x"
    return rule.build(values, append_unknown=False)[1]


def _protected_requests(app):
    """(endpoint, method, path) for every method of every non-public rule."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, _example_path(rule)


def _send(client, method: str, path: str, token: str, **headers):
    """A request with the session's real CSRF token, so that a refusal comes from the access check."""
    data = {"csrf_token": token} if method != "GET" else None
    return client.open(path, method=method, data=data, headers={"X-CSRFToken": token, **headers})


def test_every_route_is_public_or_has_a_declared_role(desk_app):
    endpoints = {rule.endpoint for rule in desk_app.url_map.iter_rules()}
    undeclared = endpoints - PUBLIC_ENDPOINTS - set(LEAST_ROLE)
    assert not undeclared, f"declare the least role of these routes in LEAST_ROLE: {sorted(undeclared)}"
    assert set(LEAST_ROLE) <= endpoints and PUBLIC_ENDPOINTS <= endpoints  # no stale declarations
    for endpoint, role in LEAST_ROLE.items():  # role_required, where used, says the same
        assert getattr(desk_app.view_functions[endpoint], "least_role", role) is role, endpoint


def test_every_protected_route_and_method_refuses_anonymous_users(desk_app):
    client = desk_app.test_client()
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    checked = set()
    for endpoint, method, path in _protected_requests(desk_app):
        response = _send(client, method, path, token)
        assert response.status_code == 302, (method, path, response.status_code)
        assert response.headers["Location"].startswith("/login"), (method, path)
        response = _send(client, method, path, token, Accept="application/json", **{"HX-Request": "true"})
        assert response.status_code == 401, (method, path, response.status_code)
        checked.add((endpoint, method))
    assert {endpoint for endpoint, _ in checked} == set(LEAST_ROLE)
    assert ("admin.set_active", "POST") in checked and ("canned.reactivate", "POST") in checked


def test_every_protected_route_and_method_refuses_roles_below_its_own(desk_app, desk_login):
    clients = {role: desk_login(role) for role in ROLES}
    tokens = {role: csrf_token_of(client.get("/").get_data(as_text=True)) for role, client in clients.items()}
    refused = set()
    for endpoint, method, path in _protected_requests(desk_app):
        for role in ROLES:
            if role.includes(LEAST_ROLE[endpoint]):
                continue
            response = _send(clients[role], method, path, tokens[role])
            assert response.status_code == 403, (role, method, path, response.status_code)
            refused.add((endpoint, method, role))
    expected = {(endpoint, method, role) for endpoint, method, _ in _protected_requests(desk_app)
                for role in ROLES if not role.includes(LEAST_ROLE[endpoint])}
    assert refused == expected and len(expected) > 20
    for role, client in clients.items():  # nobody was logged out on the way
        assert client.get("/").status_code == 200, role


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
