"""Rasa's `DialogueStateTracker.applied_events`, with the same result in linear time.

Rasa 3.6 calls `applied_events()` several times per user message (when it restores the tracker,
checks the session, and builds the dialogue states for each policy prediction). While a form is
active, each of its executions folds the turn into the form's first execution: Rasa scans back
over every event since that first execution twice (`_first_loop_execution_or_unhappy_path` and
`_undo_till_previous_loop_execution`, the latter after copying the whole list). A form that stays
active for k turns therefore costs O(k^2) per call; profiling the Rasa server under
`bench.run --only cpu` (py-spy, BENCHMARKS.md "cpu") showed half of its time there.

This version walks the events once and keeps, beside the applied events, a stack of the positions
of the only events those scans look at (actions, user messages, loop activations and rejections,
user-featurisation markers), so each scan skips slots and bot messages. Events removed in the
middle are left as holes and dropped at the end. The rules are Rasa's, one by one; the test
(tests/test_applied_events.py) compares it with Rasa's own method on the training trackers and on
crafted ones (reverts, restarts, rejections, interleaved forms)."""
from __future__ import annotations

from typing import Dict, List, Optional

from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    DefinePrevUserUtteredFeaturization,
    Event,
    Restarted,
    SessionStarted,
    UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

ORIGINAL = DialogueStateTracker.applied_events

# The kind of each event class, found once with isinstance (the event classes are ABCs, whose
# isinstance check is slow): what the loop below and Rasa's scans branch on.
_RESET, _REVERT_ACTION, _REVERT_USER, _ACTION, _USER, _LOOP, _REJECTED, _PREV_FEATURIZATION, _OTHER = range(9)
_KINDS: Dict[type, int] = {}
# The kinds Rasa's backward scans look at; the others (slots, bot messages...) they only step over.
_SCANNED = frozenset({_ACTION, _USER, _LOOP, _REJECTED, _PREV_FEATURIZATION})
_HOLE = object()


def _kind(event: Event) -> int:
    cls = type(event)
    kind = _KINDS.get(cls)
    if kind is None:
        # In the order of Rasa's isinstance checks (applied_events, then its helpers).
        for kind, types in ((_RESET, (Restarted, SessionStarted)), (_REVERT_ACTION, ActionReverted),
                            (_REVERT_USER, UserUtteranceReverted), (_ACTION, ActionExecuted),
                            (_USER, UserUttered), (_LOOP, ActiveLoop), (_REJECTED, ActionExecutionRejected),
                            (_PREV_FEATURIZATION, DefinePrevUserUtteredFeaturization), (_OTHER, object)):
            if isinstance(event, types):
                break
        _KINDS[cls] = kind
    return kind


class _Applied:
    """The applied events so far, with holes, and the positions of the scanned ones (in order)."""

    def __init__(self) -> None:
        self.events: List[object] = []
        self.scanned: List[int] = []

    def append(self, event: Event, kind: int) -> None:
        if kind in _SCANNED:
            self.scanned.append(len(self.events))
        self.events.append(event)

    def undo_till_previous(self, kind: int) -> None:
        """Rasa's `_undo_till_previous`: drop the last event of this kind and everything after it
        (everything, when there is none)."""
        position = 0
        for index in reversed(self.scanned):
            if _kind(self.events[index]) == kind:
                position = index
                break
        del self.events[position:]
        while self.scanned and self.scanned[-1] >= position:
            self.scanned.pop()

    def first_loop_execution_or_unhappy_path(self, loop_name: str) -> bool:
        """Rasa's `_first_loop_execution_or_unhappy_path`, over the scanned events only."""
        next_action: Optional[str] = None
        for index in reversed(self.scanned):
            event = self.events[index]
            kind = _kind(event)
            if kind == _LOOP and event.name is None:
                return True
            if kind == _REJECTED and event.action_name == loop_name:
                return True
            if kind == _USER and next_action is not None and next_action != loop_name:
                return True
            if kind == _ACTION:
                if event.action_name == loop_name:
                    return False
                next_action = event.action_name
        return True

    def undo_till_previous_loop_execution(self, loop_name: str) -> None:
        """Rasa's `_undo_till_previous_loop_execution`: drop the actions, user messages and
        featurisation markers since the loop's last execution (all of them if there is none)."""
        kept: List[int] = []
        while self.scanned:
            index = self.scanned[-1]
            event = self.events[index]
            kind = _kind(event)
            if kind == _ACTION and event.action_name == loop_name:
                break
            self.scanned.pop()
            if kind in (_ACTION, _USER, _PREV_FEATURIZATION):
                self.events[index] = _HOLE
            else:
                kept.append(index)
        self.scanned.extend(reversed(kept))

    def result(self) -> List[Event]:
        return [event for event in self.events if event is not _HOLE]  # type: ignore[misc]


def applied_events(self: DialogueStateTracker) -> List[Event]:
    """Returns all actions that should be applied - w/o reverted events (as Rasa's method)."""
    events = list(self.events)
    kinds = [_kind(event) for event in events]
    loop_names = {event.name for event, kind in zip(events, kinds) if kind == _LOOP and event.name}

    applied = _Applied()
    for event, kind in zip(events, kinds):
        if kind == _RESET:
            applied = _Applied()
        elif kind == _REVERT_ACTION:
            applied.undo_till_previous(_ACTION)
        elif kind == _REVERT_USER:
            applied.undo_till_previous(_USER)
            applied.undo_till_previous(_ACTION)
        elif (
            kind == _ACTION
            and event.action_name in loop_names
            and not applied.first_loop_execution_or_unhappy_path(event.action_name)
        ):
            applied.undo_till_previous_loop_execution(event.action_name)
        else:
            applied.append(event, kind)
    return applied.result()


def install() -> None:
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]


__all__ = ["ORIGINAL", "applied_events", "install"]
