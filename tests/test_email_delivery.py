"""E-mail as a delivery channel of the outbox, through a real SMTP server on loopback (aiosmtpd):
what arrives (multipart, subject, Reply-To, threading, a working follow-up link), refusals
(5xx fails at once and shows on the ticket, 4xx is retried), a server that is down, never twice
automatically (a connection lost or a final reply that never comes after the content went out:
unconfirmed, on the ticket and in the metrics, no second copy; lost before DATA: retried; a
worker that stopped while sending: unconfirmed after the lease), STARTTLS and implicit TLS with a
verified throwaway certificate, two workers at once, and the widget user who left (an unread
reply goes by e-mail after the delay, a read one does not)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from bot.email.delivery import EmailDelivery
from desk.config import Settings
from desk.db import Database
from desk.models import DeliveryStatus, OutboundMessage, Role, TicketStatus
from desk.models.base import utcnow
from desk.ops import metrics
from desk.services import outbox, tickets
from tests.support.desk import desk_app_for, log_in, make_user
from tests.support.smtp_server import (SMTP_PASSWORD, SMTP_USER, RecordingHandler, ThrowawayAuthority, free_port,
                                       smtp_server)
from tests.test_tickets import open_one
from tests.test_widget import ASSOCIATION, start_session, updates, widget_app

SECRET = "a-test-secret-for-e-mail-links-of-the-desk"  # at least 32 characters, as the desk asks
FROM = "Sportello Dialoga <sportello@dialoga.example>"
REPLY_TO = "operatori@dialoga.example"
USER = "maria.rossi@example.org"
# The implicit-TLS test server requires a login on a connection aiosmtpd does not know is encrypted.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def delivery_for(database, port, **changes) -> EmailDelivery:
    values = dict(database_url=database.url, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                  email_from=FROM, email_reply_to=REPLY_TO, public_url="http://desk.example", secret_key=SECRET)
    values.update(changes)
    return EmailDelivery.from_settings(database, Settings(**values))


def reply_to(database, ref, body, actor="op@sportello.example"):
    with database.session() as session:
        tickets.reply(session, tickets.find_by_ref(session, ref), body, actor=actor)


def emails(database, ref):
    with database.session() as session:
        return outbox.emails_of_ticket(session, tickets.find_by_ref(session, ref).id)


def make_due(database):
    """As if the backoff had passed."""
    with database.session() as session:
        session.execute(update(OutboundMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def text_part(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message):
    return message.get_body(preferencelist=("html",)).get_content()


def test_replies_to_an_email_contact_arrive_as_threaded_multipart_emails_with_a_working_link(database):
    ticket = open_one(database, channel="telegram", contact=USER, contact_kind="email")
    reply_to(database, ticket.ref, "Sì: i buoni pasto rientrano nel welfare <b>aziendale</b>.")
    reply_to(database, ticket.ref, "Le mando anche il riferimento normativo.")
    with smtp_server() as smtp:
        done = delivery_for(database, smtp.port).run_round()
        first, second = smtp.received()
    assert len(done.sent) == 2 and not done.retried and not done.failed
    for message in (first, second):
        assert message.get_content_type() == "multipart/alternative"
        assert ticket.ref in message["Subject"]
        assert message["To"] == USER and message["From"] == FROM and message["Reply-To"] == REPLY_TO
    assert first["Message-ID"] == f"<dialoga.{ticket.ref}@dialoga.example>" and first["In-Reply-To"] is None
    assert second["In-Reply-To"] == first["Message-ID"] and second["References"] == first["Message-ID"]
    assert second["Message-ID"] != first["Message-ID"]
    assert "i buoni pasto rientrano nel welfare <b>aziendale</b>." in text_part(first)
    html = html_part(first)
    assert "&lt;b&gt;aziendale&lt;/b&gt;" in html and "<b>aziendale" not in html  # the operator's text, escaped
    assert "<img" not in html and "perché hai lasciato questo indirizzo" in html
    # The chat copy stays for Telegram; both e-mails are recorded as sent.
    with database.session() as session:
        assert len(outbox.due(session, "telegram")) == 2
    assert [e.status for e in emails(database, ticket.ref)] == ["sent", "sent"]
    # The one link opens the ticket's follow-up page with the exchange.
    links = re.findall(r"http://desk\.example/seguito/\S+", text_part(second))
    assert len(links) == 1 and links[0] in html_part(second)
    page = desk_app_for(database, secret_key=SECRET).test_client().get(urlsplit(links[0]).path)
    assert page.status_code == 200
    assert "Le mando anche il riferimento normativo." in page.get_data(as_text=True)


def test_an_english_ticket_gets_its_email_in_english(database):
    ticket = open_one(database, channel="rest", contact=USER, contact_kind="email", language="en")
    reply_to(database, ticket.ref, "Here is the answer.")
    with database.session() as session:
        tickets.change_status(session, tickets.find_by_ref(session, ticket.ref), TicketStatus.RESOLVED, actor="op")
    with smtp_server() as smtp:
        delivery_for(database, smtp.port).run_round()
        reply, resolved = smtp.received()
    assert reply["Subject"] == f"[{ticket.ref}] Reply to your request to the Dialoga con noi desk"
    assert "a desk operator has answered your request" in text_part(reply) and "Here is the answer." in text_part(reply)
    assert resolved["Subject"] == f"[{ticket.ref}] Your request has been resolved"
    assert resolved["Auto-Submitted"] == "auto-generated" and "Close the request from your page" in text_part(resolved)


def test_a_chat_contact_gets_no_email(database):
    ticket = open_one(database, channel="telegram", contact="telegram", contact_kind="channel")
    reply_to(database, ticket.ref, "Risposta in chat.")
    with smtp_server() as smtp:
        done = delivery_for(database, smtp.port).run_round()
        assert smtp.received() == [] and done.sent == []
    assert emails(database, ticket.ref) == []


def test_a_permanent_refusal_fails_at_once_and_shows_on_the_ticket(seeded_database):
    database = seeded_database
    ticket = open_one(database, channel="rest", contact="nessuno@example.org", contact_kind="email")
    reply_to(database, ticket.ref, "Risposta.")
    handler = RecordingHandler()
    handler.refuse["nessuno@example.org"] = "550 5.1.1 <nessuno@example.org>: Recipient address rejected: User unknown"
    with smtp_server(handler) as smtp:
        done = delivery_for(database, smtp.port).run_round()
    assert len(done.failed) == 1
    (email,) = emails(database, ticket.ref)
    assert email.status == DeliveryStatus.FAILED.value and email.attempts == 1
    assert email.last_error.startswith("550 5.1.1") and "User unknown" in email.last_error
    client = desk_app_for(database, secret_key=SECRET).test_client()
    log_in(client, make_user(database, Role.OPERATOR))
    page = client.get(f"/ticket/{ticket.ref}").get_data(as_text=True)
    assert "e-mail non consegnato" in page and "Recipient address rejected: User unknown" in page


@pytest.mark.parametrize("refusal", ["421 4.7.0 Try again later, closing connection",
                                     "451 4.3.0 Temporary lookup failure"])
def test_a_temporary_refusal_is_retried_with_backoff_then_delivered_once(database, refusal):
    ticket = open_one(database, channel="rest", contact=USER, contact_kind="email")
    reply_to(database, ticket.ref, "Risposta.")
    handler = RecordingHandler()
    handler.refuse_once.append(refusal)
    with smtp_server(handler) as smtp:
        delivery = delivery_for(database, smtp.port)
        before = utcnow()
        first = delivery.run_round()
        (email,) = emails(database, ticket.ref)
        assert first.retried == [email.id] and email.status == "queued" and email.attempts == 1
        assert email.last_error.startswith(refusal[:3])
        assert email.next_attempt_at >= before + timedelta(seconds=outbox.BACKOFF_SECONDS[0])
        assert delivery.run_round().sent == []  # not due yet
        make_due(database)
        assert delivery.run_round().sent == [email.id]
        assert len(smtp.received()) == 1
    (email,) = emails(database, ticket.ref)
    assert email.status == "sent" and email.attempts == 2 and email.last_error is None


@pytest.mark.parametrize("refusal, status", [("554 5.7.1 Message rejected as spam", "failed"),
                                            ("451 4.7.1 Greylisted, try again later", "queued")])
def test_a_final_refusal_of_the_content_is_an_answer_failed_or_retried(database, refusal, status):
    ticket = open_one(database, channel="rest", contact=USER, contact_kind="email")
    reply_to(database, ticket.ref, "Risposta.")
    handler = RecordingHandler()
    handler.refuse_content_once.append(refusal)
    with smtp_server(handler) as smtp:
        delivery_for(database, smtp.port).run_round()
        (email,) = emails(database, ticket.ref)
        assert email.status == status and email.last_error == refusal and smtp.received() == []
        make_due(database)
        delivery_for(database, smtp.port).run_round()
        assert len(smtp.received()) == (1 if status == "queued" else 0)


def test_a_connection_lost_before_data_is_retried_and_delivered_once(database):
    ticket = open_one(database, channel="rest", contact=USER, contact_kind="email")
    reply_to(database, ticket.ref, "Risposta.")
    handler = RecordingHandler()
    handler.drop_once.append("RCPT")  # the server hangs up before anything of the message was sent
    with smtp_server(handler) as smtp:
        delivery = delivery_for(database, smtp.port)
        (email,) = emails(database, ticket.ref)
        assert delivery.run_round().retried == [email.id]
        (email,) = emails(database, ticket.ref)
        assert email.status == "queued" and "SMTPServerDisconnected" in email.last_error
        make_due(database)
        assert delivery.run_round().sent == [email.id]
        assert len(smtp.received()) == 1
    (email,) = emails(database, ticket.ref)
    assert email.status == "sent" and email.attempts == 2


def unconfirmed_email_shows(database, ref, error_words):
    """The ticket page and the metrics tell the operator about an unconfirmed e-mail."""
    client = desk_app_for(database, secret_key=SECRET).test_client()
    log_in(client, make_user(database, Role.OPERATOR))
    page = client.get(f"/ticket/{ref}").get_data(as_text=True)
    assert 'class="badge delivery-unconfirmed email-delivery"' in page
    assert "e-mail consegna non confermata: verificare con l&#39;utente" in page and error_words in page
    with database.session() as session:
        text = metrics.exposition(metrics.collect(session, utcnow(), [], {}))
    assert 'dialoga_delivery_unconfirmed_total{channel="email"} 1\n' in text


def test_a_connection_lost_after_the_content_leaves_the_email_unconfirmed_and_never_sends_it_again(seeded_database):
    database = seeded_database
    ticket = open_one(database, channel="rest", contact=USER, contact_kind="email")
    reply_to(database, ticket.ref, "Risposta che il server ha già.")
    handler = RecordingHandler()
    handler.drop_once.append("DATA")  # the server keeps the message, then hangs up before its final reply
    with smtp_server(handler) as smtp:
        delivery = delivery_for(database, smtp.port)
        (email,) = emails(database, ticket.ref)
        assert delivery.run_round().unconfirmed == [email.id]
        make_due(database)
        again = delivery.run_round()
        assert again.sent == again.retried == again.unconfirmed == []
        (message,) = smtp.received()
    assert "Risposta che il server ha già." in text_part(message)
    (email,) = emails(database, ticket.ref)
    assert email.status == "unconfirmed" and email.attempts == 1
    assert "no final reply to the message's content, it may have arrived" in email.last_error
    assert "SMTPServerDisconnected" in email.last_error
    unconfirmed_email_shows(database, ticket.ref, "it may have arrived")


def test_a_final_reply_that_never_comes_leaves_the_email_unconfirmed(database):
    ticket = open_one(database, channel="rest", contact=USER, contact_kind="email")
    reply_to(database, ticket.ref, "Risposta.")
    with smtp_server(RecordingHandler(confirm_delay=2.0)) as smtp:
        delivery = delivery_for(database, smtp.port, smtp_timeout=0.5)
        (email,) = emails(database, ticket.ref)
        assert delivery.run_round().unconfirmed == [email.id]
        make_due(database)
        assert delivery.run_round().sent == []
        assert len(smtp.received()) == 1
    (email,) = emails(database, ticket.ref)
    assert email.status == "unconfirmed" and "timed out" in email.last_error


def test_an_email_left_sending_by_a_stopped_worker_becomes_unconfirmed_after_the_lease(database):
    ticket = open_one(database, channel="rest", contact=USER, contact_kind="email")
    reply_to(database, ticket.ref, "Risposta.")
    with smtp_server() as smtp:
        stopped = delivery_for(database, smtp.port)
        taken = stopped.take_next()  # recorded as being sent; the worker dies before the SMTP conversation ends
        (email,) = emails(database, ticket.ref)
        assert taken.id == email.id and email.status == "sending"
        assert email.next_attempt_at >= utcnow() + timedelta(seconds=stopped.server.send_lease() - 5)
        restarted = delivery_for(database, smtp.port)
        first = restarted.run_round()  # within the lease: the other worker may still be sending it
        assert first.interrupted == [] and first.sent == [] and emails(database, ticket.ref)[0].status == "sending"
        make_due(database)  # the lease is over
        second = restarted.run_round()
        assert second.interrupted == [email.id] and second.sent == []
        assert restarted.run_round().sent == [] and smtp.received() == []
    (email,) = emails(database, ticket.ref)
    assert email.status == "unconfirmed" and "stopped while sending" in email.last_error


def test_a_server_that_is_down_is_retried_with_backoff(database):
    ticket = open_one(database, channel="rest", contact=USER, contact_kind="email")
    reply_to(database, ticket.ref, "Risposta.")
    port = free_port()  # nothing listens there yet
    delivery = delivery_for(database, port)
    assert len(delivery.run_round().retried) == 1
    (email,) = emails(database, ticket.ref)
    assert email.status == "queued" and "ConnectionRefusedError" in email.last_error
    make_due(database)
    delivery.run_round()
    (email,) = emails(database, ticket.ref)
    assert email.attempts == 2 and email.next_attempt_at > utcnow() + timedelta(seconds=outbox.BACKOFF_SECONDS[0])
    with smtp_server(port=port) as smtp:
        make_due(database)
        assert len(delivery.run_round().sent) == 1 and len(smtp.received()) == 1


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return ThrowawayAuthority(tmp_path_factory.mktemp("smtp-ca"))


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_with_a_verified_certificate(database, authority, security):
    ticket = open_one(database, channel="rest", contact=USER, contact_kind="email")
    reply_to(database, ticket.ref, "Risposta cifrata.")
    with smtp_server(security=security, authority=authority) as smtp:
        delivery = delivery_for(database, smtp.port, smtp_security=security, smtp_ca_file=authority.ca_file,
                                smtp_user=SMTP_USER, smtp_password=SMTP_PASSWORD)
        assert len(delivery.run_round().sent) == 1
        (message,) = smtp.received()
    assert "Risposta cifrata." in text_part(message)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_certificate_the_desk_does_not_trust_is_refused(database, authority, security):
    ticket = open_one(database, channel="rest", contact=USER, contact_kind="email")
    reply_to(database, ticket.ref, "Risposta.")
    with smtp_server(security=security, authority=authority) as smtp:
        delivery = delivery_for(database, smtp.port, smtp_security=security,  # no CA file: the system's CAs
                                smtp_user=SMTP_USER, smtp_password=SMTP_PASSWORD)
        assert len(delivery.run_round().retried) == 1
        assert smtp.received() == []
    (email,) = emails(database, ticket.ref)
    assert "CERTIFICATE_VERIFY_FAILED" in email.last_error


def test_two_workers_deliver_concurrently_and_each_email_goes_once(database):
    refs = [open_one(database, key=f"intake-{n}", conversation=f"conv-{n}", channel="rest", contact=f"u{n}@example.org",
                     contact_kind="email").ref for n in range(12)]
    for ref in refs:
        reply_to(database, ref, f"Risposta per {ref}.")
    with smtp_server(RecordingHandler(delay=0.05)) as smtp:
        workers = [delivery_for(Database(database.url), smtp.port) for _ in range(2)]
        rounds = {}
        start = threading.Barrier(2)

        def work(number):
            start.wait()
            rounds[number] = workers[number].run_round()

        threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        for worker in workers:
            worker.database.dispose()
        received = smtp.received()
    assert sorted(rounds[0].sent + rounds[1].sent) == sorted({m for r in rounds.values() for m in r.sent})
    assert len(rounds[0].sent) + len(rounds[1].sent) == 12
    assert rounds[0].sent and rounds[1].sent  # both really worked
    assert sorted(m["To"] for m in received) == sorted(f"u{n}@example.org" for n in range(12))
    assert len({m["Message-ID"] for m in received}) == 12
    with database.session() as session:
        rows = list(session.scalars(select(OutboundMessage).where(OutboundMessage.channel == "email")))
    assert all(row.status == "sent" and row.attempts == 1 for row in rows) and len(rows) == 12


def widget_ticket(database, session_id="widget-session-1", **changes):
    values = dict(key=f"intake-{session_id}", conversation=f"widget-{session_id}", channel="widget",
                  reply_address=session_id, contact=USER, contact_kind="email")
    return open_one(database, **{**values, **changes})


def age_widget_messages(database, minutes):
    with database.session() as session:
        session.execute(update(OutboundMessage).where(OutboundMessage.channel == "widget")
                        .values(created_at=utcnow() - timedelta(minutes=minutes)))


def test_a_widget_reply_left_unread_goes_by_email_after_the_delay(database):
    ticket = widget_ticket(database)
    reply_to(database, ticket.ref, "Ecco la risposta che aspettava.")
    with smtp_server() as smtp:
        delivery = delivery_for(database, smtp.port, email_after_unread_minutes=30)
        assert delivery.run_round().unread_copies == 0 and smtp.received() == []
        age_widget_messages(database, 29)
        assert delivery.run_round().unread_copies == 0 and smtp.received() == []
        age_widget_messages(database, 31)
        done = delivery.run_round()
        assert done.unread_copies == 1 and len(done.sent) == 1
        assert delivery.run_round().unread_copies == 0  # one copy per widget message
        (message,) = smtp.received()
    assert "Ecco la risposta che aspettava." in text_part(message) and message["To"] == USER
    (email,) = emails(database, ticket.ref)
    assert email.fallback_of_id is not None and email.status == "sent"


def test_a_widget_reply_read_in_time_sends_no_email(database):
    client = widget_app(database, "http://127.0.0.1:9").test_client()
    widget = start_session(client)
    ticket = widget_ticket(database, session_id=widget["session"])
    reply_to(database, ticket.ref, "Ecco la risposta.")
    shown = updates(client, widget, origin=ASSOCIATION).json["messages"]
    assert [m["text"] for m in shown] == ["Ecco la risposta."]
    age_widget_messages(database, 31)
    with smtp_server() as smtp:
        assert delivery_for(database, smtp.port, email_after_unread_minutes=30).run_round().unread_copies == 0
        assert smtp.received() == []
    assert emails(database, ticket.ref) == []


def test_a_widget_ticket_without_email_never_gets_one(database):
    ticket = widget_ticket(database, contact="widget", contact_kind="channel")
    reply_to(database, ticket.ref, "Risposta.")
    age_widget_messages(database, 120)
    with smtp_server() as smtp:
        assert delivery_for(database, smtp.port, email_after_unread_minutes=30).run_round().unread_copies == 0
        assert smtp.received() == []


def test_dialoga_worker_sends_the_emails_with_smtp_settings_from_the_environment(database, tmp_path):
    ticket = open_one(database, channel="rest", contact=USER, contact_kind="email", language="en")
    reply_to(database, ticket.ref, "Sent by the worker process.")
    with smtp_server() as smtp:
        environment = {**os.environ, "DIALOGA_DATABASE_URL": database.url, "DIALOGA_SPOOL_DIR": str(tmp_path / "spool"),
                       "DIALOGA_SMTP_HOST": "127.0.0.1", "DIALOGA_SMTP_PORT": str(smtp.port),
                       "DIALOGA_SMTP_SECURITY": "none", "DIALOGA_EMAIL_FROM": FROM, "DIALOGA_EMAIL_REPLY_TO": REPLY_TO,
                       "DIALOGA_PUBLIC_URL": "https://desk.example"}
        subprocess.run([str(Path(sys.executable).parent / "dialoga"), "worker", "--once"], env=environment,
                       check=True, timeout=120, capture_output=True)
        (message,) = smtp.received()
    assert message["Reply-To"] == REPLY_TO and "Sent by the worker process." in text_part(message)
    assert "https://desk.example/seguito/" in text_part(message)
    assert [e.status for e in emails(database, ticket.ref)] == ["sent"]


def test_two_workers_noticing_the_same_unread_reply_queue_one_email(database):
    ticket = widget_ticket(database)
    reply_to(database, ticket.ref, "Risposta non letta.")
    age_widget_messages(database, 31)
    databases = [Database(database.url) for _ in range(2)]
    start = threading.Barrier(2)
    queued = []

    def notice(db):
        start.wait()
        with db.session() as session:
            queued.append(outbox.email_unread_widget_messages(session, 30))

    threads = [threading.Thread(target=notice, args=(db,)) for db in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for db in databases:
        db.dispose()
    assert sorted(queued) == [0, 1]
    assert len(emails(database, ticket.ref)) == 1
