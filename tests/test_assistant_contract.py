"""End to end through the REST channel: the trained assistant and the action
server, on a real PostgreSQL database, checked against ../shared/contract.md."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from desk.services import knowledge
from desk.topics import topic_ids
from tests.support.conversation import new_sender, training_example
from tests.support.stack import custom_of, text_of

pytestmark = pytest.mark.e2e


def assert_answers(replies, topic):
    custom = custom_of(replies)
    assert custom.get("topic") == topic, replies
    assert custom.get("source")
    date.fromisoformat(custom["verified_on"])
    assert "escalation" not in custom
    text = text_of(replies)
    assert custom["source"] in text
    buttons = [button["payload"] for message in replies for button in message.get("buttons", [])]
    assert {"/feedback_helpful", "/feedback_not_helpful", "/request_human"} <= set(buttons)
    return text


@pytest.mark.parametrize("topic", topic_ids())
def test_every_topic_is_answered_in_italian_with_its_source(assistant, topic):
    text = assert_answers(assistant.say(new_sender(), training_example(topic, "it")), topic)
    assert "Fonte:" in text and "Verificato il" in text


@pytest.mark.parametrize("topic", topic_ids())
def test_every_topic_is_answered_in_english_with_its_source(assistant, topic):
    text = assert_answers(assistant.say(new_sender(), training_example(topic, "en")), topic)
    assert "Source:" in text and "Last verified on" in text


@pytest.mark.parametrize("message", [
    "quando posso andare in pensione con quota 103?",
    "mi hanno licenziato senza preavviso, cosa posso fare?",
    "how do I renew my residence permit?",
    "che tempo fa domani a Milano?",
    "come compilo il 730?",
    "asdfghjkl",
])
def test_out_of_scope_questions_are_escalated_not_answered(assistant, message):
    replies = assistant.say(new_sender(), message)
    custom = custom_of(replies)
    assert custom.get("escalation") == "offer", replies
    assert "topic" not in custom


def test_an_english_out_of_scope_question_is_declined_in_english(assistant):
    replies = assistant.say(new_sender(), "Can you help me with my tax return this year?")
    assert custom_of(replies).get("escalation") == "offer"
    assert "Would you like a desk operator" in text_of(replies)


def test_asking_for_a_person_goes_straight_to_intake(assistant):
    replies = assistant.say(new_sender(), "voglio parlare con un operatore")
    assert custom_of(replies).get("escalation") == "intake"


def test_accepting_the_offer_starts_intake(assistant):
    sender = new_sender()
    assert custom_of(assistant.say(sender, "come faccio la dichiarazione dei redditi?")).get("escalation") == "offer"
    assert custom_of(assistant.say(sender, "/affirm")).get("escalation") == "intake"


def test_the_language_is_kept_for_the_conversation(assistant):
    sender = new_sender()
    first = assistant.say(sender, "How many days of paternity leave do fathers get in Italy?")
    assert custom_of(first).get("language") == "en"
    second = assistant.say(sender, "ok")  # ambiguous: stays English
    assert "What would you like" in text_of(second) or "Would you like" in text_of(second) or "help" in text_of(second).lower()


def test_feedback_buttons_are_understood(assistant):
    sender = new_sender()
    assistant.say(sender, training_example("bonus_asilo_nido", "it"))
    helpful = assistant.say(sender, "/feedback_helpful")
    assert "Grazie del riscontro" in text_of(helpful)
    not_helpful = assistant.say(sender, "/feedback_not_helpful")
    assert custom_of(not_helpful).get("escalation") == "offer"


@pytest.mark.parametrize("message", [
    "", "   ", "x" * 10_000, "🙂🙂🙂", "\x00\x07\x1b[31m ciao", "Wie viele Tage Elternzeit bekomme ich als Vater?",
    "<script>alert(1)</script>", "/nonexistent_intent", '{"json": true}',
])
def test_bad_input_gets_a_clear_reply(assistant, message):
    replies = assistant.say(new_sender(), message)
    assert replies, "the assistant must never go silent"
    assert text_of(replies).strip()
    assert "topic" not in custom_of(replies) or message.startswith("\x00")


def test_another_language_is_told_which_languages_we_speak(assistant):
    replies = assistant.say(new_sender(), "Wie viele Tage Elternzeit bekomme ich als Vater?")
    assert "italiano o in inglese" in text_of(replies)
    assert custom_of(replies).get("escalation") == "offer"


def test_an_edit_in_the_database_shows_in_the_next_reply_without_retraining(stack):
    assistant, database, _ = stack
    question = training_example("orario_flessibile", "it")
    before = text_of(assistant.say(new_sender(), question))
    new_text = "Banca delle ore: testo aggiornato dall'operatore il " + uuid.uuid4().hex[:6]
    with database.session() as session:
        knowledge.update_entry(session, "orario_flessibile", {"answer_it": new_text}, author="operatore@test")
    after = text_of(assistant.say(new_sender(), question))
    assert new_text not in before and new_text in after


def test_an_unreachable_database_is_said_plainly_and_a_person_offered(stack):
    assistant, _, proxy = stack
    question = training_example("congedo_parentale", "it")
    proxy.cut()
    try:
        replies = assistant.say(new_sender(), question, timeout=60)
    finally:
        proxy.restore()
    assert "non riesco a consultare la base di conoscenza" in text_of(replies)
    custom = custom_of(replies)
    assert custom.get("escalation") == "offer" and "topic" not in custom
    recovered = assistant.say(new_sender(), question)
    assert custom_of(recovered).get("topic") == "congedo_parentale"
