"""Update notices by e-mail, end to end against a real SMTP server on loopback (aiosmtpd): a widget
user gives an address with consent, a supervisor's "rules changed" edit arrives as one e-mail
(Italian and English) with the new answer's first lines, the source and a signed unsubscribe
link; a second change the same day waits a day; the link cancels and forgets the address, so
the waiting notice is never sent; erasure by e-mail address removes the subscription."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update

from bot.email.delivery import EmailDelivery
from desk.config import Settings
from desk.models import OutboundMessage, UpdateSubscription
from desk.models.base import utcnow
from desk.services import knowledge, update_notices
from desk.services.privacy import subjects
from desk.services.privacy.identities import parse_identity
from tests.support.desk import TEST_SECRET_KEY, desk_app_for
from tests.support.smtp_server import smtp_server

TOPIC = "fringe_benefit_soglie"
FROM = "Sportello Dialoga <sportello@dialoga.example>"
ANNA, JOHN = "anna.verdi@example.org", "john.smith@example.org"


def delivery_for(database, port) -> EmailDelivery:
    return EmailDelivery.from_settings(database, Settings(
        database_url=database.url, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", email_from=FROM,
        public_url="http://desk.example", secret_key=TEST_SECRET_KEY))


def give_email(client, session, email, consent=True, lang="it"):
    return client.post("/widget/api/subscriptions/email", headers={"X-Widget-Token": session["token"]},
                       json={"session": session["session"], "email": email, "consent": consent, "lang": lang})


def publish_rules_change(database, marker):
    with database.session() as session:
        entry = knowledge.find_entry(session, TOPIC)
        changes = {"answer_it": f"{marker}\n{entry.answer_it}", "answer_en": f"{marker}\n{entry.answer_en}"}
        saved = knowledge.update_entry(session, TOPIC, changes, "sup@x.example", rules_changed=True)
        return [notice.deliver_after for notice in update_notices.notify_subscribers(session, saved)]


def text_part(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def test_notices_by_email_arrive_once_a_day_and_the_link_unsubscribes(seeded_database):
    database = seeded_database
    client = desk_app_for(database).test_client()
    sessions = [client.post("/widget/api/session", json={"lang": lang}).json for lang in ("it", "en")]
    # Without a subscription, consent or a valid address, nothing is stored.
    assert give_email(client, sessions[0], ANNA).status_code == 409
    with database.session() as session:
        update_notices.subscribe(session, "widget", sessions[0]["session"], TOPIC, "it")
        update_notices.subscribe(session, "widget", sessions[1]["session"], TOPIC, "en")
    refused = give_email(client, sessions[0], ANNA, consent=False)
    assert refused.status_code == 400 and "consenso" in refused.json["message"]
    assert give_email(client, sessions[0], "non-un-indirizzo").json["error"] == "bad_email"
    given = give_email(client, sessions[0], ANNA)
    assert given.status_code == 200 and given.json["subscriptions"] == 1 and ANNA not in given.json["message"]
    assert give_email(client, sessions[1], JOHN, lang="en").status_code == 200

    publish_rules_change(database, "Prima riga nuova della risposta.")
    with smtp_server() as smtp:
        done = delivery_for(database, smtp.port).run_round()
        received = {message["To"]: message for message in smtp.received()}
    assert len(done.sent) == 2 and not done.failed and set(received) == {ANNA, JOHN}
    italian, english = received[ANNA], received[JOHN]
    assert italian["Subject"].startswith("Sono cambiate le regole:") and english["Subject"].startswith("The rules have changed:")
    body = text_part(italian)
    assert "Prima riga nuova della risposta." in body and "Fonte:" in body and "scrivi /avvisi" not in body
    assert "Source:" in text_part(english) and "Unsubscribe" in text_part(english)
    link = re.findall(r"http://desk\.example/avvisi/annulla/\S+", body)[0]
    assert italian["List-Unsubscribe"] == f"<{link}>" and italian["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in italian.get_body(preferencelist=("html",)).get_content()
    # The notice went by e-mail: the widget shows nothing at the next visit.
    shown = client.get(f"/widget/api/updates?session={sessions[0]['session']}&after=0",
                       headers={"X-Widget-Token": sessions[0]["token"]}).json
    assert shown["messages"] == []

    # A second change the same day waits a day.
    [later] = publish_rules_change(database, "Seconda modifica.")[:1]
    assert later >= utcnow() + timedelta(hours=23)

    # The link: a GET only asks, a forged token does nothing, the POST cancels and forgets the address.
    path = urlsplit(link).path
    page = client.get(path)
    assert page.status_code == 200 and 'data-state="confirm"' in page.get_data(as_text=True)
    assert client.post(path[:-3] + "xyz").status_code == 404
    done_page = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert 'data-state="done"' in done_page.get_data(as_text=True)
    with database.session() as session:
        anna = session.scalars(select(UpdateSubscription).where(
            UpdateSubscription.address == sessions[0]["session"])).one()
        assert anna.cancelled_at is not None and anna.email is None
        session.execute(update(OutboundMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert client.get(path).status_code == 404  # the address is gone: the link matches nothing
    with smtp_server() as smtp:
        done = delivery_for(database, smtp.port).run_round()
        assert [message["To"] for message in smtp.received()] == [JOHN]  # Anna's waiting notice is not sent
    with database.session() as session:
        failed = session.get(OutboundMessage, done.failed[0])
        assert failed.address == ANNA and "cancelled" in failed.last_error

    # Erasure by the e-mail address: the subscription, its notices and their e-mails go.
    with database.session() as session:
        footprint = subjects.find(session, parse_identity("contact", JOHN), TEST_SECRET_KEY)
        assert footprint.counts()["update_subscriptions"] == 1 and footprint.counts()["outbox"] == 2
        subjects.erase(session, footprint)
    with database.session() as session:
        assert session.scalars(select(UpdateSubscription).where(UpdateSubscription.language == "en")).all() == []
        assert session.scalars(select(OutboundMessage).where(OutboundMessage.address == JOHN)).all() == []
