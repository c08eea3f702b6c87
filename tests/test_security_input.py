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
               "DIALOGA_SECRET_KEY": "desk-secret-key-0123456789"}
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
