"""Fills the `language` and `foreign_language` slots on every user message
(a custom slot mapping, run by Rasa's action_extract_slots before any reply)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import latest_metadata, latest_text
from desk.language import guess_language, preload


class ActionDetectLanguage(Action):
    def __init__(self) -> None:
        # Load the language models when the action server starts, not on a user's first message.
        preload()

    def name(self) -> Text:
        return "action_detect_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        hint = latest_metadata(tracker).get("language")
        guess = guess_language(latest_text(tracker), current=tracker.get_slot("language"), hint=hint)
        return [SlotSet("language", guess.language), SlotSet("foreign_language", guess.foreign)]
