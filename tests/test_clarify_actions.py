"""Clarification in the actions, with a real Tracker and CollectingDispatcher against a real
database (SQLite and PostgreSQL): the question with the topics' titles, the record of what
was offered, the user's choice on the next turn, and transcripts that show button titles."""
from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import runtime
from actions.clarify import offered_by_last_reply
from actions.escalation import ActionOfferHuman
from actions.intake import conversation_transcript
from actions.turn import ActionReadTurn
from desk.models import AssistantTurn, Clarification
from desk.services import knowledge
from tests.test_actions import action_database  # noqa: F401 (fixture)

AMBIGUOUS = [{"name": "nlu_fallback", "confidence": 0.35}, {"name": "congedo_paternita", "confidence": 0.54},
             {"name": "congedo_parentale", "confidence": 0.45}, {"name": "out_of_scope", "confidence": 0.01}]


def tracker(text, intent, ranking=None, slots=None, events=None, sender="user-1", confidence=1.0):
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": [],
              "intent_ranking": ranking or [], "metadata": {}}
    return Tracker(sender, {"language": "it", **(slots or {})}, latest, events or [], False, None, {}, "rest")


def run(action, tracker_):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_, {}))
    return dispatcher.messages, events


def clarification_events(message, offered_reply):
    """The tracker's events after the user wrote `message` and the assistant clarified."""
    return [
        {"event": "user", "text": message, "parse_data": {}},
        {"event": "bot", "text": offered_reply["text"],
         "data": {"buttons": offered_reply["buttons"], "custom": offered_reply["custom"]}},
    ]


def ask(action_database, language="it", sender="user-1"):
    messages, _ = run(ActionOfferHuman(), tracker("congedo parentale o paternità?", "nlu_fallback", AMBIGUOUS,
                                                  slots={"language": language}, sender=sender, confidence=0.35))
    return messages[0]


def test_an_uncertain_message_gets_the_topics_titles_and_a_person(action_database):
    reply = ask(action_database)
    assert reply["custom"] == {"clarify": ["congedo_paternita", "congedo_parentale"]}
    with action_database.session() as session:
        titles = knowledge.titles_for(session, ["congedo_paternita", "congedo_parentale"], "it")
    assert reply["buttons"] == [
        {"title": titles["congedo_paternita"], "payload": "/congedo_paternita"},
        {"title": titles["congedo_parentale"], "payload": "/congedo_parentale"},
        {"title": "Nessuna di queste: parla con una persona", "payload": "/request_human"},
    ]
    assert "escalation" not in reply["custom"]  # a clarification answers nothing and offers nothing yet
    with action_database.session() as session:
        turn = session.scalars(select(AssistantTurn)).one()
        clarification = session.scalars(select(Clarification)).one()
        assert (turn.outcome, turn.text, turn.intent) == ("clarified", "congedo parentale o paternità?", "nlu_fallback")
        assert clarification.turn_id == turn.id and clarification.offered == ["congedo_paternita", "congedo_parentale"]
        assert clarification.choice is None


def test_one_topic_worth_offering_is_asked_about_as_one(action_database):
    unsure = [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "privacy_dati", "confidence": 0.3},
              {"name": "affirm", "confidence": 0.02}]
    assert ask(action_database)["text"].endswith("Di quale di questi argomenti vuoi sapere?")
    messages, _ = run(ActionOfferHuman(), tracker("cancellate le mie conversazioni", "nlu_fallback", unsure,
                                                  sender="user-2", confidence=0.3))
    assert messages[0]["custom"] == {"clarify": ["privacy_dati"]}
    assert messages[0]["text"].endswith("Vuoi sapere di questo argomento?")


def test_english_users_read_english_titles(action_database):
    reply = ask(action_database, language="en")
    with action_database.session() as session:
        english = knowledge.titles_for(session, ["congedo_paternita"], "en")["congedo_paternita"]
    assert reply["buttons"][0]["title"] == english
    assert reply["buttons"][-1] == {"title": "None of these: talk to a person", "payload": "/request_human"}


def test_out_of_scope_and_weak_rankings_still_get_the_offer(action_database):
    messages, _ = run(ActionOfferHuman(), tracker("quando vado in pensione?", "out_of_scope", AMBIGUOUS))
    assert messages[0]["custom"] == {"escalation": "offer"}
    weak = [{"name": "nlu_fallback", "confidence": 0.35}, {"name": "out_of_scope", "confidence": 0.2},
            {"name": "congedo_parentale", "confidence": 0.15}]
    messages, _ = run(ActionOfferHuman(), tracker("boh", "nlu_fallback", weak, confidence=0.35))
    assert messages[0]["custom"] == {"escalation": "offer"}
    with action_database.session() as session:
        assert session.scalars(select(Clarification)).all() == []
        assert {turn.outcome for turn in session.scalars(select(AssistantTurn))} == {"unanswered"}


def test_another_language_is_not_clarified(action_database):
    messages, _ = run(ActionOfferHuman(), tracker("congé parental?", "nlu_fallback", AMBIGUOUS,
                                                  slots={"foreign_language": "fr"}, confidence=0.35))
    assert messages[0]["custom"] == {"escalation": "offer"}


def test_an_unreachable_database_gives_the_offer_not_a_clarification_without_titles(monkeypatch):
    monkeypatch.setenv("DIALOGA_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("DIALOGA_DB_CONNECT_TIMEOUT", "1")
    runtime.database.cache_clear()
    try:
        messages, _ = run(ActionOfferHuman(), tracker("congedo?", "nlu_fallback", AMBIGUOUS, confidence=0.35))
    finally:
        runtime.database.cache_clear()
    assert [message["custom"] for message in messages] == [{"escalation": "offer"}]


def choose(action_database, text, intent, sender="user-1"):
    reply = ask(action_database, sender=sender)
    events = clarification_events("congedo parentale o paternità?", reply) + [{"event": "user", "text": text}]
    run(ActionReadTurn(), tracker(text, intent, events=events, sender=sender))
    with action_database.session() as session:
        clarification = session.scalars(select(Clarification).where(Clarification.conversation_id == sender)).one()
        return clarification.choice, clarification.chosen_topic


def test_pressing_an_offered_topic_is_recorded_as_the_choice(action_database):
    assert choose(action_database, "/congedo_parentale", "congedo_parentale") == ("topic", "congedo_parentale")


def test_pressing_a_person_is_recorded_as_the_choice(action_database):
    assert choose(action_database, "/request_human", "request_human", sender="user-2") == ("person", None)


def test_writing_something_else_is_recorded_as_neither(action_database):
    assert choose(action_database, "e il bonus nido?", "bonus_asilo_nido", sender="user-3") == ("other", None)


def test_only_the_turn_right_after_a_clarification_is_its_choice():
    reply = {"text": "Quale?", "buttons": [], "custom": {"clarify": ["sanarti"]}}
    events = clarification_events("fondo", reply) + [{"event": "user", "text": "/sanarti"}]
    assert offered_by_last_reply(events) == ["sanarti"]
    later = events + [{"event": "bot", "text": "San.Arti. è...", "data": {"custom": {"topic": "sanarti"}}},
                      {"event": "user", "text": "grazie"}]
    assert offered_by_last_reply(later) is None
    assert offered_by_last_reply([{"event": "user", "text": "ciao"}]) is None


def test_the_transcript_shows_a_pressed_buttons_title_not_its_payload():
    events = [
        {"event": "user", "text": "congedo parentale o paternità?"},
        {"event": "bot", "text": "Di quale argomento?", "data": {"buttons": [
            {"title": "Congedo parentale", "payload": "/congedo_parentale"},
            {"title": "Nessuna di queste: parla con una persona", "payload": "/request_human"}]}},
        {"event": "bot", "text": None, "data": {"custom": {"clarify": ["congedo_parentale"]}}},
        {"event": "user", "text": "/congedo_parentale"},
        {"event": "bot", "text": "Il congedo parentale...", "data": {"buttons": [{"title": "👍 Sì", "payload": "/feedback_helpful"}]}},
        {"event": "user", "text": "/request_human"},  # not among the last message's buttons: kept as written
    ]
    lines = conversation_transcript(Tracker("u", {}, {}, events, False, None, {}, "rest"))
    assert [line["text"] for line in lines if line["who"] == "user"] == [
        "congedo parentale o paternità?", "Congedo parentale", "/request_human"]
