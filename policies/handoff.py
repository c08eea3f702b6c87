"""While a person handles a user's ticket, the user's messages go to the ticket.

The `handoff` slot is filled on every user turn by action_read_turn (from the
desk's ticket state). When it is set, this policy predicts
action_ticket_follow_up for whatever the user wrote, and then listens: the
assistant stays out of a conversation that an operator is having."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.constants import POLICY_PRIORITY
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

FOLLOW_UP_ACTION = "action_ticket_follow_up"
# What the user may still ask the assistant itself during a handoff.
ANSWERED_BY_THE_ASSISTANT = {"check_ticket_status", "feedback_helpful", "feedback_not_helpful", "back_to_bot"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class HandoffPolicy(Policy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {POLICY_PRIORITY: 7}  # above RulePolicy (6): a handoff wins ties

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource

    def predict_action_probabilities(
        self, tracker: DialogueStateTracker, domain: Domain, rule_only_data: Optional[Dict[Text, Any]] = None, **kwargs: Any
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if tracker.latest_action_name == FOLLOW_UP_ACTION:
            # Checked before the slot: the follow-up may have ended the handoff (a ticket that
            # waited on the user is back in the queue), and the message is handled all the same.
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
            return self._prediction(probabilities)
        if not tracker.get_slot("handoff") or tracker.active_loop_name:
            return self._prediction(probabilities)
        if self._after_user_message(tracker):
            intent = tracker.latest_message.intent.get("name") if tracker.latest_message else None
            if intent not in ANSWERED_BY_THE_ASSISTANT:
                probabilities[domain.index_for_action(FOLLOW_UP_ACTION)] = 1.0
        return self._prediction(probabilities)

    @staticmethod
    def _after_user_message(tracker: DialogueStateTracker) -> bool:
        """True when nothing but slot extraction happened since the user's message."""
        for event in reversed(tracker.events):
            if isinstance(event, UserUttered):
                return True
            if isinstance(event, ActionExecuted) and event.action_name != "action_extract_slots":
                return False
        return False
