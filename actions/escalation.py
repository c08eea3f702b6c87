"""When the assistant cannot answer: say so plainly and offer a person."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.clarify import ask_which_topic, decision_for
from actions.conversation import language_of, latest_intent
from actions.knowledge import answer_topic
from actions.replies import offer_human, record_turn, why_unanswered
from actions.tickets import reference_in, tell_status
from desk.services.understanding import Answer, Clarify


class ActionOfferHuman(Action):
    """Covers out-of-scope questions, nonsense, low NLU confidence and other languages.

    A message the classifier is unsure about (nlu_fallback) may instead get a clarification:
    which of a few topics is meant (actions/clarify.py)."""

    def name(self) -> Text:
        return "action_offer_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        ref = reference_in(tracker)
        if ref:  # a bare reference the NLU did not recognise as a status request
            await tell_status(dispatcher, tracker, ref)
            return []
        if latest_intent(tracker).get("name") == "feedback_not_helpful":
            offer_human(dispatcher, language, "not_helpful")
            return []
        decision = decision_for(tracker)
        if isinstance(decision, Answer):
            return await answer_topic(dispatcher, tracker, decision.topic, language)
        if isinstance(decision, Clarify) and await ask_which_topic(dispatcher, tracker, decision.topics):
            return []
        offer_human(dispatcher, language, why_unanswered(tracker))
        await record_turn(tracker, "unanswered")
        return []
