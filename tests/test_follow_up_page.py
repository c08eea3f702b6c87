"""The user's private follow-up page (/seguito/<token>) on both databases: the signed link opens
its own ticket only, shows the exchange without internal notes, takes an answer (CSRF-protected)
that sends the ticket back to the desk, closes it on request, and is rate-limited per address.
Also the operator's contact switch on the ticket page, and the chat's request for a fresh link."""
from __future__ import annotations

import re
import time

import pytest

from actions.tickets import ActionTicketStatus, asks_for_link
from desk.models import OutboundKind, Role, TicketEventKind, TicketStatus
from desk.services import outbox, tickets
from desk.services.follow_up import FollowUpLinks, exchange_items
from tests.support.desk import desk_app_for, log_in, make_user, post_form
from tests.test_actions import action_database, run, tracker  # noqa: F401 (fixture)
from tests.test_tickets import open_one

SECRET = "a-test-secret-for-follow-up-links"


def page_text(response) -> str:
    """A page without its per-session CSRF token, to compare two answers."""
    return re.sub(r'name="csrf-token" content="[^"]*"', "", response.get_data(as_text=True))


def link_path(ticket, days=30, secret=SECRET):
    return "/seguito/" + FollowUpLinks(secret, days).token_for(ticket)


@pytest.fixture
def app(seeded_database):
    return desk_app_for(seeded_database, secret_key=SECRET)


def ticket_with_exchange(database, key="intake-1", **changes):
    ticket = open_one(database, key=key, conversation=f"conv-{key}", channel="rest", **changes)
    with database.session() as session:
        current = tickets.find_by_ref(session, ticket.ref)
        tickets.add_note(session, current, "Nota riservata: controllare il CCNL", actor="op@sportello.example")
        tickets.reply(session, current, "Può dirmi quanti dipendenti ha?", actor="op@sportello.example")
    return ticket


def test_the_page_shows_the_exchange_but_never_internal_notes(app, seeded_database):
    ticket = ticket_with_exchange(seeded_database)
    page = app.test_client().get(link_path(ticket))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert ticket.question in html and "Può dirmi quanti dipendenti ha?" in html
    assert "Nota riservata" not in html and "op@sportello.example" not in html
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"


def test_bad_expired_and_foreign_tokens_all_get_the_same_404(app, seeded_database):
    ticket = ticket_with_exchange(seeded_database)
    other = ticket_with_exchange(seeded_database, key="intake-2")
    client = app.test_client()
    token = link_path(ticket)[len("/seguito/"):]
    forged = "/seguito/" + FollowUpLinks("another-secret", 30).token_for(ticket)
    tampered = "/seguito/" + token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    not_found = client.get("/pagina-che-non-esiste")
    for path in (forged, tampered, "/seguito/abc", "/seguito/" + "x" * 80):
        response = client.get(path)
        assert response.status_code == 404 and page_text(response) == page_text(not_found), path
    # A desk whose links last 0 days: a link signed a second ago has expired.
    short_lived = desk_app_for(seeded_database, secret_key=SECRET, follow_up_link_days=0).test_client()
    path = link_path(ticket)
    time.sleep(1.1)
    expired = short_lived.get(path)
    assert expired.status_code == 404 and page_text(expired) == page_text(not_found)
    # A valid link opens its own ticket, never the other one.
    html = client.get(link_path(ticket)).get_data(as_text=True)
    assert ticket.ref in html and other.ref not in html


def test_a_link_no_longer_opens_a_ticket_whose_reference_changed(app, seeded_database):
    ticket = ticket_with_exchange(seeded_database)
    path = link_path(ticket)
    with seeded_database.session() as session:
        tickets.find_by_ref(session, ticket.ref).ref = "DC-ZZZZZZ"
    assert app.test_client().get(path).status_code == 404


@pytest.mark.parametrize("assignee, expected", [("op@sportello.example", TicketStatus.IN_PROGRESS),
                                                (None, TicketStatus.OPEN)])
def test_an_answer_lands_on_the_ticket_and_sends_it_back_to_the_desk(app, seeded_database, assignee, expected):
    ticket = ticket_with_exchange(seeded_database)
    if assignee:
        with seeded_database.session() as session:
            tickets.assign(session, tickets.find_by_ref(session, ticket.ref), assignee, actor=assignee)
    client = app.test_client()
    path = link_path(ticket)
    assert client.post(path + "/risposta", data={"body": "Senza token"}).status_code == 400  # CSRF
    response = post_form(client, path + "/risposta", {"body": "Ha 8 dipendenti."}, page=path)
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ha 8 dipendenti." in html and "Messaggio inviato" in html
    with seeded_database.session() as session:
        current = tickets.find_by_ref(session, ticket.ref)
        assert current.current_status is expected
        last = current.events[-1]
        assert (last.kind, last.actor, last.body) == (TicketEventKind.FOLLOW_UP.value, "user", "Ha 8 dipendenti.")


def test_an_empty_answer_is_refused_and_the_user_can_close_the_ticket(app, seeded_database):
    ticket = ticket_with_exchange(seeded_database, language="en")
    client = app.test_client()
    path = link_path(ticket)
    refused = post_form(client, path + "/risposta", {"body": "   "}, page=path)
    assert refused.status_code == 400 and "Write a message" in refused.get_data(as_text=True)
    closed = post_form(client, path + "/chiudi", page=path)
    html = client.get(closed.headers["Location"]).get_data(as_text=True)
    assert "Request closed" in html and "follow-up-body" not in html
    with seeded_database.session() as session:
        current = tickets.find_by_ref(session, ticket.ref)
        assert current.current_status is TicketStatus.CLOSED and current.events[-1].actor == "user"


def test_requests_are_limited_per_client_address(seeded_database):
    app = desk_app_for(seeded_database, secret_key=SECRET, follow_up_requests_per_minute=3)
    client = app.test_client()
    codes = [client.get("/seguito/guess-" + str(n)).status_code for n in range(4)]
    assert codes == [404, 404, 404, 429]
    other_address = client.get("/seguito/guess", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_address.status_code == 404


def test_exchange_items_keep_the_users_messages_and_public_replies_in_order():
    from datetime import datetime

    from desk.models import TicketEvent

    def event(kind, body, public=True, minute=0):
        return TicketEvent(kind=kind, body=body, public=public, actor="x", created_at=datetime(2026, 12, 1, 9, minute))

    items = exchange_items("La domanda", datetime(2026, 12, 1, 8), [
        event("note", "riservata", public=False, minute=1), event("reply", "Risposta", minute=2),
        event("status_changed", None, minute=3), event("follow_up", "Grazie", minute=4),
        event("attachment", "busta.pdf", minute=5), event("assigned", None, minute=6),
    ])
    assert [(i.who, i.text, i.attachment) for i in items] == [
        ("user", "La domanda", False), ("desk", "Risposta", False), ("user", "Grazie", False),
        ("user", "busta.pdf", True)]


def test_the_operator_switches_the_contact_to_email_and_back_audited(app, seeded_database):
    ticket = open_one(seeded_database, channel="telegram", contact="telegram", contact_kind="channel")
    client = app.test_client()
    log_in(client, make_user(seeded_database, Role.OPERATOR))
    page = f"/ticket/{ticket.ref}"
    refused = post_form(client, page + "/contatto", {"kind": "email", "address": "non-un-indirizzo"}, page=page,
                        follow_redirects=True)
    assert "Scrivi un indirizzo e-mail valido" in refused.get_data(as_text=True)
    post_form(client, page + "/contatto", {"kind": "email", "address": " Maria.Rossi@Example.org "}, page=page)
    with seeded_database.session() as session:
        current = tickets.find_by_ref(session, ticket.ref)
        assert (current.contact_kind, current.contact) == ("email", "Maria.Rossi@example.org")
        changed = current.events[-1]
        assert changed.kind == TicketEventKind.CONTACT_CHANGED.value and changed.actor == "operator@sportello.example"
        assert (changed.before, changed.after) == ("channel: telegram", "email: Maria.Rossi@example.org")
        tickets.reply(session, current, "Ora anche per e-mail.", actor="op")
    assert "email: Maria.Rossi@example.org" in client.get(page).get_data(as_text=True)
    with seeded_database.session() as session:
        (email,) = outbox.emails_of_ticket(session, tickets.find_by_ref(session, ticket.ref).id)
        assert email.address == "Maria.Rossi@example.org"
    post_form(client, page + "/contatto", {"kind": "channel"}, page=page)
    with seeded_database.session() as session:
        current = tickets.find_by_ref(session, ticket.ref)
        assert (current.contact_kind, current.contact) == ("channel", "telegram")
        tickets.reply(session, current, "Solo in chat.", actor="op")
        assert len(outbox.emails_of_ticket(session, current.id)) == 1


def test_asking_for_the_link_is_recognised_in_both_languages():
    assert asks_for_link("mandami il link DC-7K4M2Q") and asks_for_link("Send me the LINK please")
    assert not asks_for_link("stato DC-7K4M2Q") and not asks_for_link("linkedin")


def test_a_fresh_link_goes_by_email_and_the_chat_never_tells_whether_there_is_one(action_database):
    with_email = open_one(action_database, key="a", conversation="conv-a", contact="maria@example.org", contact_kind="email")
    without = open_one(action_database, key="b", conversation="conv-b", contact="telegram", contact_kind="channel")
    replies = {}
    for ticket in (with_email, without):
        messages, _ = run(ActionTicketStatus(), tracker(f"mandami il link {ticket.ref}", "check_ticket_status",
                                                        slots={"language": "it"}, sender="someone-else"))
        (message,) = messages
        assert "seguito" not in message["text"] and "maria@example.org" not in message["text"]
        replies[ticket.ref] = message["text"].replace(ticket.ref, "REF")
    assert replies[with_email.ref] == replies[without.ref]
    with action_database.session() as session:
        (link,) = outbox.emails_of_ticket(session, tickets.find_by_ref(session, with_email.ref).id)
        assert link.kind == OutboundKind.LINK.value and link.address == "maria@example.org"
        assert outbox.emails_of_ticket(session, tickets.find_by_ref(session, without.ref).id) == []
    # Asking again at once sends no second e-mail: a known reference cannot flood a mailbox.
    run(ActionTicketStatus(), tracker(f"send me the link {with_email.ref}", "check_ticket_status", slots={"language": "en"}))
    with action_database.session() as session:
        assert len(outbox.emails_of_ticket(session, tickets.find_by_ref(session, with_email.ref).id)) == 1
