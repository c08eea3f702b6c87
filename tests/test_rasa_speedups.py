"""The faster replacements of Rasa methods (policies/applied_events.py, policies/event_types.py)
give exactly Rasa's results (the windowed tracker of policies/tracker_window.py: tests/test_tracker_window.py).

Applied events: compared with Rasa's own method on every prefix of: the trackers Rasa builds from this project's
stories and rules, a form that stays active for many turns (the case that made Rasa quadratic),
and seeded random sequences of the events that Rasa's rules branch on (reverts, restarts,
sessions, loops and their rejections, interleaved forms)."""
from __future__ import annotations

import random
import time
from typing import List

import pytest

from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

from desk.config import PROJECT_ROOT
from policies import event_types
from policies.applied_events import ORIGINAL, applied_events


def tracker_of(events: List[Event]) -> DialogueStateTracker:
    tracker = DialogueStateTracker("test", [])
    tracker.events.extend(events)  # as the tracker store restores them, without applying them
    return tracker


def assert_same_on_every_prefix(events: List[Event]) -> int:
    for end in range(len(events) + 1):
        tracker = tracker_of(events[:end])
        expected = ORIGINAL(tracker)
        got = applied_events(tracker)
        assert [id(e) for e in got] == [id(e) for e in expected], (end, events[:end])
    return len(events) + 1


def stuck_form(turns: int) -> List[Event]:
    """A user who keeps asking other things while a form waits for a date (bench/cpu.py's case)."""
    events: List[Event] = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                           UserUttered("calcola", {"name": "check_congedo_parentale"}), ActionExecuted("action_start_check"),
                           ActionExecuted("congedo_parentale_form"), ActiveLoop("congedo_parentale_form"),
                           SlotSet("requested_slot", "child_date"), BotUttered("data?"), ActionExecuted("action_listen")]
    for turn in range(turns):
        events += [UserUttered(f"domanda {turn}", {"name": "permessi_104"}), DefinePrevUserUtteredFeaturization(False),
                   SlotSet("child_date", f"domanda {turn}"), ActionExecuted("congedo_parentale_form"),
                   BotUttered("non leggo la data"), SlotSet("child_date", None), SlotSet("requested_slot", "child_date"),
                   BotUttered("data?"), ActionExecuted("action_listen")]
    return events


def random_events(rng: random.Random, length: int) -> List[Event]:
    loops = ["form_a", "form_b"]
    makers = [
        lambda: ActionExecuted("action_listen"),
        lambda: ActionExecuted(rng.choice(loops)),
        lambda: ActionExecuted(rng.choice(["action_answer", "action_read_turn"])),
        lambda: UserUttered("ciao", {"name": "greet"}),
        lambda: ActiveLoop(rng.choice(loops + [None])),
        lambda: ActionExecutionRejected(rng.choice(loops + ["action_answer"])),
        lambda: SlotSet("requested_slot", rng.choice(["x", None])),
        lambda: BotUttered("ok"),
        lambda: DefinePrevUserUtteredFeaturization(rng.random() < 0.5),
        lambda: ActionReverted(),
        lambda: UserUtteranceReverted(),
        lambda: Restarted(),
        lambda: SessionStarted(),
    ]
    weights = [6, 6, 3, 6, 3, 1, 4, 4, 1, 1, 1, 0.3, 0.3]
    return [rng.choices(makers, weights)[0]() for _ in range(length)]


def test_applied_events_are_rasas_on_training_stuck_forms_and_random_sequences():
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(PROJECT_ROOT / "domain.yml"),
        training_data_paths=[str(PROJECT_ROOT / "data" / "rules"), str(PROJECT_ROOT / "data" / "stories")])
    trackers = TrainingDataGenerator(importer.get_stories(), importer.get_domain(), augmentation_factor=0).generate()
    assert len(trackers) > 50
    checked = sum(assert_same_on_every_prefix(list(tracker.events)) for tracker in trackers)
    checked += assert_same_on_every_prefix(stuck_form(40))
    rng = random.Random(10)
    for _ in range(1500):
        checked += assert_same_on_every_prefix(random_events(rng, rng.randint(1, 40)))
    assert checked > 20_000

    # The case that made Rasa quadratic: 150 turns inside a form.
    long = tracker_of(stuck_form(150))
    started = time.perf_counter()
    expected = ORIGINAL(long)
    rasa_seconds = time.perf_counter() - started
    started = time.perf_counter()
    assert applied_events(long) == expected
    ours_seconds = time.perf_counter() - started
    assert ours_seconds * 5 < rasa_seconds, (ours_seconds, rasa_seconds)


def test_event_classes_are_rasas_and_a_new_event_class_is_seen():
    from rasa.shared.utils.common import all_subclasses

    names = {cls.type_name for cls in all_subclasses(Event)}
    assert {"user", "action", "slot", "active_loop", "session_started"} <= names
    for name in sorted(names) * 2:  # the second time from what was kept
        assert Event.resolve_by_type(name) is event_types.ORIGINAL(name)
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")

    # A class defined later, even deep in the tree, takes part as in Rasa's walk.
    class LaterEvent(SlotSet):
        type_name = "perf_test_later_event"

    assert Event.resolve_by_type("perf_test_later_event") is LaterEvent
    restored = Event.from_parameters({"event": "slot", "name": "handoff", "value": True})
    assert isinstance(restored, SlotSet) and restored.value is True


def test_the_assistant_uses_them():
    import importlib

    from rasa.core.actions.action import RemoteAction

    from policies import tracker_window

    importlib.import_module("policies")  # as Rasa does when it loads the model

    assert DialogueStateTracker.applied_events is applied_events
    assert Event.resolve_by_type is event_types.resolve_by_type
    assert RemoteAction._action_call_format is tracker_window.action_call_format
