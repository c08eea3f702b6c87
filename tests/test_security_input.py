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
