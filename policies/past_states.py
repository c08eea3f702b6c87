"""Rasa's `Domain.states_for_tracker_history` (what `DialogueStateTracker.past_states` returns), with
the same result, walking the tracker's history once per prediction instead of once per policy call.

Rasa 3.6 builds the dialogue states of the whole history for every prediction: it replays the
tracker's applied events on a fresh copy (`generate_all_prior_trackers`) and turns the tracker before
each action into a state (`get_active_state`). With this project's policies a prediction asks for
them two or three times with the same tracker: MemoizationPolicy once (dropping rule-only turns), and
RulePolicy once or twice (keeping them; twice right after a user message, once for the text and once
for the intent). Profiling the Rasa server under `bench.run --only cpu` (py-spy, BENCHMARKS.md "cpu")
put 29% of message handling there.

This version records, once per tracker state (its events, the domain and `omit_unset_slots`), each
prior tracker's state and the few attributes Rasa's loop reads from it (latest action, follow-up
action, latest action name, active loop name, whether the turn is hidden), then runs Rasa's loop over
that record for any `ignore_rule_only_turns` / `rule_only_data`. Each call gets fresh copies of the
recorded dictionaries, copied with a memo so that a dictionary shared by several states in Rasa's
result (the previous action carried over rule-only turns, the user input of the previous state) is
shared in the copy too: callers mutate the result (`TrackerFeaturizer._choose_last_user_input`
deletes the user text or intent of the last state, `_remove_user_text_if_intent` the text of every
state), and they see the same effects as with Rasa's result.

The record is kept for the last few trackers, keyed by the tracker's identity (weakly), its events
deque, the number of events and the first and last event objects (held, so their identities cannot
be reused), the domain (held) and `omit_unset_slots`. Rasa only appends to a tracker's events, so a
new event changes the key. The states also read one thing that is not in the key: whether a user
message is featurised by its text, a flag that applying DefinePrevUserUtteredFeaturization writes into
the user message event itself (Rasa's own method replays it, so on a tracker whose events were never
applied its first call and the next differ). The processor and the tracker store apply every event to
the tracker as they add or restore it, so the flag is settled before any prediction and replaying
sets it to the value it has. tests/test_past_states.py compares the result, and which of its
dictionaries are shared, with Rasa's method on every prefix of the training trackers, long
conversations with forms and rules, and random event sequences, for every argument combination the
policies use, and the policies' predictions with and without this module."""
from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker

ORIGINAL = Domain.states_for_tracker_history

# The trackers whose record is kept (a prediction asks about one tracker; a few for safety).
_KEPT = 4

# One prior tracker: its state, its latest action (the dictionary inside the state), its follow-up
# action, latest action name, active loop name, and whether the action after it hides the turn.
_Row = Tuple[State, Optional[Dict[str, str]], Optional[str], Optional[str], Optional[str], bool]


class _Record:
    __slots__ = ("tracker", "events", "length", "first", "last", "domain", "omit_unset_slots", "rows")

    def __init__(self, tracker: DialogueStateTracker, domain: Domain, omit_unset_slots: bool,
                 rows: List[_Row]) -> None:
        self.tracker = weakref.ref(tracker)
        events = tracker.events
        self.events = events
        self.length = len(events)
        self.first = events[0] if events else None
        self.last = events[-1] if events else None
        self.domain = domain
        self.omit_unset_slots = omit_unset_slots
        self.rows = rows

    def matches(self, tracker: DialogueStateTracker, domain: Domain, omit_unset_slots: bool) -> bool:
        events = tracker.events
        return (
            self.tracker() is tracker
            and self.events is events
            and self.length == len(events)
            and (self.first is events[0] if events else self.first is None)
            and (self.last is events[-1] if events else self.last is None)
            and self.domain is domain
            and self.omit_unset_slots == omit_unset_slots
        )


_RECORDS: "OrderedDict[int, _Record]" = OrderedDict()


def _rows(domain: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool) -> List[_Row]:
    record = _RECORDS.get(id(tracker))
    if record is not None and record.matches(tracker, domain, omit_unset_slots):
        _RECORDS.move_to_end(id(tracker))
        return record.rows
    rows: List[_Row] = [
        (
            domain.get_active_state(tr, omit_unset_slots=omit_unset_slots),
            domain._get_prev_action_sub_state(tr),
            tr.followup_action,
            tr.latest_action_name,
            tr.active_loop_name,
            hide_rule_turn,
        )
        for tr, hide_rule_turn in tracker.generate_all_prior_trackers()
    ]
    _RECORDS[id(tracker)] = _Record(tracker, domain, omit_unset_slots, rows)
    _RECORDS.move_to_end(id(tracker))
    while len(_RECORDS) > _KEPT:
        _RECORDS.popitem(last=False)
    return rows


def states_for_tracker_history(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: Optional[Dict[str, Any]] = None,
) -> List[State]:
    """List of states for each state of the tracker's history (as Rasa's method)."""
    rows = _rows(self, tracker, omit_unset_slots)

    copies: Dict[int, Any] = {}  # id of a recorded dictionary -> its copy for this call

    def copied(sub_state: Any) -> Any:
        if not isinstance(sub_state, dict):
            return sub_state
        copy = copies.get(id(sub_state))
        if copy is None:
            copy = copies[id(sub_state)] = dict(sub_state)
        return copy

    # Rasa's loop (rasa/shared/core/domain.py, Domain.states_for_tracker_history), over the record.
    states: List[State] = []
    last_ml_action_sub_state = None
    turn_was_hidden = False
    for recorded_state, latest_action, followup_action, latest_action_name, active_loop_name, hide in rows:
        if ignore_rule_only_turns:
            if not turn_was_hidden:
                last_ml_action_sub_state = copied(latest_action)
            if not followup_action and not latest_action_name == active_loop_name:
                turn_was_hidden = hide
            if turn_was_hidden:
                continue

        state = {key: copied(sub_state) for key, sub_state in recorded_state.items()}

        if ignore_rule_only_turns:
            self._remove_rule_only_features(state, rule_only_data)
            if states:
                self._substitute_rule_only_user_input(state, states[-1])
            if last_ml_action_sub_state:
                state[PREVIOUS_ACTION] = last_ml_action_sub_state

        states.append(self._clean_state(state))

    return states


def install() -> None:
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]


__all__ = ["ORIGINAL", "install", "states_for_tracker_history"]
