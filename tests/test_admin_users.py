"""The admin users page: only administrators; create, change role, deactivate and
reactivate, reset the password; the desk always keeps an active administrator."""
from __future__ import annotations

import pytest

from desk.models import Role
from desk.services import users
from desk.services.users import LastAdmin
from tests.support.desk import PASSWORD, log_in, make_user, post_form


def user_of(database, email):
    with database.session() as session:
        return users.find_by_email(session, email)


def test_only_admins_open_the_page(desk_login):
    assert desk_login(Role.OPERATOR).get("/admin/users").status_code == 403
    assert desk_login(Role.SUPERVISOR).get("/admin/users").status_code == 403
    page = desk_login(Role.ADMIN).get("/admin/users")
    assert page.status_code == 200 and "admin@sportello.example" in page.get_data(as_text=True)
    assert post_form(desk_login(Role.SUPERVISOR), "/admin/users", {"email": "x@sportello.example", "role": "admin",
                                                                  "password": PASSWORD}).status_code == 403


def test_an_admin_creates_a_user_who_can_log_in(seeded_database, desk_app, desk_login):
    admin = desk_login(Role.ADMIN)
    response = post_form(admin, "/admin/users", {"email": "Nuova@Sportello.Example", "display_name": "Nuova Operatrice",
                                                 "role": "supervisor", "password": "una-password-nuova"})
    assert response.status_code == 302
    created = user_of(seeded_database, "nuova@sportello.example")
    assert created.current_role is Role.SUPERVISOR and created.display_name == "Nuova Operatrice"
    assert log_in(desk_app.test_client(), "nuova@sportello.example", "una-password-nuova").status_code == 302


@pytest.mark.parametrize("form, message", [
    ({"email": "corta@sportello.example", "password": "corta"}, "almeno 10 caratteri"),
    ({"email": "non-una-email", "password": PASSWORD}, "deve essere un indirizzo email"),
    ({"email": "admin@sportello.example", "password": PASSWORD}, "Esiste già un utente"),
    ({"email": "ruolo@sportello.example", "password": PASSWORD, "role": "root"}, "Ruolo non valido"),
])
def test_invalid_new_users_are_refused_with_a_message(seeded_database, desk_login, form, message):
    admin = desk_login(Role.ADMIN)
    response = post_form(admin, "/admin/users", {"display_name": "X", "role": "operator", **form})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    if form["email"] != "admin@sportello.example":
        assert user_of(seeded_database, form["email"]) is None


def test_change_role_deactivate_reactivate_and_reset_password(seeded_database, desk_app, desk_login):
    admin = desk_login(Role.ADMIN)
    email = make_user(seeded_database, Role.OPERATOR, email="giulia@sportello.example")
    target = user_of(seeded_database, email)

    assert post_form(admin, f"/admin/users/{target.id}/role", {"role": "supervisor"}).status_code == 302
    assert user_of(seeded_database, email).current_role is Role.SUPERVISOR

    someone = desk_app.test_client()
    assert log_in(someone, email).status_code == 302
    post_form(admin, f"/admin/users/{target.id}/active", {"active": "0"})
    assert not user_of(seeded_database, email).active
    assert someone.get("/").status_code == 302  # the open session ends
    assert log_in(desk_app.test_client(), email).status_code == 401

    post_form(admin, f"/admin/users/{target.id}/active", {"active": "1"})
    assert log_in(desk_app.test_client(), email).status_code == 302

    page = post_form(admin, f"/admin/users/{target.id}/password", {"password": "breve"}, follow_redirects=True)
    assert "almeno 10 caratteri" in page.get_data(as_text=True)
    assert log_in(desk_app.test_client(), email).status_code == 302  # unchanged
    post_form(admin, f"/admin/users/{target.id}/password", {"password": "nuova-password-sicura"})
    assert log_in(desk_app.test_client(), email).status_code == 401
    assert log_in(desk_app.test_client(), email, "nuova-password-sicura").status_code == 302


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(seeded_database, desk_login):
    admin = desk_login(Role.ADMIN)
    me = user_of(seeded_database, "admin@sportello.example")
    page = post_form(admin, f"/admin/users/{me.id}/role", {"role": "operator"}, follow_redirects=True)
    assert "almeno un amministratore attivo" in page.get_data(as_text=True)
    page = post_form(admin, f"/admin/users/{me.id}/active", {"active": "0"}, follow_redirects=True)
    assert "almeno un amministratore attivo" in page.get_data(as_text=True)
    me = user_of(seeded_database, "admin@sportello.example")
    assert me.current_role is Role.ADMIN and me.active

    # With a second active admin, the first may step down.
    other = make_user(seeded_database, Role.ADMIN, email="secondo@sportello.example")
    assert post_form(admin, f"/admin/users/{me.id}/role", {"role": "supervisor"}).status_code == 302
    assert user_of(seeded_database, "admin@sportello.example").current_role is Role.SUPERVISOR
    assert admin.get("/admin/users").status_code == 302  # a role change ends the user's sessions
    assert log_in(admin, "admin@sportello.example").status_code == 302
    assert admin.get("/admin/users").status_code == 403  # no longer an admin
    assert user_of(seeded_database, other).current_role is Role.ADMIN


def test_the_service_counts_only_active_admins(seeded_database):
    with seeded_database.session() as session:
        first = users.create_user(session, "a1@sportello.example", "A1", PASSWORD, Role.ADMIN)
        second = users.create_user(session, "a2@sportello.example", "A2", PASSWORD, Role.ADMIN)
        users.set_active(session, second, False)
        with pytest.raises(LastAdmin):
            users.change_role(session, first, Role.OPERATOR)
        users.set_active(session, second, True)
        users.change_role(session, first, Role.OPERATOR)
        with pytest.raises(LastAdmin):
            users.set_active(session, second, False)
        assert users.count_admins(session) == 1
