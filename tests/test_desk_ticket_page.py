"""The ticket page through the desk's web app, on SQLite and PostgreSQL: what it shows, and the
operator's actions (take, assign, status, note, reply) with CSRF, audit events and the outbox."""
from __future__ import annotations

import re
from datetime import datetime

from markupsafe import escape
from sqlalchemy import func, select

from desk.models import OutboundKind, OutboundMessage, Role, TicketStatus
from desk.services import knowledge, outbox, tickets
from desk.services.ticket_page import format_hours, sla_clock
from tests.support.desk import make_user, post_form
from tests.support.queue import CALENDAR, open_ticket, with_ticket

OPERATOR = "operator@sportello.example"
COLLEAGUE = "collega@sportello.example"


def events_of(database, ref):
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        return [(e.kind, e.actor, e.before, e.after, e.body, e.public) for e in ticket.events]


def page_of(client, ref) -> str:
    response = client.get(f"/ticket/{ref}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_page_shows_transcript_form_data_and_sla_clock(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    ref = open_ticket(
        seeded_database, "show", opened=datetime(2026, 11, 23, 8),  # Monday 09:00 in Rome
        transcript=[{"who": "user", "text": "Ciao, ho una domanda sul welfare"},
                    {"who": "bot", "text": "Vuoi parlare con una persona?"}],
    )
    html = page_of(client, ref)
    for shown in ("Ciao, ho una domanda sul welfare", "Vuoi parlare con una persona?", "Maria Rossi",
                  "maria.rossi@example.org", "Falegnameria Rossi", "1-9 addetti", "Titolare d&#39;impresa",
                  "Posso dare buoni pasto e asilo nido", "italiano", "Telegram", "Artigiana"):
        assert shown in html, shown
    # 16 business hours from Monday 09:00 Rome end on Wednesday at 11:00 Rome time.
    assert "mer 25/11/2026 11:00" in html and "(ora di Roma)" in html
    assert 'class="line line-user"' in html and 'class="line line-bot"' in html
    assert client.get("/ticket/DC-000000").status_code == 404


def test_the_sla_clock_counts_business_hours_left_and_past_due():
    due = datetime(2026, 11, 25, 10)  # Wednesday 11:00 in Rome
    running = sla_clock(CALENDAR, TicketStatus.OPEN, due, datetime(2026, 11, 24, 15))  # Tuesday 16:00 Rome
    assert running.business_hours == CALENDAR.business_hours_between(datetime(2026, 11, 24, 15), due) == 3
    assert not running.overdue and running.describe() == "mancano 3 h 00 min lavorative"
    late = sla_clock(CALENDAR, TicketStatus.IN_PROGRESS, due, datetime(2026, 11, 25, 11, 30))
    assert late.overdue and late.describe() == "scaduto da 1 h 30 min lavorative"
    stopped = sla_clock(CALENDAR, TicketStatus.RESOLVED, due, datetime(2026, 12, 25))
    assert not stopped.overdue and stopped.describe() == "fermo: il ticket è risolto"
    far = sla_clock(CALENDAR, TicketStatus.OPEN, due, datetime(2027, 3, 1))
    assert far.overdue and far.business_hours is None and far.describe().startswith("scaduto da 95 giorni")
    assert format_hours(0.25) == "15 min" and format_hours(7.5) == "7 h 30 min"


def test_take_assign_note_and_status_leave_audit_events(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    make_user(seeded_database, Role.OPERATOR, email=COLLEAGUE, name="Chiara Collega")
    ref = open_ticket(seeded_database, "actions")

    response = post_form(client, f"/ticket/{ref}/prendi", page=f"/ticket/{ref}")
    assert response.status_code == 302 and response.headers["Location"] == f"/ticket/{ref}"
    assert "Hai preso in carico" in page_of(client, ref)
    post_form(client, f"/ticket/{ref}/assegna", {"assignee": COLLEAGUE}, page=f"/ticket/{ref}")
    post_form(client, f"/ticket/{ref}/nota", {"body": "Chiedere la busta paga"}, page=f"/ticket/{ref}")
    post_form(client, f"/ticket/{ref}/stato", {"status": "resolved"}, page=f"/ticket/{ref}")

    assert events_of(seeded_database, ref) == [
        ("created", "user", None, "open", None, True),
        ("assigned", OPERATOR, None, OPERATOR, None, False),
        ("status_changed", OPERATOR, "open", "in_progress", None, True),
        ("assigned", OPERATOR, OPERATOR, COLLEAGUE, None, False),
        ("note", OPERATOR, None, None, "Chiedere la busta paga", False),
        ("status_changed", OPERATOR, "in_progress", "resolved", None, True),
    ]
    html = page_of(client, ref)
    assert "Chiara Collega" in html and "Chiedere la busta paga" in html and "visibile solo agli operatori" in html
    assert "In lavorazione → Risolto" in html
    with seeded_database.session() as session:  # resolving tells the user through the outbox, on Telegram and by e-mail
        notices = list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))
        assert [(n.channel, n.kind) for n in notices] == [("telegram", OutboundKind.RESOLVED.value),
                                                          ("email", OutboundKind.RESOLVED.value)]


def test_assigning_to_an_unknown_person_or_back_to_the_queue(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    ref = open_ticket(seeded_database, "assign")
    post_form(client, f"/ticket/{ref}/assegna", {"assignee": "chi@altrove.example"}, page=f"/ticket/{ref}")
    assert "Scegli un operatore attivo" in page_of(client, ref)
    post_form(client, f"/ticket/{ref}/assegna", {"assignee": OPERATOR}, page=f"/ticket/{ref}")
    post_form(client, f"/ticket/{ref}/assegna", {"assignee": ""}, page=f"/ticket/{ref}")
    assert [e[2:4] for e in events_of(seeded_database, ref) if e[0] == "assigned"] == [(None, OPERATOR), (OPERATOR, None)]


def test_only_allowed_transitions_are_offered_and_an_invalid_one_is_explained(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    ref = open_ticket(seeded_database, "transitions")
    offered = set(re.findall(r'name="status" value="(\w+)"', page_of(client, ref)))
    assert offered == {s.value for s in tickets.ALLOWED_TRANSITIONS[TicketStatus.OPEN]}
    with_ticket(seeded_database, ref, lambda s, t: tickets.change_status(s, t, "resolved", "op"))
    offered = set(re.findall(r'name="status" value="(\w+)"', page_of(client, ref)))
    assert offered == {"open", "closed"}

    post_form(client, f"/ticket/{ref}/stato", {"status": "closed"}, page=f"/ticket/{ref}")
    response = post_form(client, f"/ticket/{ref}/stato", {"status": "open"}, page=f"/ticket/{ref}")
    assert response.status_code == 302
    html = page_of(client, ref)
    assert "Il ticket non può passare da «Chiuso» a «Aperto»" in html
    assert 'name="status" value=' not in html and "Il ticket è chiuso" in html
    with seeded_database.session() as session:
        assert tickets.find_by_ref(session, ref).current_status is TicketStatus.CLOSED


def test_a_reply_goes_through_the_outbox_and_shows_its_delivery_state(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    ref = open_ticket(seeded_database, "reply", channel="widget", reply_address="widget-session-1")
    response = post_form(client, f"/ticket/{ref}/risposta", {"body": "Sì, il nido rientra nel welfare.", "wait": "1"},
                         page=f"/ticket/{ref}")
    assert response.status_code == 302
    with seeded_database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        assert ticket.current_status is TicketStatus.WAITING_ON_USER and ticket.first_response_at is not None
        (message,) = outbox.due(session, "widget")
        assert (message.body, message.address, message.kind) == (
            "Sì, il nido rientra nel welfare.", "widget-session-1", OutboundKind.REPLY.value)
        reply_event = [e for e in ticket.events if e.kind == "reply"][0]
        assert message.event_id == reply_event.id and reply_event.actor == OPERATOR and reply_event.public
    html = page_of(client, ref)
    assert "Risposta messa in coda" in html and 'class="badge delivery-queued"' in html and ">in coda<" in html

    with seeded_database.session() as session:
        outbox.mark_sent(session, session.get(OutboundMessage, message.id))
    fragment = client.get(f"/ticket/{ref}/cronologia").get_data(as_text=True)  # what the page polls
    assert 'class="badge delivery-sent"' in fragment and "inviato il" in fragment and "<html" not in fragment

    def reply_then(body, outcome):
        """The history after a reply whose delivery ended with outcome(session, message)."""
        post_form(client, f"/ticket/{ref}/risposta", {"body": body}, page=f"/ticket/{ref}")
        with seeded_database.session() as session:
            outcome(session, session.scalars(select(OutboundMessage).order_by(OutboundMessage.id.desc())).first())
        return client.get(f"/ticket/{ref}/cronologia").get_data(as_text=True)

    fragment = reply_then("Secondo messaggio", lambda s, m: outbox.mark_failed(s, m, "403 Forbidden: the user left"))
    assert "non consegnato" in fragment and "the user left" in fragment
    # A send the channel never answered (README "Telegram"): the operator is told to check.
    fragment = reply_then("Terzo messaggio", lambda s, m: outbox.mark_unconfirmed(s, m, "no answer from Telegram"))
    assert 'class="badge delivery-unconfirmed"' in fragment and "consegna non confermata" in fragment


def test_a_reply_without_waiting_keeps_the_status_and_a_closed_ticket_takes_none(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    ref = open_ticket(seeded_database, "nowait")
    post_form(client, f"/ticket/{ref}/risposta", {"body": "Ci lavoro."}, page=f"/ticket/{ref}")
    with seeded_database.session() as session:
        assert tickets.find_by_ref(session, ref).current_status is TicketStatus.OPEN
    post_form(client, f"/ticket/{ref}/risposta", {"body": "   "}, page=f"/ticket/{ref}")
    assert "La risposta è vuota" in page_of(client, ref)
    with_ticket(seeded_database, ref, lambda s, t: tickets.close(s, t, "op"))
    post_form(client, f"/ticket/{ref}/risposta", {"body": "Troppo tardi"}, page=f"/ticket/{ref}")
    assert "Il ticket è chiuso: non può ricevere altre risposte." in page_of(client, ref)
    with seeded_database.session() as session:  # one reply on the chat (and its e-mail copy): the closed ticket took none
        assert session.scalar(select(func.count()).select_from(OutboundMessage).where(OutboundMessage.channel != "email")) == 1


def test_actions_without_the_csrf_token_change_nothing(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    ref = open_ticket(seeded_database, "csrf")
    for path, data in (("prendi", {}), ("assegna", {"assignee": OPERATOR}), ("stato", {"status": "closed"}),
                       ("nota", {"body": "x"}), ("risposta", {"body": "x"})):
        assert client.post(f"/ticket/{ref}/{path}", data=data).status_code == 400, path
    assert events_of(seeded_database, ref) == [("created", "user", None, "open", None, True)]
    with seeded_database.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 0


def test_suggested_answers_quote_the_knowledge_base_with_source_and_date(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    ref = open_ticket(seeded_database, "kb", suggested_topics=[
        {"topic": "bonus_asilo_nido", "confidence": 0.62}, {"topic": "welfare_pmi_avvio", "confidence": 0.2},
        {"topic": "not_a_topic", "confidence": 0.1}])
    english = open_ticket(seeded_database, "kb-en", language="en", suggested_topics=[{"topic": "bonus_asilo_nido"}])
    html = page_of(client, ref)
    with seeded_database.session() as session:
        for topic in ("bonus_asilo_nido", "welfare_pmi_avvio"):
            entry = knowledge.find_entry(session, topic)
            answer = knowledge.answer_for(session, topic, "it").text  # as users read it today (dated facts resolved)
            source = entry.source + (f" — {entry.source_url}" if entry.source_url else "")
            line = f"Fonte: {source} (verificato il {entry.verified_on:%d/%m/%Y})"
            assert str(escape(answer.strip())) in html
            assert str(escape(line)) in html
            assert str(escape(answer.strip() + "\n\n" + line)) in html  # what "insert" puts in the reply
        answer_en = knowledge.answer_for(session, "bonus_asilo_nido", "en").text
    assert "62%" in html and html.count('class="insert-text"') == 2
    english_html = page_of(client, english)
    assert str(escape(answer_en.strip())) in english_html and "Source: " in english_html
    assert "(verified on " in english_html


def test_files_the_user_sent_are_listed_and_only_downloaded(seeded_database, desk_login):
    ref = open_ticket(seeded_database, "attachment")
    other = open_ticket(seeded_database, "other")
    payload = b"<html><script>alert(1)</script></html>"
    with seeded_database.session() as session:
        stored = tickets.add_attachment(session, tickets.find_by_ref(session, ref), "busta paga.html", "text/html",
                                        payload, caption="la busta di ottobre")
        attachment_id = stored.id
    client = desk_login(Role.OPERATOR)
    page = page_of(client, ref)
    assert f"/ticket/{ref}/allegati/{attachment_id}" in page and "busta paga.html" in page

    response = client.get(f"/ticket/{ref}/allegati/{attachment_id}")
    assert response.status_code == 200 and response.data == payload
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/ticket/{other}/allegati/{attachment_id}").status_code == 404
