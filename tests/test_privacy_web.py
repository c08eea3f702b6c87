"""The desk's personal-data pages through Flask's test client, on SQLite and PostgreSQL:
who may open them, what the retention page shows and runs, a person's data found, downloaded
and erased; and the public notice stating the configured facts."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from desk.models import PrivacyRequest, PrivacyRun, Role, Ticket
from desk.models.base import utcnow
from desk.services.privacy.retention import identity_hash
from tests.support.desk import desk_app_for, post_form
from tests.support.privacy import GIULIA, OTHER, find_everywhere, give_data

OPENED = datetime(2026, 11, 23, 8, 0)
from tests.support.desk import TEST_SECRET_KEY as SECRET  # the key the test app runs with


@pytest.fixture
def people(seeded_database):
    refs = {person: give_data(seeded_database, person, OPENED, 4000 + n) for n, person in enumerate((GIULIA, OTHER))}
    return seeded_database, refs


def test_only_supervisors_see_the_retention_page_and_only_admins_a_persons_data(desk_login):
    operator, supervisor, admin = (desk_login(role) for role in (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN))
    assert operator.get("/dati-personali/").status_code == 403
    assert post_form(operator, "/dati-personali/pulizia", {"dry_run": "1"}).status_code == 403
    assert supervisor.get("/dati-personali/").status_code == 200
    assert supervisor.get("/dati-personali/persona").status_code == 403
    for url in ("/dati-personali/persona", "/dati-personali/persona/esporta", "/dati-personali/persona/cancella"):
        response = post_form(supervisor, url, {"kind": "contact", "value": GIULIA.email, "confirm": "CANCELLA"})
        assert response.status_code == 403, url
    assert admin.get("/dati-personali/persona").status_code == 200
    assert "Dati personali" in supervisor.get("/").get_data(as_text=True)
    assert "Dati personali" not in operator.get("/").get_data(as_text=True)


def test_anonymous_users_are_sent_to_the_login(desk_app):
    client = desk_app.test_client()
    for url in ("/dati-personali/", "/dati-personali/persona"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_retention_page_shows_what_will_go_and_runs_audited_purges(people, desk_login):
    database, refs = people
    with database.session() as session:  # Giulia's resolved ticket, untouched for more than a year
        session.execute(update(Ticket).where(Ticket.ref == refs[GIULIA]).values(updated_at=utcnow() - timedelta(days=400)))
    supervisor = desk_login(Role.SUPERVISOR)
    ticket_page = supervisor.get(f"/ticket/{refs[GIULIA]}").get_data(as_text=True)
    assert "informativa versione 2026-12-01" in ticket_page and 'id="anonymised"' not in ticket_page
    page = supervisor.get("/dati-personali/").get_data(as_text=True)
    row = re.search(r'<tr data-kind="tickets">(.*?)</tr>', page, re.S).group(1)
    assert "365 giorni" in row and (utcnow() - timedelta(days=365)).strftime("%d/%m/%Y") in row
    assert re.search(r'class="due-count">1<', row)
    response = post_form(supervisor, "/dati-personali/pulizia", {"dry_run": "1"}, page="/dati-personali/")
    assert response.status_code == 302
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.anonymised_at.isnot(None))) == 0
    post_form(supervisor, "/dati-personali/pulizia", {"dry_run": "0"}, page="/dati-personali/")
    with database.session() as session:
        runs = session.scalars(select(PrivacyRun).order_by(PrivacyRun.id)).all()
        assert [(run.actor, run.dry_run, run.counts["tickets"]) for run in runs] == [
            ("supervisor@sportello.example", True, 1), ("supervisor@sportello.example", False, 1)]
        assert session.scalars(select(Ticket).where(Ticket.ref == refs[GIULIA])).one().name == ""
    ticket_page = supervisor.get(f"/ticket/{refs[GIULIA]}").get_data(as_text=True)
    assert 'id="anonymised"' in ticket_page and GIULIA.name not in ticket_page
    page = supervisor.get("/dati-personali/").get_data(as_text=True)
    assert re.search(r'<tr data-kind="tickets">.*?class="due-count">0<', page, re.S)
    assert page.count('<tr data-run="') == 2 and "prova" in page and "pulizia" in page


def test_an_admin_finds_downloads_and_erases_a_persons_data(people, desk_login):
    database, refs = people
    admin = desk_login(Role.ADMIN)
    form = {"kind": "telegram", "value": GIULIA.chat_id}
    found = post_form(admin, "/dati-personali/persona", form, page="/dati-personali/persona").get_data(as_text=True)
    assert refs[GIULIA] in found and refs[OTHER] not in found
    assert re.search(r'data-what="assistant_turns">Messaggi all(&#39;|\')assistente: <span class="count">3<', found)

    download = post_form(admin, "/dati-personali/persona/esporta", form, page="/dati-personali/persona")
    assert download.status_code == 200 and download.mimetype == "application/json"
    assert "attachment" in download.headers["Content-Disposition"] and download.headers["Cache-Control"] == "no-store"
    document = json.loads(download.get_data(as_text=True))
    (ticket,) = document["tickets"]
    assert ticket["ref"] == refs[GIULIA] and ticket["contact"] == GIULIA.email
    assert GIULIA.follow_up in [event["body"] for event in ticket["events"]]

    refused = post_form(admin, "/dati-personali/persona/cancella", {**form, "confirm": "sì"}, page="/dati-personali/persona")
    assert refused.status_code == 422 and find_everywhere(database, [GIULIA.email])
    erased = post_form(admin, "/dati-personali/persona/cancella", {**form, "confirm": "CANCELLA"}, page="/dati-personali/persona")
    assert erased.status_code == 302
    assert find_everywhere(database, GIULIA.secrets()) == {}
    assert find_everywhere(database, [OTHER.email])
    with database.session() as session:
        audit = session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id)).all()
    assert [(item.action, item.actor) for item in audit] == [
        ("search", "admin@sportello.example"), ("export", "admin@sportello.example"), ("erasure", "admin@sportello.example")]
    assert {item.identity_hash for item in audit} == {identity_hash(SECRET, "telegram", GIULIA.chat_id)}
    assert audit[-1].counts["tickets"] == 1
    page = admin.get("/dati-personali/persona").get_data(as_text=True)
    assert "cancellazione" in page and GIULIA.chat_id not in page


def test_a_wrong_identity_is_refused_without_searching(seeded_database, desk_login):
    admin = desk_login(Role.ADMIN)
    response = post_form(admin, "/dati-personali/persona", {"kind": "telegram", "value": "<script>"},
                         page="/dati-personali/persona")
    assert response.status_code == 422 and "Identità non valida" in response.get_data(as_text=True)
    with seeded_database.session() as session:
        assert session.scalar(select(func.count()).select_from(PrivacyRequest)) == 0


def test_the_notice_states_the_configured_controller_version_and_retention(seeded_database):
    app = desk_app_for(seeded_database)
    page = app.test_client().get("/privacy").get_data(as_text=True)
    assert 'id="notice-draft"' in page  # no controller configured: the notice says it is a draft
    assert "pseudonime, non anonime" in page and "anonime del servizio" not in page

    from desk.config import Settings
    from tests.support.desk import TEST_SECRET_KEY

    settings = Settings.from_env({
        "DIALOGA_DATABASE_URL": seeded_database.url, "DIALOGA_RETENTION_TICKETS_DAYS": "200",
        "DIALOGA_PRIVACY_CONTROLLER": "Associazione Esempio APS", "DIALOGA_PRIVACY_CONTROLLER_CONTACT": "privacy@esempio.example",
        "DIALOGA_PRIVACY_NOTICE_VERSION": "2027-02", "DIALOGA_PRIVACY_DPO_CONTACT": "dpo@esempio.example",
        "DIALOGA_SECRET_KEY": TEST_SECRET_KEY,
    })
    from desk.web import create_app

    app = create_app(settings, database=seeded_database)
    page = app.test_client().get("/privacy").get_data(as_text=True)
    assert 'id="notice-draft"' not in page
    assert "Associazione Esempio APS" in page and "dpo@esempio.example" in page
    assert '<strong id="notice-version">2027-02</strong>' in page
    row = re.search(r'<tr data-kind="tickets">(.*?)</tr>', page, re.S).group(1)
    assert "200 giorni" in row
    assert settings.privacy.retention.days[next(k for k in settings.privacy.retention.days if k.value == "tickets")] == 200
