"""Reads the context of every user turn before the assistant decides what to do:
the language to answer in, and whether a person is handling the user's ticket; after a
clarification, it also records what the user chose.

It fills the `language`, `foreign_language` and `handoff` slots as a custom
slot mapping, run by Rasa's action_extract_slots on each user message."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.clarify import record_choice_if_clarified
from actions.conversation import latest_metadata, latest_text
from actions.runtime import in_session
from desk.db import DatabaseUnavailable
from desk.language import guess_language, preload
from desk.services import tickets

log = logging.getLogger(__name__)


def handoff_state(status: Optional[str]) -> Optional[str]:
    """A ticket waiting on the user, or taken by an operator, receives the user's messages."""
    if status == tickets.TicketStatus.WAITING_ON_USER.value:
        return "waiting_on_user"
    if status == tickets.TicketStatus.IN_PROGRESS.value:
        return "with_operator"
    return None


def changed_slots(tracker: Tracker, **values: Any) -> List[Dict[Text, Any]]:
    """SlotSet events for the values that differ from the slots' current ones: Rasa stores every
    event and sends the whole conversation to the action server on each call, so setting a slot
    to the value it has would only make every later turn slower."""
    return [SlotSet(name, value) for name, value in values.items() if tracker.get_slot(name) != value]


class ActionReadTurn(Action):
    def __init__(self) -> None:
        # Load the language models when the action server starts, not on a user's first message.
        preload()

    def name(self) -> Text:
        return "action_read_turn"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        await record_choice_if_clarified(tracker)
        current = tracker.get_slot("language")
        if tracker.active_loop.get("name") and current:
            # Form answers (names, e-mails, button titles) say nothing about the language.
            return changed_slots(tracker, foreign_language=None)
        hint = latest_metadata(tracker).get("language")
        guess = guess_language(latest_text(tracker), current=current, hint=hint)
        return changed_slots(tracker, language=guess.language, foreign_language=guess.foreign,
                             handoff=await self._handoff(tracker))

    @staticmethod
    async def _handoff(tracker: Tracker) -> Optional[str]:
        if not tracker.get_slot("last_ticket_ref") and not tracker.get_slot("handoff"):
            return None  # no ticket was opened in this conversation: spare the database
        try:
            ticket = await in_session(lambda session: tickets.open_ticket_for_conversation(session, tracker.sender_id))
        except DatabaseUnavailable:
            return tracker.get_slot("handoff")
        if ticket is None or ticket.ref == tracker.get_slot("handoff_released"):
            return None  # no ticket, or the user chose to talk to the assistant again (/bot)
        return handoff_state(ticket.status)
