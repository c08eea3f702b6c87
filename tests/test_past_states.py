"""policies/past_states.py gives exactly Rasa's dialogue states, and the same policy predictions.

Compared with Rasa's own `Domain.states_for_tracker_history` for every argument combination (the
policies use omit_unset_slots=False with ignore_rule_only_turns False (RulePolicy) or True with
the rule-only data (MemoizationPolicy); the others for completeness), on every prefix of: the
trackers Rasa builds from this project's stories and rules, long conversations chained from them
(forms and rules one after another), a form that stays active for 40 turns, and seeded random
sequences of events with the domain's actions, forms, intents and slots. Beside equality, which
dictionaries are shared between states (callers mutate them) must be the same, each call must give
new dictionaries (a caller mutating one result must not change the next), and the record must follow
the tracker as events are appended. Then MemoizationPolicy and RulePolicy, trained here on the
project's data, predict the same on every prefix with and without the module.

The trackers are built as the processor and the tracker store build them, by applying each event
(`tracker.update`): Rasa's states read a flag that applying DefinePrevUserUtteredFeaturization writes
into the user message event itself, so on events never applied Rasa's own method gives one result on
its first call and another on the next (see policies/past_states.py).

The random sequences come from tests/test_rasa_speedups.py (generic names: reverts, restarts,
sessions, rejections, interleaved forms) and from the domain's own names."""
from __future__ import annotations

import random
from typing import Any, Dict, List, Optional

import pytest

from rasa.shared.core.constants import PREVIOUS_ACTION, USER
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    FollowupAction,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from desk.config import PROJECT_ROOT
from policies import past_states
from policies.past_states import ORIGINAL, states_for_tracker_history
from tests.test_rasa_speedups import random_events, stuck_form


@pytest.fixture(scope="module")
def project():
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(PROJECT_ROOT / "domain.yml"),
        training_data_paths=[str(PROJECT_ROOT / "data" / "rules"), str(PROJECT_ROOT / "data" / "stories")])
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0).generate()
    assert len(trackers) > 50
    return domain, trackers


@pytest.fixture(scope="module")
def policies(project, tmp_path_factory):
    """MemoizationPolicy and RulePolicy as config.yml configures them, trained on the project's data
    with Rasa's own method, and the rule-only data RulePolicy hands to the other policies."""
    from rasa.core.policies.memoization import MemoizationPolicy
    from rasa.core.policies.policy import SupportedData
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    domain, trackers = project
    storage = LocalModelStorage(tmp_path_factory.mktemp("policies"))
    context = ExecutionContext(GraphSchema({}), "test")
    with original_states():
        memo = MemoizationPolicy.create(MemoizationPolicy.get_default_config(), storage, Resource("memo"), context)
        memo.train(SupportedData.trackers_for_supported_data(memo.supported_data(), trackers), domain)
        rule = RulePolicy.create({**RulePolicy.get_default_config(), "core_fallback_threshold": 0.3,
                                  "core_fallback_action_name": "action_offer_human",
                                  "enable_fallback_prediction": True}, storage, Resource("rule"), context)
        rule.train(SupportedData.trackers_for_supported_data(rule.supported_data(), trackers), domain)
    rule_only_data = rule._get_rule_only_data()
    return memo, rule, rule_only_data


class original_states:
    """Rasa's method installed for the duration of a `with` block."""

    def __enter__(self) -> None:
        self.saved = Domain.states_for_tracker_history
        Domain.states_for_tracker_history = ORIGINAL

    def __exit__(self, *exc: Any) -> None:
        Domain.states_for_tracker_history = self.saved


def arguments(rule_only_data: Dict[str, Any]) -> List[Dict[str, Any]]:
    combos = []
    for omit in (False, True):
        for ignore in (False, True):
            for data in (None, rule_only_data):
                combos.append({"omit_unset_slots": omit, "ignore_rule_only_turns": ignore, "rule_only_data": data})
    return combos


def sharing(states: List[Dict[str, Any]]) -> List[Dict[str, Optional[int]]]:
    """Which dictionaries inside the states are the same object, as numbers in order of appearance."""
    numbers: Dict[int, int] = {}
    return [{key: (numbers.setdefault(id(value), len(numbers)) if isinstance(value, dict) else None)
             for key, value in state.items()} for state in states]


def mutate_like_the_featurizer(states: List[Dict[str, Any]]) -> None:
    """What TrackerFeaturizer._choose_last_user_input and _remove_user_text_if_intent do, and more."""
    for state in states:
        state.get(USER, {}).pop("text", None)
        state.get(USER, {}).pop("intent", None)
        state.get(PREVIOUS_ACTION, {}).clear() if state.get(PREVIOUS_ACTION) else None
        state.pop("slots", None)


def assert_same_on_every_prefix(domain: Domain, events: List[Event], combos: List[Dict[str, Any]]) -> int:
    # One tracker, growing as the processor updates it (the tracker store restores one the same way).
    tracker = DialogueStateTracker("test", domain.slots)
    checked = 0
    for end in range(len(events) + 1):
        if end:
            tracker.update(events[end - 1])
        for combo in combos:
            expected = ORIGINAL(domain, tracker, **combo)
            got = states_for_tracker_history(domain, tracker, **combo)
            assert got == expected, (end, combo, events[:end])
            assert sharing(got) == sharing(expected), (end, combo)
            mutate_like_the_featurizer(got)
            again = states_for_tracker_history(domain, tracker, **combo)
            assert again == expected and sharing(again) == sharing(expected), (end, combo)
            checked += 1
    return checked


def chained(trackers: List[DialogueStateTracker], rng: random.Random, stories: int) -> List[Event]:
    """A long conversation: the events of training stories and rules, one after another."""
    events: List[Event] = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for tracker in rng.sample(trackers, stories):
        for event in tracker.events:
            if isinstance(event, ActionExecuted) and event.action_name == "action_listen" and \
                    isinstance(events[-1], ActionExecuted) and events[-1].action_name == "action_listen":
                continue
            events.append(event)
    return events


def domain_random_events(domain: Domain, rng: random.Random, length: int) -> List[Event]:
    """Events with the domain's own names, so that slots, loops and intents are featurised."""
    actions = [name for name in domain.action_names_or_texts if not name.startswith("utter_")][:40] or ["action_listen"]
    forms = list(domain.form_names) or ["form"]
    intents = list(domain.intents)
    slots = [slot for slot in domain.slots if slot.influence_conversation] or list(domain.slots)
    makers = [
        lambda: ActionExecuted("action_listen"),
        lambda: ActionExecuted(rng.choice(actions), hide_rule_turn=rng.random() < 0.4),
        lambda: ActionExecuted(rng.choice(forms), hide_rule_turn=rng.random() < 0.4),
        lambda: UserUttered("testo", {"name": rng.choice(intents)},
                            entities=[{"entity": slot.name, "value": "x"} for slot in rng.sample(slots, 1)]
                            if rng.random() < 0.3 else None),
        lambda: ActiveLoop(rng.choice(forms + [None])),
        lambda: SlotSet((slot := rng.choice(slots)).name, rng.choice([None, True, False, "a", 1.0])),
        lambda: SlotSet("requested_slot", rng.choice([None, slots[0].name])),
        lambda: FollowupAction(rng.choice(actions)),
        lambda: BotUttered("ok"),
    ]
    weights = [6, 6, 3, 6, 3, 5, 2, 1, 2]
    return [rng.choices(makers, weights)[0]() for _ in range(length)]


def test_states_are_rasas(project, policies):
    domain, trackers = project
    rule_only_data = policies[2]
    assert rule_only_data["rule_only_slots"] or rule_only_data["rule_only_loops"], rule_only_data
    combos = arguments(rule_only_data)
    checked = 0
    for tracker in trackers:
        checked += assert_same_on_every_prefix(domain, list(tracker.events), combos)
    rng = random.Random(10)
    for _ in range(3):
        checked += assert_same_on_every_prefix(domain, chained(trackers, rng, 12), combos)
    checked += assert_same_on_every_prefix(domain, stuck_form(40), combos)
    for _ in range(300):
        checked += assert_same_on_every_prefix(domain, domain_random_events(domain, rng, rng.randint(1, 40)), combos)
    for _ in range(300):
        checked += assert_same_on_every_prefix(domain, random_events(rng, rng.randint(1, 40)), combos)
    assert checked > 100_000


def test_policies_predict_the_same(project, policies):
    from rasa.core.policies.policy import PolicyPrediction

    domain, trackers = project
    memo, rule, rule_only_data = policies
    rng = random.Random(11)
    conversations = [list(tracker.events) for tracker in trackers]
    conversations += [chained(trackers, rng, 12) for _ in range(3)] + [stuck_form(40)]
    conversations += [domain_random_events(domain, rng, rng.randint(1, 40)) for _ in range(100)]

    def predictions(tracker: DialogueStateTracker) -> List[PolicyPrediction]:
        return [memo.predict_action_probabilities(tracker, domain, rule_only_data=rule_only_data),
                rule.predict_action_probabilities(tracker, domain)]

    predicted = 0
    confident = 0
    for events in conversations:
        tracker = DialogueStateTracker("test", domain.slots)
        for event in events:
            tracker.update(event)
            with original_states():
                expected = predictions(tracker)
            got = predictions(tracker)
            assert got == expected, events
            assert [p.policy_name for p in got] == [p.policy_name for p in expected]
            predicted += 1
            confident += sum(max(p.probabilities) >= 0.9 for p in got)
    assert predicted > 3000 and confident > 1000, (predicted, confident)


def test_the_assistant_uses_it():
    import importlib

    importlib.import_module("policies")  # as Rasa does when it loads the model
    assert Domain.states_for_tracker_history is states_for_tracker_history
    assert past_states.ORIGINAL is not states_for_tracker_history
