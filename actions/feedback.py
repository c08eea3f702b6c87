"""Thumbs up / down on the last answer."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import channel_of, language_of, latest_intent
from actions.runtime import in_session
from actions.texts import say
from desk.db import DatabaseUnavailable
from desk.services import analytics

log = logging.getLogger(__name__)


class ActionRecordFeedback(Action):
    def name(self) -> Text:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        helpful = latest_intent(tracker).get("name") == "feedback_helpful"
        topic = tracker.get_slot("last_topic")
        if topic:
            try:
                await in_session(
                    lambda session: analytics.record_feedback(
                        session, tracker.sender_id, topic, helpful, language, channel=channel_of(tracker)
                    )
                )
            except DatabaseUnavailable:
                log.warning("feedback on %s not recorded: database unavailable", topic)
        if helpful:
            dispatcher.utter_message(text=say("helpful", language))
        # Negative feedback: the rules follow with action_offer_human.
        return []
