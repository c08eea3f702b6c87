"""Actions run with a real Tracker and CollectingDispatcher against a real database
(SQLite and PostgreSQL), as in Rasa's financial-demo; no servers needed."""
from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import runtime
from actions.escalation import ActionOfferHuman
from actions.intake import AskRole
from actions.feedback import ActionRecordFeedback
from actions.knowledge import ActionAnswerTopic
from actions.turn import ActionReadTurn
from desk.models import AnswerFeedback, AssistantTurn
from desk.services import knowledge


@pytest.fixture
def action_database(seeded_database, monkeypatch):
    """Point the action server's runtime at the test database."""
    monkeypatch.setenv("DIALOGA_DATABASE_URL", seeded_database.url)
    runtime.database.cache_clear()
    yield seeded_database
    runtime.database().dispose()
    runtime.database.cache_clear()


def tracker(text="", intent=None, confidence=0.9, slots=None, metadata=None, sender="user-1"):
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": [],
              "metadata": metadata or {}}
    return Tracker(sender, dict(slots or {}), latest, [], False, None, {}, "rest")


def run(action, tracker_):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_, {}))
    return dispatcher.messages, events


def test_a_topic_is_answered_from_the_database_with_source_and_date(action_database):
    messages, events = run(ActionAnswerTopic(), tracker("quanti giorni al papà?", "congedo_paternita", slots={"language": "it"}))
    custom = messages[0]["custom"]
    assert custom["topic"] == "congedo_paternita" and custom["source"] and custom["verified_on"]
    with action_database.session() as session:
        entry = knowledge.find_entry(session, "congedo_paternita")
        turn = session.scalars(select(AssistantTurn)).one()
    assert entry.answer_it in messages[0]["text"]
    assert "Fonte: " + entry.source in messages[0]["text"]
    assert turn.outcome == "answered" and turn.topic == "congedo_paternita"
    assert {"event": "slot", "name": "last_topic", "value": "congedo_paternita", "timestamp": None} in events


def test_the_answer_follows_the_conversation_language(action_database):
    messages, _ = run(ActionAnswerTopic(), tracker("paternity leave?", "congedo_paternita", slots={"language": "en"}))
    with action_database.session() as session:
        entry = knowledge.find_entry(session, "congedo_paternita")
    assert entry.answer_en in messages[0]["text"] and "Source: " in messages[0]["text"]


def test_the_unconfirmed_note_appears_only_with_a_statement_marked_in_the_text(action_database):
    with action_database.session() as session:
        entry = knowledge.find_entry(session, "congedo_paternita")
        knowledge.update_entry(session, "congedo_paternita", {"unconfirmed": True}, author="op")
    messages, _ = run(ActionAnswerTopic(), tracker("papà?", "congedo_paternita", slots={"language": "it"}))
    assert messages[0]["custom"]["unconfirmed"] is False
    assert "da confermare" not in messages[0]["text"]
    with action_database.session() as session:
        knowledge.update_entry(session, "congedo_paternita", {"answer_it": entry.answer_it + " Vale anche così (*)."},
                               author="op")
    messages, _ = run(ActionAnswerTopic(), tracker("papà?", "congedo_paternita", slots={"language": "it"}))
    assert messages[0]["custom"]["unconfirmed"] is True
    assert "(*) Punto ancora da confermare: un operatore dello sportello può verificarlo" in messages[0]["text"]


def test_an_edit_is_in_the_very_next_answer(action_database):
    with action_database.session() as session:
        knowledge.update_entry(session, "part_time", {"answer_it": "Nuovo testo sul part-time."}, author="op")
    messages, _ = run(ActionAnswerTopic(), tracker("part time", "part_time", slots={"language": "it"}))
    assert "Nuovo testo sul part-time." in messages[0]["text"]


def test_an_unreachable_database_gives_an_offer_not_an_answer(monkeypatch):
    monkeypatch.setenv("DIALOGA_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("DIALOGA_DB_CONNECT_TIMEOUT", "1")
    runtime.database.cache_clear()
    try:
        messages, _ = run(ActionAnswerTopic(), tracker("part time", "part_time", slots={"language": "en"}))
    finally:
        runtime.database.cache_clear()
    assert messages[0]["custom"] == {"escalation": "offer"}
    assert "can't reach the knowledge base" in messages[0]["text"]


def test_out_of_scope_offers_a_person_and_is_recorded_as_unanswered(action_database):
    messages, _ = run(ActionOfferHuman(), tracker("quota 103?", "out_of_scope", slots={"language": "it"}))
    assert messages[0]["custom"] == {"escalation": "offer"}
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/affirm", "/deny"]
    with action_database.session() as session:
        turn = session.scalars(select(AssistantTurn)).one()
    assert turn.outcome == "unanswered" and turn.text == "quota 103?"


def test_another_language_is_answered_in_both_of_ours(action_database):
    messages, _ = run(ActionOfferHuman(), tracker("Wie viel?", "nlu_fallback", slots={"language": "it", "foreign_language": "de"}))
    assert "italiano o in inglese" in messages[0]["text"] and "Italian or English" in messages[0]["text"]


def test_the_first_intake_question_carries_the_contract_payload(action_database):
    messages, _ = run(AskRole(), tracker("operatore", "request_human", slots={"language": "it"}))
    assert messages[0]["custom"] == {"escalation": "intake", "asks": "role"}
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        "Lavoratore/lavoratrice", "Titolare d'impresa", "Consulente", "Altro"]


def test_feedback_is_stored_per_topic(action_database):
    run(ActionRecordFeedback(), tracker("/feedback_helpful", "feedback_helpful", slots={"language": "it", "last_topic": "doposcuola"}))
    run(ActionRecordFeedback(), tracker("/feedback_not_helpful", "feedback_not_helpful", slots={"language": "it", "last_topic": "doposcuola"}))
    with action_database.session() as session:
        rows = session.scalars(select(AnswerFeedback).order_by(AnswerFeedback.id)).all()
    assert [(r.topic, r.helpful) for r in rows] == [("doposcuola", True), ("doposcuola", False)]


def test_a_rating_sent_again_with_its_message_key_is_recorded_once(action_database):
    # The client's retry reaches an action server that never saw the first one (an assistant died
    # before saving the conversation): the events do not show it, the key does.
    rated = dict(slots={"language": "it", "last_topic": "doposcuola"}, metadata={"message_key": "choice-m4-0"})
    for sender in ("user-1", "user-1", "user-2"):
        run(ActionRecordFeedback(), tracker("/feedback_helpful", "feedback_helpful", sender=sender, **rated))
    run(ActionRecordFeedback(), tracker("/feedback_helpful", "feedback_helpful", sender="user-1",
                                        slots=rated["slots"], metadata={"message_key": "choice-m9-0"}))
    with action_database.session() as session:
        rows = session.scalars(select(AnswerFeedback).order_by(AnswerFeedback.id)).all()
    # Once per key and conversation: another user's same key and a later rating count.
    assert [row.conversation_id for row in rows] == ["user-1", "user-2", "user-1"]
    assert all(len(row.message_key) == 64 and "user" not in row.message_key for row in rows)


def test_language_detection_sets_the_slots(action_database):
    _, events = run(ActionReadTurn(), tracker("How many days of parental leave can I take?", slots={"language": "it"}))
    assert {e["name"]: e["value"] for e in events} == {"language": "en"}  # only what changed is set
    _, events = run(ActionReadTurn(), tracker("How many days of parental leave can I take?", slots={"language": "en"}))
    assert events == []
    _, events = run(ActionReadTurn(), tracker("¿Cuántos días de permiso parental me corresponden?",
                                              slots={"language": "it", "foreign_language": None}))
    assert {e["name"] for e in events} <= {"language", "foreign_language"} and events
    _, events = run(ActionReadTurn(), tracker("ELBA", slots={}, metadata={"language": "en"}))
    assert {e["name"]: e["value"] for e in events}["language"] == "en"
