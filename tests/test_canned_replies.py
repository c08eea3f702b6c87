"""Canned replies: supervisors manage them (operators may not), operators insert them in replies."""
from __future__ import annotations

import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from desk.models import CannedReply, Role
from desk.services import canned
from desk.services.canned import InvalidCannedReply
from tests.support.desk import post_form
from tests.support.queue import open_ticket

SUPERVISOR = "supervisor@sportello.example"


def stored(database):
    with database.session() as session:
        return [(r.title, r.body, r.language, r.active, r.created_by, r.updated_by)
                for r in session.scalars(select(CannedReply).order_by(CannedReply.id))]


def test_supervisors_create_edit_deactivate_and_reactivate(seeded_database, desk_login):
    client = desk_login(Role.SUPERVISOR)
    assert client.get("/risposte-predefinite").status_code == 200
    assert client.get("/risposte-predefinite/nuova").status_code == 200
    response = post_form(client, "/risposte-predefinite/nuova",
                         {"title": "Saluto", "language": "it", "body": "Gentile {nome}, grazie per averci scritto."})
    assert response.status_code == 302 and response.headers["Location"] == "/risposte-predefinite"
    listing = client.get("/risposte-predefinite").get_data(as_text=True)
    assert "Risposta predefinita «Saluto» creata." in listing and "Gentile {nome}" in listing
    (reply_id,) = [int(n) for n in re.findall(r"/risposte-predefinite/(\d+)/modifica", listing)]

    edit_page = client.get(f"/risposte-predefinite/{reply_id}/modifica").get_data(as_text=True)
    assert 'value="Saluto"' in edit_page
    post_form(client, f"/risposte-predefinite/{reply_id}/modifica",
              {"title": "Greeting", "language": "en", "body": "Dear {nome}, thank you ({riferimento})."})
    assert stored(seeded_database) == [
        ("Greeting", "Dear {nome}, thank you ({riferimento}).", "en", True, SUPERVISOR, SUPERVISOR)]

    post_form(client, f"/risposte-predefinite/{reply_id}/disattiva")
    assert stored(seeded_database)[0][3] is False
    assert "disattivata" in client.get("/risposte-predefinite").get_data(as_text=True)
    post_form(client, f"/risposte-predefinite/{reply_id}/riattiva")
    assert stored(seeded_database)[0][3] is True


def test_an_incomplete_canned_reply_is_refused_with_its_errors(seeded_database, desk_login):
    client = desk_login(Role.SUPERVISOR)
    response = post_form(client, "/risposte-predefinite/nuova", {"title": "  ", "language": "fr", "body": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Scrivi un titolo." in html and "Scrivi il testo." in html and "Scegli italiano o inglese." in html
    assert stored(seeded_database) == []
    assert client.get("/risposte-predefinite/999/modifica").status_code == 404


def test_operators_cannot_manage_canned_replies(seeded_database, desk_login):
    with seeded_database.session() as session:
        reply_id = canned.create(session, "Saluto", "Buongiorno", "it", SUPERVISOR).id
    client = desk_login(Role.OPERATOR)
    assert client.get("/risposte-predefinite").status_code == 403
    assert client.get("/risposte-predefinite/nuova").status_code == 403
    assert client.get(f"/risposte-predefinite/{reply_id}/modifica").status_code == 403
    for path, data in (("/risposte-predefinite/nuova", {"title": "x", "language": "it", "body": "y"}),
                       (f"/risposte-predefinite/{reply_id}/modifica", {"title": "x", "language": "it", "body": "y"}),
                       (f"/risposte-predefinite/{reply_id}/disattiva", {})):
        assert post_form(client, path, data).status_code == 403, path
    assert stored(seeded_database) == [("Saluto", "Buongiorno", "it", True, SUPERVISOR, SUPERVISOR)]
    assert "Risposte predefinite" not in client.get("/").get_data(as_text=True)  # not in the operator's menu


def test_operators_find_active_canned_replies_in_the_composer_filled_for_the_ticket(seeded_database, desk_login):
    with seeded_database.session() as session:
        canned.create(session, "Welcome", "Dear {nome}, your request {riferimento} is with us.", "en", SUPERVISOR)
        canned.create(session, "Saluto", "Gentile {nome}, la richiesta {riferimento} è in lavorazione.", "it", SUPERVISOR)
        retired = canned.create(session, "Vecchio testo", "Non usare più", "it", SUPERVISOR)
        canned.set_active(session, retired, False, SUPERVISOR)
    ref = open_ticket(seeded_database, "composer")
    html = desk_login(Role.OPERATOR).get(f"/ticket/{ref}").get_data(as_text=True)
    filled = f"Gentile Maria Rossi, la richiesta {ref} è in lavorazione."
    assert f'data-text="{escape(filled)}"' in html
    titles = re.findall(r'<option value="\d+" data-text="[^"]*">([^<]+)</option>', html)
    assert titles == ["Saluto (it)", "Welcome (en)"]  # the ticket's language first; retired ones hidden
    assert "Non usare più" not in html


def test_the_service_checks_what_it_stores(seeded_database):
    with seeded_database.session() as session:
        with pytest.raises(InvalidCannedReply):
            canned.create(session, "", "testo", "it", SUPERVISOR)
        with pytest.raises(InvalidCannedReply):
            canned.create(session, "titolo", "testo", "de", SUPERVISOR)
        assert canned.fill("Ciao {nome} {x} {riferimento}", "Anna", "DC-1") == "Ciao Anna {x} DC-1"
