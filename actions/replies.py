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


def offer_human(dispatcher: CollectingDispatcher, language: str, message_key: str = "cannot_answer") -> None:
    dispatcher.utter_message(
        text=say(message_key, language),
        buttons=[
            {"title": say("button_yes_human", language), "payload": "/affirm"},
            {"title": say("button_no", language), "payload": "/deny"},
        ],
        json_message={"escalation": "offer"},
    )


async def record_turn(tracker: Tracker, outcome: str, topic: str = None) -> None:
    """Best effort: analytics must never stop a reply."""
    intent = latest_intent(tracker)
    try:
        await in_session(
            lambda session: analytics.record_turn(
                session, tracker.sender_id, outcome, latest_text(tracker), language_of(tracker),
                channel=channel_of(tracker), topic=topic, intent=intent.get("name"),
                confidence=intent.get("confidence"),
            )
        )
    except DatabaseUnavailable:
        log.warning("could not record the turn of %s: database unavailable", tracker.sender_id)
