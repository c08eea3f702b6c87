"""The ticket form: who the user is, how to answer them, the question, consent.

Rasa runs `intake_form`; this module asks each field (with the contract's
`custom.escalation: intake, asks: <field>`), validates the answers and submits
the ticket through desk.services.tickets. Nothing personal is stored before
the user consents."""
from __future__ import annotations

import logging
import uuid
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import channel_of, language_of, latest_intent, latest_text
from actions.replies import record_turn
from actions.texts import say
from desk.contact import parse_contact
from desk.text import printable, user_text
from desk.topics import load_topics

log = logging.getLogger(__name__)

FORM = "intake_form"
FIELD_SLOTS = {
    "role": ["intake_role"],
    "name": ["intake_name"],
    "contact": ["intake_contact", "intake_contact_kind"],
    "company": ["intake_company_name", "intake_company_size", "intake_company_artisan"],
    "question": ["intake_question"],
    "consent": ["intake_consent"],
}
ALL_SLOTS = [slot for slots in FIELD_SLOTS.values() for slot in slots] + ["intake_question_draft", "intake_key"]
COMPANY_SLOTS = FIELD_SLOTS["company"]
ROLES = ("worker", "owner", "consultant", "other")
ROLE_WORDS = {
    "worker": ("lavorat", "dipendent", "operai", "impiegat", "worker", "employee", "staff"),
    "owner": ("titolar", "datore", "imprenditor", "artigian", "owner", "employer", "azienda", "impresa", "firm"),
    "consultant": ("consulent", "commercialist", "consultant", "advisor", "accountant"),
    "other": ("altro", "other", "familiar", "parent"),
}
SIZE_BANDS = ("1-9", "10-49", "50+")
CHANNELS_ANSWERED_IN_CHAT = ("telegram", "widget")
MIN_QUESTION_LENGTH = 10


def is_yes(tracker: Tracker) -> Optional[bool]:
    """affirm/deny from the NLU, or the buttons' own words."""
    name = latest_intent(tracker).get("name")
    text = latest_text(tracker).strip().lower()
    if name == "affirm" or text in ("sì", "si", "yes", "/affirm"):
        return True
    if name == "deny" or text in ("no", "/deny"):
        return False
    return None


def conversation_transcript(tracker: Tracker, limit: int = 60) -> List[Dict[str, str]]:
    """The conversation as the user saw it: a pressed button reads as its title, not its payload."""
    lines = []
    buttons: Dict[str, str] = {}  # payload -> title, of the assistant's messages since the user last spoke
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            text = user_text(event["text"])
            lines.append({"who": "user", "text": buttons.get(text.strip(), text), "at": event.get("timestamp")})
            buttons = {}
        elif event.get("event") == "bot":
            buttons.update(button_titles(event))
            if event.get("text"):
                lines.append({"who": "bot", "text": event["text"], "at": event.get("timestamp")})
    return lines[-limit:]


def button_titles(bot_event: Dict[str, Any]) -> Dict[str, str]:
    """{payload: title} of a bot message's buttons."""
    titles = {}
    for button in (bot_event.get("data") or {}).get("buttons") or []:
        if isinstance(button, dict) and button.get("payload") and button.get("title"):
            titles[str(button["payload"]).strip()] = printable(str(button["title"]))
    return titles


def last_unanswered_message(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The user message that the assistant last answered with an offer of a person."""
    previous_user = None
    found = None
    for event in tracker.events:
        if event.get("event") == "user":
            previous_user = event
        elif event.get("event") == "action" and event.get("name") == "action_offer_human" and previous_user:
            text = previous_user.get("text") or ""
            if text and not text.startswith("/"):
                found = dict(previous_user, text=user_text(text))
    return found


def question_message(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The user message that gave the form its question (typed, or confirmed from the draft)."""
    question = tracker.get_slot("intake_question")
    if not question:
        return None
    for event in reversed(tracker.events):
        if event.get("event") == "user" and user_text(event.get("text") or "") == question:
            return event
    return None


def suggested_topics(message: Optional[Dict[str, Any]], limit: int = 3) -> List[Dict[str, Any]]:
    if not message:
        return []
    ranking = (message.get("parse_data") or {}).get("intent_ranking") or []
    topics = load_topics()
    return [
        {"topic": item["name"], "confidence": round(float(item.get("confidence") or 0), 3)}
        for item in ranking if item.get("name") in topics
    ][:limit]


class ActionStartIntake(Action):
    """The user asked for a person or accepted the offer: prepare the form."""

    def name(self) -> Text:
        return "action_start_intake"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        unanswered = last_unanswered_message(tracker)
        await record_turn(tracker, "escalated")
        return [SlotSet(slot, None) for slot in ALL_SLOTS] + [
            SlotSet("intake_key", uuid.uuid4().hex),
            SlotSet("intake_question_draft", unanswered.get("text") if unanswered else None),
        ]


class ValidateIntakeForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_intake_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        if tracker.get_slot("intake_role") == "owner":
            return domain_slots
        return [slot for slot in domain_slots if slot not in COMPANY_SLOTS]

    def validate_intake_role(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        text = str(value or "").strip().lower()
        for role in ROLES:
            if text == role or any(word in text for word in ROLE_WORDS[role]):
                return {"intake_role": role}
        dispatcher.utter_message(text=say("role_invalid", language_of(tracker)))
        return {"intake_role": None}

    def validate_intake_name(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        name = " ".join(user_text(str(value or "")).split())
        looks_like_a_name = len(name.split()) <= 6 and not any(char in name for char in "?/@")
        if 2 <= len(name) <= 120 and sum(char.isalpha() for char in name) >= 2 and looks_like_a_name:
            return {"intake_name": name}
        dispatcher.utter_message(text=say("name_invalid", language_of(tracker)))
        return {"intake_name": None}

    def validate_intake_contact(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if text == "/contact_here" and channel_of(tracker) in CHANNELS_ANSWERED_IN_CHAT:
            return {"intake_contact": channel_of(tracker), "intake_contact_kind": "channel"}
        contact = parse_contact(text)
        if contact is None:
            dispatcher.utter_message(text=say("contact_invalid", language_of(tracker)))
            return {"intake_contact": None, "intake_contact_kind": None}
        return {"intake_contact": contact.value, "intake_contact_kind": contact.kind}

    def validate_intake_company_name(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        name = " ".join(user_text(str(value or "")).split())[:200]
        return {"intake_company_name": name or None}

    def validate_intake_company_size(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        text = str(value or "").strip().replace(" ", "")
        if text in SIZE_BANDS:
            return {"intake_company_size": text}
        digits = "".join(char for char in text if char.isdigit())
        if digits and len(digits) <= 6:
            count = int(digits)
            band = "1-9" if count < 10 else "10-49" if count < 50 else "50+"
            return {"intake_company_size": band}
        dispatcher.utter_message(text=say("size_invalid", language_of(tracker)))
        return {"intake_company_size": None}

    def validate_intake_company_artisan(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        answer = is_yes(tracker)
        if answer is None:
            dispatcher.utter_message(text=say("yes_no_invalid", language_of(tracker)))
        return {"intake_company_artisan": answer}

    def validate_intake_question(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        draft = tracker.get_slot("intake_question_draft")
        if draft and is_yes(tracker):
            return {"intake_question": draft}
        question = user_text(str(value or ""))[:4000]
        if len(question) < MIN_QUESTION_LENGTH or question.startswith("/"):
            dispatcher.utter_message(text=say("question_invalid", language_of(tracker)))
            return {"intake_question": None}
        return {"intake_question": question}

    def validate_intake_consent(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        intent = latest_intent(tracker)
        if intent.get("name") == "correct":
            field = next((e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == "field"), None)
            if field in FIELD_SLOTS and field != "consent":
                return {slot: None for slot in FIELD_SLOTS[field] + ["intake_consent"]}
        answer = is_yes(tracker)
        if answer is None:
            dispatcher.utter_message(text=say("consent_invalid", language_of(tracker)))
        return {"intake_consent": answer}


class AskIntakeField(Action, ABC):
    """Base of the action_ask_<slot> actions: one question with its contract payload."""

    slot = ""
    field = ""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        text, buttons = self.question(tracker, language)
        dispatcher.utter_message(text=text, buttons=buttons, json_message={"escalation": "intake", "asks": self.field})
        return []

    @abstractmethod
    def question(self, tracker: Tracker, language: str):
        """The question's text and buttons."""


class AskRole(AskIntakeField):
    slot, field = "intake_role", "role"

    def question(self, tracker, language):
        # Pressing a button is the same as typing its title.
        buttons = [{"title": say(f"role_{role}", language), "payload": say(f"role_{role}", language)} for role in ROLES]
        return say("ask_role", language), buttons


class AskName(AskIntakeField):
    slot, field = "intake_name", "name"

    def question(self, tracker, language):
        return say("ask_name", language), []


class AskContact(AskIntakeField):
    slot, field = "intake_contact", "contact"

    def question(self, tracker, language):
        if channel_of(tracker) in CHANNELS_ANSWERED_IN_CHAT:
            return say("ask_contact_here", language), [{"title": say("button_contact_here", language), "payload": "/contact_here"}]
        return say("ask_contact", language), []


class AskCompanyName(AskIntakeField):
    slot, field = "intake_company_name", "company"

    def question(self, tracker, language):
        return say("ask_company_name", language), []


class AskCompanySize(AskIntakeField):
    slot, field = "intake_company_size", "company"

    def question(self, tracker, language):
        return say("ask_company_size", language), [{"title": band, "payload": band} for band in SIZE_BANDS]


class AskCompanyArtisan(AskIntakeField):
    slot, field = "intake_company_artisan", "company"

    def question(self, tracker, language):
        return say("ask_company_artisan", language), [
            {"title": say("yes", language), "payload": "/affirm"}, {"title": say("no", language), "payload": "/deny"}]


class AskQuestion(AskIntakeField):
    slot, field = "intake_question", "question"

    def question(self, tracker, language):
        draft = tracker.get_slot("intake_question_draft")
        if draft:
            return say("ask_question_draft", language, draft=draft[:600]), [
                {"title": say("button_question_ok", language), "payload": "/affirm"}]
        return say("ask_question", language), []


class AskConsent(AskIntakeField):
    slot, field = "intake_consent", "consent"

    def question(self, tracker, language):
        from desk.config import Settings

        summary = intake_summary(tracker, language)
        buttons = [
            {"title": say("button_consent_yes", language), "payload": "/affirm"},
            {"title": say("button_consent_no", language), "payload": "/deny"},
        ] + [
            {"title": say("button_correct", language, field=say(f"field_{field}", language)),
             "payload": f'/correct{{"field":"{field}"}}'}
            for field in ("name", "contact", "question")
        ]
        text = say("ask_consent", language, summary=summary, privacy_url=Settings.from_env().privacy_url)
        return text, buttons


def intake_summary(tracker: Tracker, language: str) -> str:
    rows = [
        (say("field_role", language), say(f"role_{tracker.get_slot('intake_role')}", language)
         if tracker.get_slot("intake_role") in ROLES else ""),
        (say("field_name", language), tracker.get_slot("intake_name")),
        (say("field_contact", language), say("how_here", language) if tracker.get_slot("intake_contact_kind") == "channel"
         else tracker.get_slot("intake_contact")),
    ]
    if tracker.get_slot("intake_role") == "owner":
        artisan = tracker.get_slot("intake_company_artisan")
        company = ", ".join(filter(None, [
            tracker.get_slot("intake_company_name"), tracker.get_slot("intake_company_size"),
            {True: say("yes", language), False: say("no", language)}.get(artisan)]))
        rows.append((say("field_company", language), company))
    rows.append((say("field_question", language), (tracker.get_slot("intake_question") or "")[:600]))
    return "\n".join(f"• {label}: {value}" for label, value in rows if value)


class ActionCancelIntake(Action):
    def name(self) -> Text:
        return "action_cancel_intake"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(text=say("cancelled", language_of(tracker)), json_message={"intake": "cancelled"})
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + [SlotSet(slot, None) for slot in ALL_SLOTS]
