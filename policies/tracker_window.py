"""The tracker Rasa sends to the action server, with only the events our actions read.

Rasa 3.6 sends the whole tracker as JSON with every call to the action server
(`RemoteAction._action_call_format` -> `tracker.current_state(EventVerbosity.ALL)`), two calls per
user message (`action_read_turn` through `action_extract_slots`, then the answering action), and
the action server parses it back: a cost that grows with the length of the conversation
(BENCHMARKS.md "cpu").

The state sent here has every key Rasa's has, computed by Rasa from the whole tracker (slots,
latest_message, latest_event_time, followup_action, paused, latest_input_channel, active_loop,
latest_action, latest_action_name, sender_id), but its `events` are the recent ones, from a
window start, preceded by at most three older events, in their order.

What the actions read from `tracker.events` (audited in actions/ and in the rasa_sdk code they
run: `Tracker.from_dict`, `FormValidationAction`, the executor), and the rule that keeps each
reader's result unchanged:

1. `conversation_transcript` (actions/intake.py, the ticket's transcript), read only by the
   actions of TRANSCRIPT_ACTIONS (action_submit_intake, through actions/tickets.py build_intake):
   the last 60 user or bot events with a text, a pressed button read as its title from the bot
   events since the previous user text. Rule, in the calls of those actions: the recent events
   start at the user event with a text that comes before the 60th such line from the end (its
   own line is the 61st and is cut; the buttons start afresh there). The other calls (two per
   message) need none of it: long answers made these 60 lines most of what was sent.
2. `last_unanswered_message` (actions/intake.py; the form's draft question and the ticket): the
   user message before the latest `action_offer_human` whose user message is typed (a text not
   starting with "/"), however old. Rule: that user message and that offer are kept. Any later
   offer among the recent events follows a user message of its own there (one not typed), or
   else the kept one, so the answer is the kept message, as in the whole tracker.
3. `question_message` (actions/intake.py, the ticket's suggested topics): the latest user
   message whose cleaned text (`desk.text.user_text`) is the `intake_question` slot, however
   old. Rule: that message is kept, when the slot is set.
4. `is_repeated_rating` (actions/feedback.py), `offered_by_last_reply` (actions/clarify.py) and
   rasa_sdk's `get_latest_input_channel` (actions/conversation.py `channel_of`) look back from the
   end to the second latest user event at the farthest. Rule: the recent events start at the
   second latest user event at the latest; with only one, at the user-or-bot event before it
   (or at the one user event).
5. rasa_sdk's `slots_to_validate` (actions/checks.py, `FormValidationAction` for intake_form):
   the slot events at the end of the list. Rule: the recent events start at the last event that
   is not a slot at the latest.

The recent events start at the earliest of the points of rules 1 (for the actions that read the
transcript), 4 and 5; the older events of rules 2 and 3 come before them. In a call that reads
the transcript, when they are older than the recent events, the transcript has more than 60
lines without them, so their lines are cut. Nothing else reads the events: the
actions read slots, latest_message, active_loop and sender_id, which come whole. The start of an
active form is not kept for its own sake: no action reads it (the checks keep their answers in
slots). rasa_sdk's `applied_events`, `get_last_event_for`, `last_executed_action_has` and
`events_after_latest_restart` would see only the window; no action of ours calls them. A new
reader of `tracker.events` needs its own rule here, and a new caller of the transcript its action
in TRANSCRIPT_ACTIONS (a test finds them in actions/): tests/test_tracker_window.py compares every
reader on the whole and the windowed tracker (long random conversations and event sequences,
the training stories), tests/test_tracker_window_e2e.py on a real 80-message conversation."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from desk.text import user_text

ORIGINAL = RemoteAction._action_call_format

TRANSCRIPT_LINES = 60  # actions/intake.py conversation_transcript's limit
# The actions whose code calls conversation_transcript (tests/test_tracker_window.py finds them).
TRANSCRIPT_ACTIONS = frozenset({"action_submit_intake"})
OFFER_HUMAN = "action_offer_human"
QUESTION_SLOT = "intake_question"
USER, BOT, ACTION, SLOT = "user", "bot", "action", "slot"  # the "event" of Event.as_dict


def _transcript_start(events: Sequence[Event]) -> Optional[int]:
    """Rule 1: the user text before the TRANSCRIPT_LINES-th line from the end (None: there is none)."""
    lines = 0
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        kind = event.type_name
        if kind == USER or kind == BOT:
            if event.text:  # type: ignore[attr-defined]
                if lines >= TRANSCRIPT_LINES and kind == USER:
                    return index
                lines += 1
    return None


def _offered_message(events: Sequence[Event]) -> List[int]:
    """Rule 2: the typed user message before the latest offer of a person that has one, and that
    offer (their positions; none without such an offer)."""
    offer: Optional[int] = None
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        kind = event.type_name
        if kind == ACTION and event.action_name == OFFER_HUMAN:  # type: ignore[attr-defined]
            offer = index if offer is None else offer
        elif kind == USER and offer is not None:
            text = event.text  # type: ignore[attr-defined]
            if text and not text.startswith("/"):
                return [index, offer]
            offer = None  # the user message of every later offer: not typed
    return []


def _question_message(events: Sequence[Event], question: Any) -> List[int]:
    """Rule 3: the latest user message that is the form's question (its position)."""
    if not question:
        return []
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.type_name == USER and user_text(event.text or "") == question:  # type: ignore[attr-defined]
            return [index]
    return []


def _recent_start(events: Sequence[Event]) -> int:
    """Rules 4 and 5: the second latest user event (or the user-or-bot event before the only one),
    and the last event that is not a slot."""
    index = len(events) - 1
    while index >= 0 and events[index].type_name == SLOT:
        index -= 1
    if index < 0:
        return 0
    start = index
    latest_user: Optional[int] = None
    bot_before: Optional[int] = None
    for index in range(len(events) - 1, -1, -1):
        kind = events[index].type_name
        if kind == USER and latest_user is not None:
            return min(start, index)
        if kind == USER:
            latest_user = index
        elif kind == BOT and latest_user is not None and bot_before is None:
            bot_before = index  # what offered_by_last_reply reads when no user event is earlier
    if latest_user is None:
        return start
    return min(start, latest_user if bot_before is None else bot_before)


def window(events: Sequence[Event], question: Any = None, transcript: bool = True) -> Tuple[List[int], int]:
    """The positions of the older events kept (rules 2 and 3) and of the first recent event
    (rules 1 if `transcript`, 4 and 5); `question` is the intake_question slot."""
    start = _recent_start(events)
    if transcript:
        transcript_start = _transcript_start(events)
        start = min(start, 0 if transcript_start is None else transcript_start)
    older = sorted({index for index in _offered_message(events) + _question_message(events, question) if index < start})
    return older, start


def windowed_events(tracker: DialogueStateTracker, transcript: bool = True) -> List[Event]:
    events = list(tracker.events)
    slot = tracker.slots.get(QUESTION_SLOT)
    older, start = window(events, slot.value if slot is not None else None, transcript)
    return [events[index] for index in older] + events[start:]


def tracker_state(tracker: DialogueStateTracker, transcript: bool = True) -> Dict[Text, Any]:
    """`tracker.current_state(EventVerbosity.ALL)` with the windowed events (for an action that
    reads the transcript, or not)."""
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in windowed_events(tracker, transcript)]
    return state


def action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Any) -> Dict[Text, Any]:
    """Rasa's request to the action server (as Rasa 3.6 builds it), with the windowed events."""
    result = {
        "next_action": self._name,
        "sender_id": tracker.sender_id,
        "tracker": tracker_state(tracker, self.name() in TRANSCRIPT_ACTIONS),
        "version": rasa.__version__,
    }
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


def install() -> None:
    RemoteAction._action_call_format = action_call_format  # type: ignore[method-assign]


__all__ = ["ORIGINAL", "TRANSCRIPT_ACTIONS", "TRANSCRIPT_LINES", "action_call_format", "install", "tracker_state",
           "window", "windowed_events"]
