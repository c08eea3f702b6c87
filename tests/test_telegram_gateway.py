"""The Telegram gateway through python-telegram-bot's real HTTP client against a fake Bot
API server on loopback (tests/support/fake_telegram.py), on SQLite and PostgreSQL.

The real assistant is exercised in tests/test_telegram_e2e.py; here the assistant is
either absent (it is down), or a tiny REST endpoint where what it answers must be
controlled (payloads longer than Telegram allows, markup in a reply, a slow answer)."""
from __future__ import annotations

import asyncio
import json
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List

import pytest
from sqlalchemy import select, update
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.telegram.delivery import deliver_due
from bot.telegram.rendering import LONG_PAYLOAD_PREFIX
from desk.models import DeliveryStatus, OutboundMessage, TelegramUpdate, TicketAttachment, TicketEvent
from desk.models.base import utcnow
from desk.services import outbox, telegram_updates, tickets
from tests.support.desk import desk_app_for
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.stack import free_port
from tests.support.telegram import gateway_settings, running_gateway
from tests.test_tickets import open_one

CHAT = 5550001
CLOSED_PORT_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there: the assistant is down


class FakeAssistant:
    """A REST channel that answers what the test says and records what it was sent."""

    def __init__(self, answer: Callable[[Dict[str, Any]], List[Dict[str, Any]]], delay: float = 0.0) -> None:
        self.received: List[Dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.received.append(body)
                time.sleep(delay)
                data = json.dumps(answer(body)).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def messages(self) -> List[str]:
        return [body["message"] for body in self.received]


@pytest.fixture
def fake_telegram():
    with FakeTelegram() as fake:
        yield fake


@contextmanager
def assistant_answering(answer, delay: float = 0.0):
    assistant = FakeAssistant(answer, delay)
    try:
        yield assistant
    finally:
        assistant.close()


@contextmanager
def gateway(fake_telegram, database, rasa_url=CLOSED_PORT_URL, **settings):
    with running_gateway(gateway_settings(fake_telegram, database, rasa_url, **settings), database):
        yield


def test_start_greets_says_what_it_can_and_cannot_do_and_links_the_privacy_notice(fake_telegram, database):
    with gateway(fake_telegram, database):
        fake_telegram.user_writes(CHAT, "/start")
        [greeting] = fake_telegram.wait_for_messages(CHAT, 1)
        fake_telegram.user_writes(CHAT + 1, "/start", language="en-GB")
        [english] = fake_telegram.wait_for_messages(CHAT + 1, 1)
    assert "Dialoga con noi" in greeting["text"] and "Non posso" in greeting["text"]
    assert "http://127.0.0.1:8000/privacy" in greeting["text"] and greeting["parse_mode"] == "HTML"
    assert greeting["reply_markup"]["inline_keyboard"] == [[{"text": "Parla con una persona", "callback_data": "/request_human"}]]
    assert "I cannot give legal" in english["text"] and "/privacy" in english["text"]


def test_text_goes_to_the_assistant_and_its_reply_comes_back_escaped_with_buttons(fake_telegram, database):
    reply = [
        {"recipient_id": "x", "text": "Il congedo <b>spetta</b> a madri & padri. Richiesta DC-7K4M2Q.",
         "buttons": [{"title": "Utile", "payload": "/feedback_helpful"}]},
        {"recipient_id": "x", "custom": {"topic": "congedo_parentale", "source": "INPS", "verified_on": "2026-01-01"}},
    ]
    with assistant_answering(lambda body: reply) as assistant, gateway(fake_telegram, database, assistant.url):
        update_id = fake_telegram.user_writes(CHAT, "quanto dura il congedo <parentale>?", language="it")
        [answer] = fake_telegram.wait_for_messages(CHAT, 1)
    [sent] = assistant.received
    # The update id is the message's idempotency key (a rating handled again is recorded once).
    assert sent == {"sender": f"telegram-{CHAT}", "message": "quanto dura il congedo <parentale>?",
                    "metadata": {"channel": "telegram", "reply_address": str(CHAT), "language": "it",
                                 "message_key": f"telegram-update-{update_id}"}}
    assert answer["text"] == ("Il congedo &lt;b&gt;spetta&lt;/b&gt; a madri &amp; padri. "
                              "Richiesta <code>DC-7K4M2Q</code>.")
    assert answer["reply_markup"]["inline_keyboard"] == [[{"text": "Utile", "callback_data": "/feedback_helpful"}]]
    typing = fake_telegram.calls_of("sendChatAction", CHAT)
    assert typing and typing[0].params["action"] == "typing"
    assert typing[0].at <= fake_telegram.calls_of("sendMessage", CHAT)[0].at


def test_a_long_button_payload_is_mapped_and_a_press_sends_the_payload(fake_telegram, database):
    long_payload = '/correct{"field":"company","note":"' + "x" * 80 + '"}'

    def answer(body):
        if body["message"] == "domanda":
            return [{"text": "Scegli", "buttons": [{"title": "Correggi", "payload": long_payload},
                                                   {"title": "Sì", "payload": "/affirm"}]}]
        return [{"text": f"ricevuto {len(body['message'])}"}]

    with assistant_answering(answer) as assistant, gateway(fake_telegram, database, assistant.url):
        fake_telegram.user_writes(CHAT, "domanda")
        [question] = fake_telegram.wait_for_messages(CHAT, 1)
        [[long_button], [short_button]] = question["reply_markup"]["inline_keyboard"]
        assert long_button["callback_data"].startswith(LONG_PAYLOAD_PREFIX)
        assert len(long_button["callback_data"].encode()) <= 64 and short_button["callback_data"] == "/affirm"
        message_id = fake_telegram.calls_of("sendMessage", CHAT)[0].result["message_id"]
        fake_telegram.user_presses(CHAT, long_button["callback_data"], message_id)
        fake_telegram.wait_for_messages(CHAT, 2)
        fake_telegram.user_presses(CHAT, f"{LONG_PAYLOAD_PREFIX}unknown", message_id)
        expired = fake_telegram.wait_for_messages(CHAT, 3)[-1]
    assert assistant.messages() == ["domanda", long_payload]
    assert len(fake_telegram.calls_of("answerCallbackQuery")) == 2
    assert fake_telegram.calls_of("editMessageReplyMarkup")[0].params["message_id"] == message_id
    assert "non è più valido" in expired["text"]


def test_commands_are_what_the_assistant_understands(fake_telegram, database):
    with assistant_answering(lambda body: [{"text": "ok"}]) as assistant, gateway(fake_telegram, database, assistant.url):
        for number, command in enumerate(["/aiuto", "/operatore", "/stato dc-7k4m2q", "/help", "/comando_sconosciuto"], 1):
            fake_telegram.user_writes(CHAT, command)
            fake_telegram.wait_for_messages(CHAT, number)
        fake_telegram.user_writes(CHAT, "/stato")
        needs_ref = fake_telegram.wait_for_messages(CHAT, 6)[-1]
    assert assistant.messages() == ["/help", "/request_human", "stato dc-7k4m2q", "/help", "/help"]
    assert "/stato <code>DC-7K4M2Q</code>" in needs_ref["text"]


def test_when_the_assistant_is_down_or_too_slow_the_user_is_told(fake_telegram, database):
    with gateway(fake_telegram, database):
        fake_telegram.user_writes(CHAT, "ciao, una domanda sui congedi")
        [down] = fake_telegram.wait_for_messages(CHAT, 1)
        fake_telegram.user_writes(CHAT + 1, "hello, a question about leave", language="en")
        [down_english] = fake_telegram.wait_for_messages(CHAT + 1, 1)
    assert "non è raggiungibile" in down["text"]
    assert "cannot be reached" in down_english["text"]

    with assistant_answering(lambda body: [{"text": "troppo tardi"}], delay=3) as assistant, \
            gateway(fake_telegram, database, assistant.url, telegram_assistant_timeout=1.0):
        fake_telegram.user_writes(CHAT + 2, "ciao")
        [slow] = fake_telegram.wait_for_messages(CHAT + 2, 1)
        fake_telegram.user_writes(CHAT + 2, "/start")
        greeting = fake_telegram.wait_for_messages(CHAT + 2, 2)[-1]
    assert "non è raggiungibile" in slow["text"] and "Dialoga con noi" in greeting["text"]


def test_files_without_an_open_ticket_get_a_polite_text_only_reply(fake_telegram, database):
    photo = fake_telegram.add_file(b"\xff\xd8 fake jpeg", "photo.jpg")
    media = [
        {"photo": [{"file_id": photo, "file_unique_id": "p1", "width": 90, "height": 90, "file_size": 11}]},
        {"sticker": {"file_id": "st", "file_unique_id": "st-u", "type": "regular", "width": 512, "height": 512,
                     "is_animated": False, "is_video": False}},
        {"location": {"latitude": 45.46, "longitude": 9.19}},
        {"voice": {"file_id": "vo", "file_unique_id": "vo-u", "duration": 3}},
    ]
    with gateway(fake_telegram, database):
        for number, content in enumerate(media, 1):
            fake_telegram.user_sends(CHAT, **content)
            fake_telegram.wait_for_messages(CHAT, number)
        fake_telegram.user_sends(CHAT + 1, language="en", location={"latitude": 45.46, "longitude": 9.19})
        [english] = fake_telegram.wait_for_messages(CHAT + 1, 1)
    assert all("capisco solo messaggi scritti" in message["text"] for message in fake_telegram.sent_to(CHAT))
    assert "only understand written messages" in english["text"]
    assert fake_telegram.calls_of("getFile") == []


def test_a_document_and_a_photo_attach_to_the_open_ticket(fake_telegram, database):
    ticket = open_one(database, conversation=f"telegram-{CHAT}", reply_address=str(CHAT))
    with database.session() as session:
        tickets.reply(session, tickets.find_by_ref(session, ticket.ref), "Ci mandi la busta paga?", actor="op")
    payslip = b"%PDF-1.4 busta paga di ottobre"
    document = fake_telegram.add_file(payslip, "busta paga.pdf")
    photo = fake_telegram.add_file(b"\xff\xd8 jpeg bytes", "photo.jpg")
    with gateway(fake_telegram, database):
        fake_telegram.user_sends(CHAT, document={"file_id": document, "file_unique_id": "d-u", "file_name": "busta paga.pdf",
                                                 "mime_type": "application/pdf", "file_size": len(payslip)},
                                 caption="ecco la busta paga")
        [attached] = fake_telegram.wait_for(lambda: attached_notices(fake_telegram), what="the attachment notice")
        fake_telegram.user_sends(CHAT, photo=[{"file_id": "thumb", "file_unique_id": "t", "width": 90, "height": 90},
                                              {"file_id": photo, "file_unique_id": "p", "width": 800, "height": 600}])
        fake_telegram.wait_for(lambda: len(attached_notices(fake_telegram)) == 2, what="two attachment notices")
    assert "busta paga.pdf" in attached["text"] and f"<code>{ticket.ref}</code>" in attached["text"]
    with database.session() as session:
        stored = session.scalars(select(TicketAttachment).order_by(TicketAttachment.id)).all()
        assert [(a.filename, a.content_type, a.size, bytes(a.data)) for a in stored] == [
            ("busta paga.pdf", "application/pdf", len(payslip), payslip),
            (stored[1].filename, "image/jpeg", len(b"\xff\xd8 jpeg bytes"), b"\xff\xd8 jpeg bytes"),
        ]
        events = session.scalars(select(TicketEvent).where(TicketEvent.kind == "attachment").order_by(TicketEvent.id)).all()
        assert [event.id for event in events] == [a.event_id for a in stored]
        assert events[0].body == "busta paga.pdf: ecco la busta paga" and events[0].actor == "user"
        assert tickets.find_by_ref(session, ticket.ref).status == "open"  # it was waiting on the user
    assert [call.params["file_id"] for call in fake_telegram.calls_of("getFile")] == [document, photo]


def attached_notices(fake_telegram):
    return [message for message in fake_telegram.sent_to(CHAT) if message["text"].startswith("Ho allegato")]


def test_a_file_over_the_limit_is_not_attached_and_the_user_hears_the_limit(fake_telegram, database):
    ticket = open_one(database, conversation=f"telegram-{CHAT}", reply_address=str(CHAT))
    big = fake_telegram.add_file(b"x" * 3000, "scan.pdf")
    liar = fake_telegram.add_file(b"y" * 3000, "small.pdf")
    with gateway(fake_telegram, database, telegram_attachment_max_bytes=2048):
        fake_telegram.user_sends(CHAT, document={"file_id": big, "file_unique_id": "b", "file_name": "scan.pdf", "file_size": 3000})
        [refused] = fake_telegram.wait_for_messages(CHAT, 1)
        # Telegram did not say the size in the message: the download itself is checked.
        fake_telegram.user_sends(CHAT, document={"file_id": liar, "file_unique_id": "l", "file_name": "small.pdf"})
        fake_telegram.wait_for_messages(CHAT, 2)
    assert "troppo grande" in refused["text"] and "2 KB" in refused["text"] and ticket.ref in refused["text"]
    assert "troppo grande" in fake_telegram.sent_to(CHAT)[1]["text"]
    with database.session() as session:
        assert session.scalars(select(TicketAttachment)).all() == []


# -- delivery of operators' replies ---------------------------------------------------------------


def queue_reply(database, body="La risposta dell'operatore.", chat=CHAT, **ticket_changes):
    ticket = open_one(database, conversation=f"telegram-{chat}", reply_address=str(chat), **ticket_changes)
    with database.session() as session:
        event = tickets.reply(session, tickets.find_by_ref(session, ticket.ref), body, actor="op@desk")
        return ticket.ref, event.id


def outbound(database):
    with database.session() as session:
        return session.scalars(select(OutboundMessage).where(OutboundMessage.channel == "telegram").order_by(OutboundMessage.id)).all()


def deliver_once(fake_telegram, database, read_timeout: float = 5.0):
    async def run():
        bot = Bot(TOKEN, base_url=fake_telegram.base_url,
                  request=HTTPXRequest(read_timeout=read_timeout, connect_timeout=2))
        async with bot:
            return await deliver_due(bot, database)

    return asyncio.run(run())


def make_due_now(database):
    with database.session() as session:
        session.execute(update(OutboundMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def test_an_operator_reply_is_delivered_after_telegrams_flood_control(fake_telegram, database):
    fake_telegram.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    with gateway(fake_telegram, database):
        ref, _ = queue_reply(database, "Può chiedere il <congedo> & i permessi.", language="it")
        fake_telegram.wait_for_messages(CHAT, 1)
    first, second = fake_telegram.calls_of("sendMessage", CHAT)
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.9  # Telegram's retry_after was obeyed
    assert second.params["text"] == (f"Risposta dell'operatore sulla richiesta <code>{ref}</code>:\n\n"
                                     "Può chiedere il &lt;congedo&gt; &amp; i permessi.")
    [message] = outbound(database)
    assert (message.status, message.attempts, message.last_error) == ("sent", 2, None)


def test_server_errors_are_retried_with_backoff_and_a_send_without_answer_is_never_repeated(fake_telegram, database):
    queue_reply(database)
    fake_telegram.fail("sendMessage", 502, "Bad Gateway")
    round_ = deliver_once(fake_telegram, database)
    [message] = outbound(database)
    assert round_.retried == [message.id] and message.status == "queued" and message.attempts == 1
    assert "Bad Gateway" in message.last_error and message.next_attempt_at > utcnow()
    assert deliver_once(fake_telegram, database).sent == []  # not due yet: the backoff holds

    make_due_now(database)
    assert deliver_once(fake_telegram, database).sent == [message.id]
    [message] = outbound(database)
    assert (message.status, message.attempts) == ("sent", 2)

    # A read timeout: Telegram got the request (the fake delivers it late), the answer never came.
    queue_reply(database, "Seconda risposta.", chat=CHAT + 1, key="intake-2")
    fake_telegram.delay("sendMessage", 1.5)
    assert deliver_once(fake_telegram, database, read_timeout=0.5).unconfirmed != []
    second = outbound(database)[1]
    assert second.status == "unconfirmed" and "TimedOut" in second.last_error
    make_due_now(database)
    assert deliver_once(fake_telegram, database).sent == []  # never sent again automatically
    fake_telegram.wait_for_messages(CHAT + 1, 1)
    time.sleep(0.3)
    assert len(fake_telegram.sent_to(CHAT + 1)) == 1

    # A deliverer that died while sending left a message "sending": after its lease, unconfirmed.
    queue_reply(database, "Terza risposta.", chat=CHAT + 2, key="intake-3")
    with database.session() as session:
        taken = outbox.claim_for_sending(session, "telegram", lease_seconds=60)
    assert deliver_once(fake_telegram, database).sent == []  # held by the dead deliverer's lease
    with database.session() as session:
        assert outbox.reconcile_interrupted(session, "telegram", now=utcnow() + timedelta(seconds=61)) == [taken.id]
    assert outbound(database)[2].status == "unconfirmed" and fake_telegram.sent_to(CHAT + 2) == []


def test_a_blocked_bot_or_a_missing_chat_fails_the_message_for_good(fake_telegram, database):
    queue_reply(database, chat=CHAT)
    queue_reply(database, chat=CHAT + 1, key="intake-2")
    fake_telegram.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    fake_telegram.fail("sendMessage", 400, "Bad Request: chat not found")
    round_ = deliver_once(fake_telegram, database)
    blocked, missing = outbound(database)
    assert round_.failed == [blocked.id, missing.id]
    assert (blocked.status, missing.status) == (DeliveryStatus.FAILED.value, DeliveryStatus.FAILED.value)
    assert "blocked" in blocked.last_error and "chat not found" in missing.last_error.lower()
    make_due_now(database)
    assert deliver_once(fake_telegram, database).sent == []


def test_a_resolution_notice_is_delivered_as_written(fake_telegram, database):
    ticket = open_one(database, conversation=f"telegram-{CHAT}", reply_address=str(CHAT), language="en")
    with database.session() as session:
        tickets.change_status(session, tickets.find_by_ref(session, ticket.ref), "resolved", actor="op")
    assert len(deliver_once(fake_telegram, database).sent) == 1
    [notice] = fake_telegram.sent_to(CHAT)
    assert notice["text"].startswith(f"Your request <code>{ticket.ref}</code> has been resolved")


# -- webhook mode ---------------------------------------------------------------------------------------


def test_the_webhook_refuses_a_wrong_secret_and_hands_a_right_one_to_the_gateway(fake_telegram, database):
    secret = "s3cret-token_for-the-webhook"
    app = desk_app_for(database, telegram_mode="webhook", telegram_webhook_secret=secret)
    client = app.test_client()
    update_body = {"update_id": 777, "message": {
        "message_id": 1, "date": int(time.time()), "chat": fake_telegram.chat(CHAT),
        "from": fake_telegram.user(CHAT, "it"), "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
    header = "X-Telegram-Bot-Api-Secret-Token"
    assert client.post("/telegram/webhook", json=update_body).status_code == 403
    assert client.post("/telegram/webhook", json=update_body, headers={header: "wrong"}).status_code == 403
    assert client.post("/telegram/webhook", data="not json", headers={header: secret}).status_code == 400
    assert client.post("/telegram/webhook", json=update_body, headers={header: secret}).status_code == 200
    assert client.post("/telegram/webhook", json=update_body, headers={header: secret}).status_code == 200  # a re-delivery
    with database.session() as session:
        [stored] = session.scalars(select(TelegramUpdate)).all()
        assert stored.update_id == 777 and stored.processed_at is None

    with gateway(fake_telegram, database, telegram_mode="webhook", telegram_webhook_secret=secret,
                 telegram_webhook_url="https://sportello.example/telegram/webhook"):
        [greeting] = fake_telegram.wait_for_messages(CHAT, 1)
        fake_telegram.wait_for(lambda: _processed(database), what="the update marked processed")
    assert "Dialoga con noi" in greeting["text"]
    [webhook] = fake_telegram.calls_of("setWebhook")
    assert webhook.params["url"] == "https://sportello.example/telegram/webhook"
    assert webhook.params["secret_token"] == secret
    assert fake_telegram.calls_of("getUpdates") == []


def test_two_gateways_in_webhook_mode_handle_each_update_once_and_each_chat_in_order(fake_telegram, database):
    """Production runs the gateway more than once: the updates the webhook stored are shared
    between them (claims with a lease), none handled twice, one chat's updates in order."""
    chats = [CHAT + 100 + number for number in range(10)]
    webhook = dict(telegram_mode="webhook", telegram_webhook_secret="s3cret-token_for-the-webhook")
    # The assistant takes a second: long enough for both gateways to see an update not yet handled.
    with assistant_answering(lambda body: [{"text": "Risposta."}], delay=1.0) as assistant, \
            gateway(fake_telegram, database, assistant.url, **webhook), \
            gateway(fake_telegram, database, assistant.url, **webhook):
        update_id = 9000
        for text in ("/start", "/help"):  # arriving over a second or so, while both gateways poll
            for chat in chats:
                update_id += 1
                with database.session() as session:
                    telegram_updates.receive(session, {"update_id": update_id, "message": {
                        "message_id": update_id, "date": int(time.time()), "chat": fake_telegram.chat(chat),
                        "from": fake_telegram.user(chat, "it"), "text": text,
                        "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}})
                time.sleep(0.07)
        fake_telegram.wait_for(lambda: _processed(database), what="every update marked processed")
        time.sleep(0.5)  # a second handling, if there were one, would have sent by now
    for chat in chats:
        greeting, second = fake_telegram.sent_to(chat)  # exactly two replies: each update handled once
        assert "Dialoga con noi" in greeting["text"]  # /start first, then /help: in order
        assert second["text"] == "Risposta."
    assert sorted(body["sender"] for body in assistant.received) == sorted(f"telegram-{chat}" for chat in chats)
    with database.session() as session:
        assert all(row.claimed_by for row in session.scalars(select(TelegramUpdate)))  # each taken by a claim


def _processed(database):
    with database.session() as session:
        return all(row.processed_at is not None for row in session.scalars(select(TelegramUpdate)))


def test_the_webhook_is_not_there_in_polling_mode(database):
    client = desk_app_for(database).test_client()
    assert client.post("/telegram/webhook", json={"update_id": 1},
                       headers={"X-Telegram-Bot-Api-Secret-Token": ""}).status_code == 404


def test_a_closed_ticket_takes_no_attachment(database):
    ticket = open_one(database)
    with database.session() as session:
        tickets.close(session, tickets.find_by_ref(session, ticket.ref), actor="op")
    with pytest.raises(tickets.TicketClosed):
        with database.session() as session:
            tickets.add_attachment(session, tickets.find_by_ref(session, ticket.ref), "a.pdf", "application/pdf", b"%PDF")
    with database.session() as session:
        assert tickets.attachments_of(session, tickets.find_by_ref(session, ticket.ref)) == []
