"""Compare what our actions read from the whole tracker and from the windowed one that
policies/tracker_window.py sends to the action server (tests/test_tracker_window*.py)."""
from __future__ import annotations

import json
from typing import Any, Dict, Iterable

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk import Tracker

from actions.clarify import offered_by_last_reply
from actions.conversation import channel_of
from actions.feedback import is_repeated_rating
from actions.intake import conversation_transcript, last_unanswered_message, question_message, suggested_topics
from desk.config import PROJECT_ROOT
from policies import tracker_window

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


def readings(state: Dict[str, Any]) -> Dict[str, Any]:
    """What our actions read from the events of the tracker the action server gets."""
    tracker = Tracker.from_dict(json.loads(json.dumps(state)))
    unanswered = last_unanswered_message(tracker)
    question = question_message(tracker)
    return {
        "transcript": conversation_transcript(tracker),
        "unanswered": unanswered,
        "question": question,
        "suggested_topics": suggested_topics(question or unanswered),
        "repeated_rating": is_repeated_rating(tracker.events),
        "offered": offered_by_last_reply(tracker.events),
        "slots_to_validate": tracker.slots_to_validate(),
        "input_channel": tracker.get_latest_input_channel(),
        "channel": channel_of(tracker),
    }


class Comparison:
    """Compares the whole and the windowed tracker after each event added to a tracker."""

    def __init__(self) -> None:
        self.checked = 0
        self.trimmed = 0
        self.with_older = 0  # checks whose window kept older events (rules 2 and 3)

    def check(self, tracker: DialogueStateTracker) -> None:
        whole = tracker.current_state(EventVerbosity.ALL)
        expected = readings(whole)
        for transcript in (True, False):  # a call of an action that reads the transcript, or not
            windowed = tracker_window.tracker_state(tracker, transcript)
            # Every key as Rasa's; the events: a few older ones, then all from the window start.
            assert {key: value for key, value in windowed.items() if key != "events"} == \
                   {key: value for key, value in whole.items() if key != "events"}
            slot = tracker.slots.get("intake_question")
            older, start = tracker_window.window(list(tracker.events), slot.value if slot is not None else None,
                                                 transcript)
            assert len(older) <= 3 and all(index < start for index in older)
            assert windowed["events"] == [whole["events"][index] for index in older] + whole["events"][start:]
            got = readings(windowed)
            if not transcript:
                got["transcript"] = expected["transcript"]  # not read by these actions
            assert got == expected, (transcript, len(whole["events"]), older, start)
            if transcript:
                self.checked += 1
                self.trimmed += len(windowed["events"]) < len(whole["events"])
                self.with_older += bool(older)

    def replay(self, events: Iterable[Event], every: int = 1) -> None:
        tracker = DialogueStateTracker("window-test", DOMAIN.slots)
        for number, event in enumerate(events, 1):
            tracker.update(event, DOMAIN)
            if number % every == 0:
                self.check(tracker)
        self.check(tracker)
