"""When the assistant cannot answer: say so plainly and offer a person."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
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


class ActionOfferHuman(Action):
    """Covers out-of-scope questions, nonsense, low NLU confidence and other languages."""

    def name(self) -> Text:
        return "action_offer_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        if latest_intent(tracker).get("name") == "feedback_not_helpful":
            offer_human(dispatcher, language, "not_helpful")
            return []
        key = "foreign_language" if tracker.get_slot("foreign_language") else "cannot_answer"
        offer_human(dispatcher, language, key)
        await record_turn(tracker, "unanswered")
        return []


class ActionStartIntake(Action):
    """The user asked for a person or accepted the offer."""

    def name(self) -> Text:
        return "action_start_intake"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        dispatcher.utter_message(text=say("intake_start", language), json_message={"escalation": "intake"})
        await record_turn(tracker, "escalated")
        return []
