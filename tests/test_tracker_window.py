"""The tracker sent to the action server with only its recent events (policies/tracker_window.py)
gives every reader of `tracker.events` in our actions the result the whole tracker gives.

Each reader (the ticket's transcript, the unanswered message, the question's message and its
suggested topics, the repeated rating, the clarification offered, the form's slots to validate,
the channel) runs on the state Rasa sends (`current_state(EventVerbosity.ALL)`) and on the
windowed one, both through JSON and rasa_sdk's `Tracker.from_dict` as in the action server, after
every event of: seeded random conversations of 120-200 turns, seeded random event sequences, and
the trackers Rasa builds from our stories and rules chained into a long conversation. The
end-to-end test (tests/test_tracker_window_e2e.py) does the same on a real conversation."""
from __future__ import annotations

import ast
import inspect
import json
import random
from typing import Any, Callable, Dict, List, Optional, Set

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from actions.intake import conversation_transcript
from desk.config import PROJECT_ROOT
from desk.text import user_text
from policies import tracker_window
from tests.support.tracker_window import DOMAIN, Comparison, readings

TYPED = ["Come funziona il congedo parentale?", "  quanto spetta   di assegno unico ", "ciao",
         "Ho una domanda\u200b sulla 104", "come faccio la dichiarazione dei redditi con due lavori?",
         "grazie", "lavoratrice", "Giulia Bianchi", "giulia@example.org", "Un dubbio sul TFR\r\nin busta"]
PAYLOADS = ["/affirm", "/deny", "/request_human", "/feedback_helpful", "/feedback_not_helpful",
            "/check_congedo_parentale"]
INTENTS = ["congedo_parentale", "assegno_unico", "nlu_fallback", "affirm", "deny", "request_human",
           "feedback_helpful", "feedback_not_helpful", "greet"]


def random_conversation(rng: random.Random, turns: int) -> List[Event]:
    """A conversation shaped like ours: answers with buttons and topics, clarifications,
    offers of a person, ticket forms with their slots, ratings, the odd restart."""
    typed: List[str] = []
    events: List[Event] = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]

    def user() -> UserUttered:
        if rng.random() < 0.35:
            text: Optional[str] = rng.choice(PAYLOADS)
        elif rng.random() < 0.05:
            text = rng.choice([None, ""])
        else:
            text = rng.choice(TYPED) + (f" {rng.randint(1, 40)}" if rng.random() < 0.5 else "")
            typed.append(text)
        intent = rng.choice(INTENTS)
        ranking = [{"name": name, "confidence": round(rng.random(), 3)} for name in rng.sample(INTENTS, 3)]
        return UserUttered(text, {"name": intent, "confidence": 0.9},
                           parse_data={"intent": {"name": intent, "confidence": 0.9}, "intent_ranking": ranking},
                           input_channel=rng.choice(["rest", "telegram", None]))

    def bot() -> BotUttered:
        data: Dict[str, Any] = {}
        if rng.random() < 0.5:
            data["buttons"] = [{"title": f"Titolo {payload}", "payload": payload}
                               for payload in rng.sample(PAYLOADS, rng.randint(1, 3))]
        if rng.random() < 0.2:
            data["custom"] = {"clarify": rng.sample(INTENTS[:2], rng.randint(1, 2))}
        elif rng.random() < 0.3:
            data["custom"] = {"topic": rng.choice(INTENTS[:2])}
        text = None if rng.random() < 0.15 else f"risposta {rng.randint(1, 999)}"
        return BotUttered(text, data)

    for _ in range(turns):
        events += [user(), ActionExecuted("action_extract_slots")]
        roll = rng.random()
        if roll < 0.15:
            events += [ActionExecuted("action_offer_human"), bot()]
        elif roll < 0.3:
            events += [ActionExecuted("intake_form"), ActiveLoop("intake_form"),
                       SlotSet("requested_slot", "intake_question"), bot()]
        elif roll < 0.4 and typed:
            # The question confirmed from a draft (an older message) or typed now; rasa_sdk
            # validates slots at the end of the events (the form's temporary tracker).
            question = user_text(rng.choice(typed[-3:] if rng.random() < 0.5 else typed))
            events += [SlotSet("requested_slot", "intake_question"), ActionExecuted("intake_form"),
                       SlotSet("intake_question", question)]
            if rng.random() < 0.5:
                events += [ActiveLoop(None), SlotSet("requested_slot", None), ActionExecuted("action_submit_intake"),
                           bot(), SlotSet("intake_question", None)]
        elif roll < 0.42:
            events += [Restarted()]
        else:
            events += [ActionExecuted("action_answer")] + [bot() for _ in range(rng.randint(0, 3))]
            if rng.random() < 0.4:
                events.append(SlotSet("last_topic", rng.choice(INTENTS[:2])))
        events.append(ActionExecuted("action_listen"))
    return events


def random_soup(rng: random.Random, length: int) -> List[Event]:
    """Events in any order, dense in texts so that windows are short."""
    makers: List[Callable[[], Event]] = [
        lambda: UserUttered(rng.choice(TYPED + PAYLOADS + [""]), {"name": rng.choice(INTENTS)},
                            input_channel=rng.choice(["rest", None])),
        lambda: BotUttered(rng.choice(["ok", None]), {"buttons": [{"title": "Sì", "payload": "/affirm"}]}
                           if rng.random() < 0.5 else {"custom": {"clarify": ["assegno_unico"]}}),
        lambda: ActionExecuted(rng.choice(["action_listen", "action_offer_human", "intake_form"])),
        lambda: SlotSet(rng.choice(["intake_question", "last_topic", "requested_slot"]),
                        rng.choice([None, user_text(rng.choice(TYPED)), "assegno_unico"])),
    ]
    return [rng.choice(makers)() for _ in range(length)]


def test_the_transcript_limit_is_the_windows():
    assert inspect.signature(conversation_transcript).parameters["limit"].default == tracker_window.TRANSCRIPT_LINES


def actions_reading_the_transcript() -> Set[str]:
    """The names of the actions in actions/ whose code calls conversation_transcript, directly or
    through functions of ours (by name, across modules), or inherits such code."""
    modules = [ast.parse(path.read_text(encoding="utf-8")) for path in sorted((PROJECT_ROOT / "actions").glob("*.py"))]

    def called(node: ast.AST) -> Set[str]:
        return {call.func.id if isinstance(call.func, ast.Name) else call.func.attr
                for call in ast.walk(node) if isinstance(call, ast.Call)
                and isinstance(call.func, (ast.Name, ast.Attribute))}

    functions = {node.name: called(node) for module in modules for node in module.body
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    readers = {"conversation_transcript"}
    while True:
        more = {name for name, calls in functions.items() if calls & readers} - readers
        if not more:
            break
        readers |= more
    classes = [node for module in modules for node in module.body if isinstance(node, ast.ClassDef)]
    reading = {cls.name for cls in classes if called(cls) & readers}
    while True:
        more = {cls.name for cls in classes if any(isinstance(base, ast.Name) and base.id in reading
                                                   for base in cls.bases)} - reading
        if not more:
            break
        reading |= more
    names = set()
    for cls in classes:
        if cls.name in reading:
            for node in cls.body:
                if isinstance(node, ast.FunctionDef) and node.name == "name":
                    names |= {ret.value.value for ret in ast.walk(node)
                              if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Constant)}
    return names


def test_the_actions_that_read_the_transcript_get_its_window():
    assert actions_reading_the_transcript() == tracker_window.TRANSCRIPT_ACTIONS == {"action_submit_intake"}
    tracker = DialogueStateTracker.from_events("window-test", random_conversation(random.Random(6), 150),
                                               slots=DOMAIN.slots)
    sent = {name: tracker_window.action_call_format(RemoteAction(name, None), tracker, DOMAIN)["tracker"]["events"]
            for name in ("action_submit_intake", "action_answer_topic", "action_read_turn", "validate_intake_form")}
    assert sent["action_submit_intake"] == tracker_window.tracker_state(tracker, transcript=True)["events"]
    assert sent["action_answer_topic"] == sent["action_read_turn"] == sent["validate_intake_form"] == \
        tracker_window.tracker_state(tracker, transcript=False)["events"]
    assert len(sent["action_answer_topic"]) < len(sent["action_submit_intake"])


def test_readers_see_the_same_in_long_random_conversations_and_event_sequences():
    rng = random.Random(10)
    conversations, soups = Comparison(), Comparison()
    for _ in range(12):
        conversations.replay(random_conversation(rng, rng.randint(120, 200)), every=3)
    for _ in range(100):
        soups.replay(random_soup(rng, rng.randint(150, 450)), every=9)
    assert conversations.checked > 3_000 and soups.checked > 3_000
    # Most checks were on a trimmed tracker, so the comparison tested the window.
    assert conversations.trimmed > 0.7 * conversations.checked, (conversations.trimmed, conversations.checked)
    assert soups.trimmed > 0.25 * soups.checked, (soups.trimmed, soups.checked)
    # Many of them kept an old unanswered message or the form's question before the recent events.
    assert conversations.with_older > 0.1 * conversations.checked, (conversations.with_older, conversations.checked)


def test_readers_see_the_same_in_the_training_stories_chained():
    """The trackers Rasa builds from data/stories and data/rules, with texts for the user's
    messages and the bot's responses, chained three times (the last two shuffled) into one long conversation."""
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(PROJECT_ROOT / "domain.yml"),
        training_data_paths=[str(PROJECT_ROOT / "data" / "rules"), str(PROJECT_ROOT / "data" / "stories")])
    trackers = TrainingDataGenerator(importer.get_stories(), importer.get_domain(), augmentation_factor=0).generate()
    assert len(trackers) > 50
    chained: List[Event] = []
    rng = random.Random(5)
    for number, training in enumerate(trackers + rng.sample(trackers, len(trackers)) * 2):
        for event in training.events:
            if isinstance(event, UserUttered):
                intent = event.intent_name or "nlu_fallback"
                text = event.text or (f"/{intent}" if number % 3 == 0 else f"domanda {number} su {intent}")
                chained.append(UserUttered(text, {"name": intent}, parse_data={"intent": {"name": intent}}))
            else:
                chained.append(event)
                if isinstance(event, ActionExecuted) and (event.action_name or "").startswith("utter_"):
                    chained.append(BotUttered(f"testo di {event.action_name}",
                                              {"buttons": [{"title": "Sì", "payload": "/affirm"}]}))
    comparison = Comparison()
    comparison.replay(chained, every=2)
    assert comparison.checked > 600
    assert comparison.trimmed > comparison.checked / 2, (comparison.trimmed, comparison.checked)


def test_the_request_to_the_action_server_is_rasas_with_the_windowed_events():
    rng = random.Random(3)
    tracker = DialogueStateTracker.from_events("window-test", random_conversation(rng, 150), slots=DOMAIN.slots)
    for name in ("action_read_turn", "action_submit_intake"):
        action = RemoteAction(name, None)
        whole = tracker_window.ORIGINAL(action, tracker, DOMAIN)
        windowed = tracker_window.action_call_format(action, tracker, DOMAIN)
        older, start = tracker_window.window(list(tracker.events), tracker.get_slot("intake_question"),
                                             transcript=name == "action_submit_intake")
        assert 0 < len(windowed["tracker"]["events"]) < len(whole["tracker"]["events"]) / 3
        events = whole["tracker"]["events"]
        whole["tracker"]["events"] = [events[index] for index in older] + events[start:]
        assert windowed == whole
        assert len(json.dumps(windowed)) < len(json.dumps(tracker_window.ORIGINAL(action, tracker, DOMAIN)))


def test_a_short_conversation_is_sent_whole():
    rng = random.Random(4)
    tracker = DialogueStateTracker.from_events("window-test", random_conversation(rng, 5), slots=DOMAIN.slots)
    assert tracker_window.tracker_state(tracker) == tracker.current_state(EventVerbosity.ALL)


def test_rule_4_on_its_own_a_rating_followed_by_60_lines_in_its_turn():
    """When the latest user message is followed by 60 lines (an action that said a lot before
    another runs), the transcript needs nothing before it; the repeated rating still needs the
    user message before it."""
    rating = {"name": "feedback_helpful", "confidence": 1.0}
    events: List[Event] = [
        ActionExecuted("action_listen"), UserUttered("quanto dura il congedo?", input_channel="rest"),
        ActionExecuted("action_answer_topic"), BotUttered("risposta", {"custom": {"topic": "congedi"}}),
        ActionExecuted("action_listen"), UserUttered("/feedback_helpful", rating, input_channel="rest"),
        ActionExecuted("action_record_feedback"), BotUttered("grazie"),
        ActionExecuted("action_listen"), UserUttered("/feedback_helpful", rating, input_channel="telegram"),
        ActionExecuted("action_answer_topic")]
    events += [BotUttered(f"riga {number}") for number in range(65)]
    tracker = DialogueStateTracker.from_events("window-test", events, slots=DOMAIN.slots)
    assert tracker_window.window(list(tracker.events)) == ([], 5)  # the previous rating
    assert tracker_window._transcript_start(list(tracker.events)) == 9  # the latest one
    assert readings(tracker_window.tracker_state(tracker))["repeated_rating"] is True
    Comparison().check(tracker)
