"""Thumbs up / down on the last answer."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import channel_of, language_of, latest_intent, latest_metadata
from actions.runtime import in_session
from actions.texts import say
from desk.db import DatabaseUnavailable
from desk.services import analytics

log = logging.getLogger(__name__)

FEEDBACK_INTENTS = ("feedback_helpful", "feedback_not_helpful")
MAX_MESSAGE_KEY = 200


def message_key_of(tracker: Tracker) -> Optional[str]:
    """The client's idempotency key of the latest message (metadata "message_key": the widget sends
    one, the Telegram gateway uses the update id, REST clients may): the same on a client's retry."""
    key = latest_metadata(tracker).get("message_key")
    return key[:MAX_MESSAGE_KEY] if isinstance(key, str) and key.strip() else None


def _is_new_answer(event: Dict[Text, Any]) -> bool:
    if event.get("event") == "slot" and event.get("name") == "last_topic":
        return True
    return event.get("event") == "bot" and bool(((event.get("data") or {}).get("custom") or {}).get("topic"))


def is_repeated_rating(events: List[Dict[Text, Any]]) -> bool:
    """True when the user already rated the answer this rating is about: a double click on the
    buttons, or a client that sent the message again. The previous user message was a rating and
    no answer came since."""
    users_seen = 0
    for event in reversed(events):
        if _is_new_answer(event) and users_seen >= 1:
            return False
        if event.get("event") == "user":
            users_seen += 1
            if users_seen == 2:
                intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
                return intent in FEEDBACK_INTENTS
    return False


class ActionRecordFeedback(Action):
    def name(self) -> Text:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        helpful = latest_intent(tracker).get("name") == "feedback_helpful"
        topic = tracker.get_slot("last_topic")
        if topic and is_repeated_rating(tracker.events):
            log.info("a repeated rating of %s not recorded again", topic)
        elif topic:
            message_key = message_key_of(tracker)
            try:
                recorded = await in_session(
                    lambda session: analytics.record_feedback(
                        session, tracker.sender_id, topic, helpful, language, channel=channel_of(tracker),
                        message_key=message_key,
                    )
                )
                if not recorded:
                    log.info("a rating of %s sent again (same message key) not recorded again", topic)
            except DatabaseUnavailable:
                log.warning("feedback on %s not recorded: database unavailable", topic)
        if helpful:
            dispatcher.utter_message(text=say("helpful", language))
        # Negative feedback: the rules follow with action_offer_human.
        return []
