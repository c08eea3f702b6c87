"""Replies shared by several actions: the offer of a person, and recording a turn."""
from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import channel_of, language_of, latest_intent, latest_text
from actions.runtime import in_session
from actions.texts import say
from desk.db import DatabaseUnavailable
from desk.services import analytics

log = logging.getLogger(__name__)


def why_unanswered(tracker: Tracker) -> str:
    """The message for a question the assistant cannot answer: another language, or out of scope."""
    return "foreign_language" if tracker.get_slot("foreign_language") else "cannot_answer"


def offer_human(dispatcher: CollectingDispatcher, language: str, message_key: str = "cannot_answer") -> None:
    dispatcher.utter_message(
        text=say(message_key, language),
        buttons=[
            {"title": say("button_yes_human", language), "payload": "/affirm"},
            {"title": say("button_no", language), "payload": "/deny"},
        ],
        json_message={"escalation": "offer"},
    )


def record_turn_in(session, tracker: Tracker, outcome: str, topic: str = None) -> None:
    """Record what the assistant did with the user's latest message, in the caller's unit of work."""
    intent = latest_intent(tracker)
    analytics.record_turn(
        session, tracker.sender_id, outcome, latest_text(tracker), language_of(tracker),
        channel=channel_of(tracker), topic=topic, intent=intent.get("name"), confidence=intent.get("confidence"),
    )


async def record_turn(tracker: Tracker, outcome: str, topic: str = None) -> None:
    """Best effort: analytics must never stop a reply."""
    try:
        await in_session(lambda session: record_turn_in(session, tracker, outcome, topic))
    except DatabaseUnavailable:
        log.warning("could not record the turn of %s: database unavailable", tracker.sender_id)
