"""Input from the public: user text cleaned once on the way in, malformed requests answered
with a clear 4xx, no secret in the logs, and ticket lookups that reveal nothing personal."""
from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from sqlalchemy import select

from desk.models import AssistantTurn
from desk.models.base import utcnow
from desk.services import analytics, learning
from desk.services.conversations import InboundMessage
from desk.text import printable, user_text

# What survived desk.text.printable before: C1 controls, non-characters, a lone surrogate,
# bidi overrides and zero-width spaces, decomposed accents, absurd runs of blanks.
HOSTILE = ("Congedo\u0085 parentale\u009b31m \ufdd0per\ufffe mio\U0001fffe figlio\ud800 "
           "\u202equanti\u200b giorni?\u0000\x1b[2J \t\t   e" + "\u0301" + "\n\n\n\n\nspettano")


def test_user_text_keeps_what_users_meant_and_drops_the_rest():
    cleaned = user_text(HOSTILE)
    assert cleaned == "Congedo\nparentale31m per mio figlio quanti giorni?[2J é\n\nspettano"
    assert unicodedata.is_normalized("NFC", cleaned)
    assert all(unicodedata.category(char) not in ("Cc", "Cs", "Cf") or char == "\n" for char in cleaned)
    cleaned.encode("utf-8")  # a lone surrogate would make this fail


def test_user_text_leaves_ordinary_messages_alone():
    for text in ("Quanti giorni di congedo?", "Famiglia 👨\u200d👩\u200d👧 e lavoro", "riga uno\nriga due", "perché no"):
        assert user_text(text) == text
    assert printable("tab\tand\nnewline") == "tab\tand\nnewline"


def test_every_channel_sends_the_cleaned_text_to_the_assistant():
    payload = InboundMessage("telegram", "42", HOSTILE, "it").payload()
    assert payload["message"] == user_text(HOSTILE)
    assert InboundMessage("widget", "s", "  /BOT\u200b ").payload()["message"] == "/back_to_bot"


@pytest.fixture
def nlu_dir(tmp_path):
    folder = tmp_path / "nlu"
    learning.ensure_learned_files(folder)
    return folder


def _label_everything(database, nlu_dir, topic="congedo_parentale"):
    with database.session() as session:
        ids = [turn.id for turn in session.scalars(select(AssistantTurn))]
        plan = learning.plan_labelling(session, nlu_dir, topic, ids, ids)
        learning.apply_labelling(session, nlu_dir, topic, ids, ids, plan.digests, "op@desk")


def _rasa_examples(nlu_dir):
    from rasa.shared.nlu.training_data.loading import load_data

    return sorted(example.get("text") for example in load_data(str(nlu_dir / "it" / "learned.yml")).training_examples)


def test_a_labelled_message_with_hostile_characters_is_valid_training_data(database, nlu_dir):
    with database.session() as session:
        analytics.record_turn(session, "telegram-1", "unanswered", HOSTILE.replace("\u0000", ""), "it", channel="telegram")
    _label_everything(database, nlu_dir)
    assert _rasa_examples(nlu_dir) == ["Congedo parentale31m per mio figlio quanti giorni?(2J é spettano"]


def test_messages_stored_before_the_cleaning_still_give_valid_training_data(tmp_path, nlu_dir):
    """Rows written by older code (on SQLite, which stores anything) are cleaned when labelled."""
    from desk import migrate
    from desk.db import Database

    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url)
    database = Database(url)
    try:
        with database.session() as session:
            session.add(AssistantTurn(conversation_id="old", outcome="unanswered", text="pensione\u0085 \ufdd0anticipata\u009f?",
                                      language="it", channel="rest", intent="nlu_fallback",
                                      created_at=utcnow() - timedelta(hours=1)))
        _label_everything(database, nlu_dir, "part_time")
        assert _rasa_examples(nlu_dir) == ["pensione anticipata?"]
    finally:
        database.dispose()


# --- no secret in the logs -------------------------------------------------------------------

def test_the_redaction_filter_blanks_configured_secrets_and_bot_tokens_in_messages_and_tracebacks():
    import logging

    from desk.log_redaction import RedactSecrets

    redaction = RedactSecrets(["the-webhook-secret", "a-desk-secret-key", None, "abc"])
    try:
        raise RuntimeError("GET https://api.telegram.org/bot987654321:AAH-xyzxyzxyzxyzxyzxyzxyzxyzxyzxyz/getMe failed")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "secrets %s and %s; abc stays", (
            "the-webhook-secret", "a-desk-secret-key"), sys.exc_info())
    assert redaction.filter(record)
    line = logging.Formatter("%(message)s").format(record)
    assert "the-webhook-secret" not in line and "a-desk-secret-key" not in line and "AAH-xyz" not in line
    assert "secrets [redacted] and [redacted]; abc stays" in line and "bot[redacted]/getMe" in line


def test_a_real_gateway_run_logs_no_secret(tmp_path):
    """`python -m bot.telegram` as production runs it, against the fake Bot API and a stand-in
    assistant: it gets updates, answers a user, delivers an operator's reply (after a 5xx)."""
    import os
    import signal
    import subprocess
    import sys

    from desk import migrate
    from desk.config import PROJECT_ROOT
    from desk.db import Database
    from desk.services import tickets
    from desk.services.business_hours import BusinessCalendar
    from tests.support.fake_telegram import TOKEN, FakeTelegram
    from tests.support.web_server import RecordingAssistant, serving

    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    migrate.upgrade(url)
    database = Database(url)
    secrets = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "webhook-secret-0123456789",
               "DIALOGA_SECRET_KEY": "desk-secret-key-0123456789-long-enough-for-the-desk"}
    assistant = RecordingAssistant(lambda payload: [{"text": f"Hai scritto: {payload['message']}"}])
    chat = 5_550_001
    log_file = tmp_path / "gateway.log"
    with FakeTelegram() as fake, serving(assistant) as assistant_url, open(log_file, "wb") as log:
        env = dict(os.environ, DIALOGA_DATABASE_URL=url, DIALOGA_RASA_URL=assistant_url, TELEGRAM_API_URL=fake.base_url,
                   TELEGRAM_FILE_URL=fake.base_file_url, TELEGRAM_DELIVERY_INTERVAL="0.2", **secrets)
        process = subprocess.Popen([sys.executable, "-m", "bot.telegram"], cwd=PROJECT_ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            fake.user_writes(chat, "buongiorno")
            assert "Hai scritto: buongiorno" in fake.wait_for_messages(chat, 1)[0]["text"]
            with database.session() as session:
                ticket = tickets.open_ticket(session, tickets.TicketIntake(
                    intake_key=None, channel="telegram", reply_address=str(chat), conversation_id=f"telegram-{chat}",
                    language="it", role="worker", name="Anna", contact="telegram", contact_kind="channel",
                    company_name="", question="Una domanda per l'operatore", consent_at=utcnow()), BusinessCalendar.from_env())
                fake.fail("sendMessage", 502, "Bad Gateway")
                tickets.reply(session, ticket, "Ecco la risposta dell'operatore", actor="op@desk")
            fake.wait_for(lambda: any("risposta dell'operatore" in m["text"] for m in fake.sent_to(chat)), 30,
                          "the operator's reply")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            database.dispose()
    output = log_file.read_text(encoding="utf-8", errors="replace")
    assert "telegram gateway running" in output and "Bad Gateway" in output  # the log was captured, failures included
    assert fake.calls_of("getUpdates") and fake.calls_of("sendChatAction", chat)
    for name, secret in secrets.items():
        assert secret not in output, f"{name} is in the gateway's log"
    assert TOKEN.split(":")[1] not in output


# --- a reference reveals the status only -------------------------------------------------------

def test_lookups_count_per_conversation_identity_and_client():
    from desk.services.rate_limit import MemoryRateLimiter
    from desk.services.ticket_lookup import Requester, limits

    limiter = MemoryRateLimiter(clock=lambda: 1000.0)

    def allowed(requester):
        return all(limiter.hit(name, key, limit).allowed for name, key, limit in limits(2, requester))

    # New widget conversations from one address: the client's wider limit (3 x 2) stops them.
    outcomes = [allowed(Requester(f"widget-{n}", "widget", str(n), client="addr-1")) for n in range(7)]
    assert outcomes == [True] * 6 + [False]
    # One Telegram chat in new conversations: its channel identity is counted.
    outcomes = [allowed(Requester(f"telegram-42-{n}", "telegram", "42")) for n in range(3)]
    assert outcomes == [True, True, False]


def _open_telegram_ticket(database, chat: int) -> str:
    from desk.services import tickets
    from desk.services.business_hours import BusinessCalendar

    with database.session() as session:
        ticket = tickets.open_ticket(session, tickets.TicketIntake(
            intake_key=None, channel="telegram", reply_address=str(chat), conversation_id=f"telegram-{chat}",
            language="it", role="worker", name="Rita Gialli", contact="telegram", contact_kind="channel",
            company_name="", question="Posso chiedere il part-time dopo la maternità?", consent_at=utcnow()),
            BusinessCalendar.from_env())
        tickets.reply(session, ticket, "Gentile Rita Gialli, il suo datore di lavoro deve rispondere entro...",
                      actor="op@desk")
        return ticket.ref


@pytest.mark.e2e
def test_a_reference_shows_the_reply_to_its_opener_only_through_rest_and_telegram(stack):
    import html

    from tests.support.conversation import new_sender, open_worker_ticket
    from tests.support.fake_telegram import FakeTelegram
    from tests.support.stack import custom_of, text_of
    from tests.support.telegram import gateway_settings, running_gateway

    assistant, database, _ = stack
    reply = "Gentile Rita Gialli, il suo datore di lavoro deve rispondere entro"

    # REST: a ticket opened through the form; the opener reads the reply, another sender does not.
    opener = new_sender()
    ref = open_worker_ticket(assistant, opener, "Rita Gialli", "rita@example.org", "Posso chiedere il part-time dopo la maternità?")
    from desk.services import tickets
    with database.session() as session:
        tickets.reply(session, tickets.find_by_ref(session, ref), reply + "...", actor="op@desk")
    own = assistant.say(opener, f"stato {ref}")
    assert custom_of(own)["ticket"] == {"ref": ref, "status": "waiting_on_user"} and reply in text_of(own)
    for message in (f"stato {ref}", ref.lower().replace("-", " ")):
        other = assistant.say(new_sender(), message)
        assert custom_of(other)["ticket"] == {"ref": ref, "status": "waiting_on_user"}
        assert "Rita" not in text_of(other) and "datore" not in text_of(other)
    widget_guess = assistant.say(new_sender(), f"stato {ref}", metadata={"channel": "widget", "reply_address": "w-1"})
    assert "Rita" not in text_of(widget_guess)

    # Telegram: the chat that opened the ticket reads the reply; another chat and a REST sender do not.
    chat, stranger = 7_900_001, 7_900_002
    telegram_ref = _open_telegram_ticket(database, chat)
    with FakeTelegram() as fake:
        with running_gateway(gateway_settings(fake, database, assistant.url, telegram_assistant_timeout=30.0), database):
            fake.wait_for(lambda: [m for m in fake.sent_to(chat) if "Risposta dell'operatore" in m["text"]], 30,
                          "the operator's reply")
            before = len(fake.sent_to(stranger))
            fake.user_writes(stranger, f"/stato {telegram_ref}")
            [seen_by_stranger] = fake.wait_for_messages(stranger, before + 1, 60)[before:]
            sent_to_chat = len(fake.sent_to(chat))
            fake.user_writes(chat, f"/stato {telegram_ref.lower()}")
            seen_by_opener = fake.wait_for_messages(chat, sent_to_chat + 1, 60)[sent_to_chat:]
    assert telegram_ref in seen_by_stranger["text"] and "Rita" not in html.unescape(seen_by_stranger["text"])
    assert reply in html.unescape(" ".join(message["text"] for message in seen_by_opener))
    rest = assistant.say(new_sender(), f"stato {telegram_ref}")
    assert custom_of(rest)["ticket"]["status"] == "waiting_on_user" and "Rita" not in text_of(rest)


@pytest.mark.e2e
def test_the_lookup_after_the_limit_is_refused_in_the_users_language(stack):
    from desk.config import Settings
    from tests.support.conversation import new_sender
    from tests.support.stack import custom_of, text_of

    assistant, _, _ = stack
    limit = Settings().ticket_lookups_per_hour  # the stack runs with the default
    guesser = new_sender()
    for guess in range(limit):
        replies = assistant.say(guesser, f"stato DC-ZZZZ{guess:02d}".replace("0", "A"))
        assert custom_of(replies)["ticket"]["status"] == "not_found"
    refused = assistant.say(guesser, "stato DC-ZZZZZZ")
    assert custom_of(refused)["ticket"] == {"ref": "DC-ZZZZZZ", "status": "rate_limited"}
    assert "aspetta" in text_of(refused) and "minuti" in text_of(refused)

    english = new_sender()
    for _ in range(limit):
        assistant.say(english, "What is the status of request DC-YYYYYY?")
    refused = assistant.say(english, "What is the status of request DC-YYYYYY?")
    assert custom_of(refused)["ticket"]["status"] == "rate_limited" and "please wait" in text_of(refused)
    # Another conversation is not held up by them.
    assert custom_of(assistant.say(new_sender(), "stato DC-ZZZZZZ"))["ticket"]["status"] == "not_found"


# --- malformed requests get a clear 4xx and store nothing --------------------------------------

from tests.test_widget import ASSOCIATION, assistant, client, start_session, updates  # noqa: E402,F401 (fixtures)


def _post_raw(client, session, body, lang=None, token=True):
    url = "/widget/api/messages" + (f"?lang={lang}" if lang else "")
    headers = {"Origin": ASSOCIATION, "Content-Type": "application/json"}
    if token:
        headers["X-Widget-Token"] = session["token"]
    return client.post(url, data=body, headers=headers)


def test_a_deeply_nested_or_huge_body_gets_a_4xx_in_the_users_language(client, assistant):
    session = start_session(client)
    nested = _post_raw(client, session, "[" * 60_000)
    assert nested.status_code == 400 and nested.json == {"error": "bad_request", "message": "Richiesta non valida."}
    huge = _post_raw(client, session, "[" * 100_000, lang="en")
    assert huge.status_code == 413 and huge.json["error"] == "request_too_large"
    assert huge.json["message"].startswith("The request is too large")
    for body in ('{"session": "%s", "text": "\\ud800"}' % session["session"], "\xff\xfe", '{"text": NaN}', "[]", "1e999999"):
        response = _post_raw(client, session, body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body)
        assert response.status_code == 400 and response.json["message"], body
    assert assistant.received == []


def test_the_token_is_checked_before_the_body_is_read(client, assistant):
    session = start_session(client)
    response = _post_raw(client, session, "[" * 60_000, token=False)
    assert response.status_code == 401 and response.json["error"] == "session_expired"
    response = client.post("/widget/api/messages", data="{", headers={
        "Origin": ASSOCIATION, "X-Widget-Token": "forged", "Accept-Language": "en-GB,en;q=0.9"})
    assert response.status_code == 401 and response.json["message"].startswith("This conversation has expired")


def test_updates_after_must_be_a_sane_outbox_id_and_nothing_is_marked_sent_on_refusal(client, database):
    from desk.services import tickets
    from tests.test_widget import open_widget_ticket

    session = start_session(client)
    ref = open_widget_ticket(database, session["session"])
    with database.session() as db:
        tickets.reply(db, tickets.find_by_ref(db, ref), "Risposta per te", actor="op")
    for after in ("١٢", "²", "9" * 20, "2147483648", "-1", "1e3", "", " 1", "0x10"):
        response = client.get("/widget/api/updates", query_string={"session": session["session"], "after": after},
                              headers={"Origin": ASSOCIATION, "X-Widget-Token": session["token"]})
        assert response.status_code == 400 and response.json["error"] == "bad_request", after
    delivered = updates(client, session)
    assert [message["text"] for message in delivered.json["messages"]] == ["Risposta per te"]


def _webhook_client(database):
    from tests.support.desk import desk_app_for

    return desk_app_for(database, telegram_mode="webhook", telegram_webhook_secret="webhook-secret-0123456789").test_client()


def _stored_updates(database):
    from desk.models import TelegramUpdate

    with database.session() as session:
        return [(row.update_id, row.payload) for row in session.scalars(select(TelegramUpdate).order_by(TelegramUpdate.update_id))]


def test_the_telegram_webhook_refuses_malformed_updates_with_json_and_cleans_what_it_stores(database):
    client = _webhook_client(database)
    secret = {"X-Telegram-Bot-Api-Secret-Token": "webhook-secret-0123456789", "Content-Type": "application/json"}
    for body in ("[" * 60_000, '{"update_id": 1e3}', '{"update_id": 99999999999999999999999}', '{"update_id": -5}',
                 '{"update_id": true}', '{"update_id": 1, "message": {"date": Infinity}}', "\xff"):
        response = client.post("/telegram/webhook", data=body.encode("utf-8", "surrogateescape"), headers=secret)
        assert response.status_code == 400 and response.json["ok"] is False, body
    too_large = client.post("/telegram/webhook", data="[" * 100_000, headers=secret)
    assert too_large.status_code == 413 and too_large.is_json
    assert client.post("/telegram/webhook", data="[" * 60_000).status_code == 403  # the secret comes first
    assert _stored_updates(database) == []
    hostile = '{"update_id": 5, "message": {"text": "ciao\\u0000\\ud800\\u0085 a tutti"}}'
    assert client.post("/telegram/webhook", data=hostile, headers=secret).status_code == 200
    assert _stored_updates(database) == [(5, {"update_id": 5, "message": {"text": "ciao a tutti"}})]


def test_a_desk_form_larger_than_the_limit_is_refused_with_a_page(desk_login):
    from desk.models import Role

    operator = desk_login(Role.OPERATOR)
    response = operator.post("/knowledge/congedo_parentale", data={"answer_it": "x" * 100_000})
    assert response.status_code == 413 and "troppo grande" in response.get_data(as_text=True)


def test_an_update_the_gateway_cannot_read_is_skipped_and_the_next_one_is_handled(database):
    """The webhook stores any JSON object with an update_id; one that is not a Telegram update
    must not stop the gateway's inbox loop."""
    from tests.support.fake_telegram import FakeTelegram
    from tests.support.stack import free_port
    from tests.support.telegram import gateway_settings, running_gateway

    client = _webhook_client(database)
    secret = {"X-Telegram-Bot-Api-Secret-Token": "webhook-secret-0123456789"}
    assert client.post("/telegram/webhook", json={"update_id": 1, "message": {"chat": "not a chat"}}, headers=secret).status_code == 200
    with FakeTelegram() as fake:
        start = {"update_id": 2, "message": {"message_id": 1, "date": 0, "chat": fake.chat(4242), "from": fake.user(4242, "it"),
                                             "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
        assert client.post("/telegram/webhook", json=start, headers=secret).status_code == 200
        settings = gateway_settings(fake, database, f"http://127.0.0.1:{free_port()}", telegram_mode="webhook",
                                    telegram_webhook_secret="webhook-secret-0123456789",
                                    telegram_webhook_url="https://sportello.example/telegram/webhook")
        with running_gateway(settings, database):
            [greeting] = fake.wait_for_messages(4242, 1)
            fake.wait_for(lambda: _all_processed(database), what="both updates marked processed")
    assert "Dialoga con noi" in greeting["text"]


def _all_processed(database):
    from desk.models import TelegramUpdate

    with database.session() as session:
        rows = session.scalars(select(TelegramUpdate)).all()
        return len(rows) == 2 and all(row.processed_at is not None for row in rows)


def test_ids_in_desk_urls_beyond_the_integer_columns_are_not_found(desk_login):
    from desk.models import Role

    admin = desk_login(Role.ADMIN)
    for path in ("/directory/99999999999999999999", "/admin/users/2147483648/role", "/risposte-predefinite/1180591620717411303424/modifica"):
        response = admin.get(path) if "directory" in path else admin.post(path, data={})
        assert response.status_code == 404, (path, response.status_code)
