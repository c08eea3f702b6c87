"""Guided checks in the conversation: one form per check (desk.services.checks holds the rules).

`action_start_check` starts the check the intent names (check_<id>), the form
`<id>_form` asks only the fields the rules need (`validate_<id>_form` reads each
answer and re-asks in the user's language), `action_check_result` shows the
working with its sources and offers an operator, who gets the result as the
ticket's pre-filled question. The answers live in slots only until the result
(or "annulla"/"cancel"); the database only counts started/completed checks."""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from datetime import date, datetime
from typing import Any, Dict, List, Optional, Text
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import channel_of, language_of, latest_intent, pressed_a_button, topic_asked
from actions.intake import ActionStartIntake
from actions.knowledge import answer_topic
from actions.runtime import in_session
from desk.db import DatabaseUnavailable
from desk.services import analytics, checks
from desk.services.checks import texts
from desk.services.checks.parameters import parameters_from_database
from desk.services.checks.result import ParameterSet

log = logging.getLogger(__name__)

INTENT_PREFIX = "check_"
CHECK_SLOT = "check_id"
SUMMARY_SLOT = "check_summary"
YES_NO_BUTTONS = ("yes", "/affirm"), ("no", "/deny")
CHOICE_BUTTONS = {
    ("congedo_parentale", "income_below_limit"): ("income.yes", "income.no", "income.unknown"),
    ("bonus_asilo_nido", "isee"): ("no_isee",),
}


def today() -> date:
    return datetime.now(ZoneInfo("Europe/Rome")).date()


def slot_of(check: str, field: str) -> str:
    return f"{check}_{field}"


def all_check_slots() -> List[str]:
    return [slot_of(check, field) for check, module in checks.CHECKS.items() for field in module.FIELDS]


def answers_of(tracker: Tracker, check: str) -> Dict[str, Any]:
    return {field: tracker.get_slot(slot_of(check, field)) for field in checks.CHECKS[check].FIELDS}


async def load_parameters() -> ParameterSet:
    return await in_session(parameters_from_database)


async def record(tracker: Tracker, check: str, event: str) -> None:
    """Best effort: the usage count never stops a reply."""
    try:
        await in_session(lambda session: analytics.record_check_event(
            session, tracker.sender_id, check, event, language_of(tracker), channel_of(tracker)))
    except DatabaseUnavailable:
        log.warning("could not record check event %s of %s", event, tracker.sender_id)


def clear_answers() -> List[EventType]:
    return [SlotSet(slot, None) for slot in all_check_slots()]


def check_buttons(language: str) -> List[Dict[str, str]]:
    return [{"title": texts.pick(texts.TITLES, check, language), "payload": f"/{INTENT_PREFIX}{check}"}
            for check in checks.CHECKS]


class ActionOfferChecks(Action):
    """The list of checks (the Telegram command /calcola, or "calcola il mio caso")."""

    def name(self) -> Text:
        return "action_offer_checks"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        dispatcher.utter_message(text=texts.pick(texts.GENERAL, "choose", language), buttons=check_buttons(language),
                                 json_message={"checks": list(checks.CHECKS)})
        return []


class ActionStartCheck(Action):
    def name(self) -> Text:
        return "action_start_check"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        check = (latest_intent(tracker).get("name") or "")[len(INTENT_PREFIX):]
        if check not in checks.CHECKS:
            return []
        language = language_of(tracker)
        events: List[EventType] = []
        if not pressed_a_button(tracker):
            # A question the user wrote ("how many months of parental leave do I have left?") gets
            # the topic's answer first, the rules the check applies, with their source; pressing the
            # check's button under that answer does not repeat it.
            events += await answer_topic(dispatcher, tracker, checks.CHECKS[check].TOPIC, language, offer_check=False)
        dispatcher.utter_message(text=texts.pick(texts.GENERAL, "intro", language))
        await record(tracker, check, "started")
        return events + clear_answers() + [SlotSet(CHECK_SLOT, check), SlotSet(SUMMARY_SLOT, None)]


class ValidateCheckForm(Action, ABC):
    """Reads the answer to the field just asked and chooses the next field the rules need.

    A FormValidationAction in effect (the name is validate_<form>), written as a plain
    action because every check's fields come from its rules module, not from methods."""

    check = ""

    @abstractmethod
    def name(self) -> Text:
        """validate_<check>_form"""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        answers = answers_of(tracker, self.check)
        try:
            parameters = await load_parameters()
        except DatabaseUnavailable:
            log.error("check parameters unavailable: %s ends early", self.check)
            return [SlotSet("requested_slot", None)]
        events: List[EventType] = []
        requested = tracker.get_slot("requested_slot")
        for slot, value in tracker.slots_to_validate().items():
            field = self._field_of(slot)
            if field is None or slot != requested or value is None:
                continue
            try:
                answers[field] = checks.read_answer(self.check, field, str(value), answers, parameters, today())
            except checks.InvalidAnswer as refused:
                topic = topic_asked(tracker)
                if topic is not None:
                    return await self._leave_for(topic, dispatcher, tracker)
                dispatcher.utter_message(text=texts.reask(refused.key, language, refused.values))
                answers[field] = None
            events.append(SlotSet(slot, answers[field]))
        following = checks.next_field(self.check, answers, parameters, today())
        return events + [SlotSet("requested_slot", slot_of(self.check, following) if following else None)]

    async def _leave_for(self, topic: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """Not an answer but a question the classifier is sure is about a topic: the user moved
        on. The check ends (its answers forgotten) and the question is answered, instead of
        asking the same field again and again."""
        dispatcher.utter_message(text=texts.pick(texts.GENERAL, "left", language_of(tracker)),
                                 json_message={"check": self.check, "cancelled": True})
        await record(tracker, self.check, "cancelled")
        log.info("check %s left for the topic %s", self.check, topic)
        return ([SlotSet("requested_slot", None), ActiveLoop(None), SlotSet(CHECK_SLOT, None)] + clear_answers()
                + [FollowupAction("action_answer_topic")])

    def _field_of(self, slot: str) -> Optional[str]:
        prefix = f"{self.check}_"
        field = slot[len(prefix):] if slot.startswith(prefix) else None
        return field if field in checks.CHECKS[self.check].FIELDS else None


class AskCheckField(Action, ABC):
    """action_ask_<check>_<field>: one question with `custom: {check, asks}`."""

    check = ""
    field = ""

    @abstractmethod
    def name(self) -> Text:
        """action_ask_<check>_<field>"""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        values: Dict[str, Any] = {}
        if checks.CHECKS[self.check].QUESTION_VALUES.get(self.field):
            try:
                values = checks.question_values(self.check, self.field, await load_parameters(), today())
            except (DatabaseUnavailable, checks.ParameterOutdated):
                values = {name: "…" for name in checks.CHECKS[self.check].QUESTION_VALUES[self.field]}
        dispatcher.utter_message(text=texts.question(self.check, self.field, language, values),
                                 buttons=self.buttons(language), json_message={"check": self.check, "asks": self.field})
        return []

    def buttons(self, language: str) -> List[Dict[str, str]]:
        kind = checks.fields_of(self.check)[self.field]
        if kind == "yes_no":
            return [{"title": texts.pick(texts.BUTTONS, key, language), "payload": payload} for key, payload in YES_NO_BUTTONS]
        # A choice's payload is its own words, read like typed text.
        return [{"title": texts.pick(texts.BUTTONS, key, language), "payload": texts.pick(texts.BUTTONS, key, language)}
                for key in CHOICE_BUTTONS.get((self.check, self.field), ())]


# One validation action per form and one ask action per field, named after the checks' rules.
def _validation_name(self) -> Text:
    return f"validate_{self.check}_form"


def _ask_name(self) -> Text:
    return f"action_ask_{slot_of(self.check, self.field)}"


# Kept in a module-level list: Python tracks subclasses weakly, and the SDK finds actions through them.
GENERATED_ACTIONS: List[type] = []
for _check, _module in checks.CHECKS.items():
    GENERATED_ACTIONS.append(type(f"Validate_{_check}", (ValidateCheckForm,),
                                  {"check": _check, "name": _validation_name, "__module__": __name__}))
    for _field in _module.FIELDS:
        GENERATED_ACTIONS.append(type(f"Ask_{_check}_{_field}", (AskCheckField,),
                                      {"check": _check, "field": _field, "name": _ask_name, "__module__": __name__}))


class ActionCheckResult(Action):
    def name(self) -> Text:
        return "action_check_result"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        check = tracker.get_slot(CHECK_SLOT)
        done = clear_answers() + [SlotSet(CHECK_SLOT, None)]
        if check not in checks.CHECKS:
            return done
        offer = [{"title": texts.pick(texts.BUTTONS, "send_to_operator", language), "payload": "/affirm"},
                 {"title": texts.pick(texts.BUTTONS, "no_thanks", language), "payload": "/deny"}]
        try:
            parameters = await load_parameters()
        except DatabaseUnavailable:
            dispatcher.utter_message(text=texts.pick(texts.GENERAL, "unavailable", language), buttons=offer,
                                     json_message={"check": check, "escalation": "offer"})
            return done
        answers = answers_of(tracker, check)
        if checks.next_field(check, answers, parameters, today()) is not None:
            # The form ended early (the parameters could not be read while asking): no result.
            dispatcher.utter_message(text=texts.pick(texts.GENERAL, "unavailable", language), buttons=offer,
                                     json_message={"check": check, "escalation": "offer"})
            return done
        result = checks.run_check(check, answers, parameters, today())
        if result.outdated:
            log.warning("check %s: no period of %s covers today", check, result.outdated)
            dispatcher.utter_message(text=texts.pick(texts.GENERAL, "outdated", language), buttons=offer,
                                     json_message={"check": check, "outdated": result.outdated, "escalation": "offer"})
            await record(tracker, check, "outdated")
            return done + [SlotSet(SUMMARY_SLOT, None)]
        dispatcher.utter_message(
            text=texts.render_result(result, language), buttons=offer,
            json_message={"check": check, "result": result.figures, "sources": result.sources(),
                          "to_confirm": result.to_confirm},
        )
        await record(tracker, check, "completed")
        return done + [SlotSet(SUMMARY_SLOT, texts.summary(result, language))]


class ActionCancelCheck(Action):
    def name(self) -> Text:
        return "action_cancel_check"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        check = tracker.get_slot(CHECK_SLOT)
        dispatcher.utter_message(text=texts.pick(texts.GENERAL, "cancelled", language_of(tracker)),
                                 json_message={"check": check, "cancelled": True})
        if check in checks.CHECKS:
            await record(tracker, check, "cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet(CHECK_SLOT, None)] + clear_answers()


class ActionStartCheckIntake(ActionStartIntake):
    """The user wants an operator to look at a check's result: the ticket form, with
    the result as the pre-filled question."""

    def name(self) -> Text:
        return "action_start_check_intake"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        summary = tracker.get_slot(SUMMARY_SLOT)
        if not summary:
            return events
        return [event for event in events if event.get("name") != "intake_question_draft"] + [
            SlotSet("intake_question_draft", summary[:4000]), SlotSet(SUMMARY_SLOT, None)]
