"""Submitting the ticket form, looking a ticket up by its reference, follow-ups."""
from __future__ import annotations

import asyncio
import logging
import re
from functools import lru_cache
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import channel_of, language_of, latest_metadata, latest_text
from actions.intake import (ALL_SLOTS, conversation_transcript, last_unanswered_message, question_message,
                            suggested_topics)
from actions.replies import offer_human
from actions.runtime import database, in_session
from actions.texts import STATUS_LABELS, say
from actions.turn import handoff_state
from desk.config import Settings
from desk.db import DatabaseUnavailable
from desk.models.base import utcnow
from desk.services import knowledge, outbox, ticket_lookup, tickets
from desk.services.business_hours import BusinessCalendar
from desk.services.intake_spool import IntakeSpool
from desk.services.rate_limit import RateLimiter, limiter_for

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def calendar() -> BusinessCalendar:
    return BusinessCalendar.from_env()


@lru_cache(maxsize=1)
def spool() -> IntakeSpool:
    return IntakeSpool(Settings.from_env().spool_dir)


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()


@lru_cache(maxsize=1)
def lookup_limiter() -> RateLimiter:
    return limiter_for(settings().redis_url)


def reply_address(tracker: Tracker) -> str:
    """Where the channel delivers the operator's reply: the gateway says so in
    the metadata; otherwise the conversation id itself."""
    return str(latest_metadata(tracker).get("reply_address") or tracker.sender_id)


def build_intake(tracker: Tracker, ref: str) -> "tickets.TicketIntake":
    language = language_of(tracker)
    unanswered = last_unanswered_message(tracker)
    return tickets.TicketIntake(
        intake_key=tracker.get_slot("intake_key") or f"{tracker.sender_id}:{ref}",
        ref=ref,
        channel=channel_of(tracker),
        reply_address=reply_address(tracker),
        conversation_id=tracker.sender_id,
        language=language,
        role=tracker.get_slot("intake_role") or "other",
        name=tracker.get_slot("intake_name") or "",
        contact=tracker.get_slot("intake_contact") or "",
        contact_kind=tracker.get_slot("intake_contact_kind") or "channel",
        company_name=tracker.get_slot("intake_company_name") or "",
        company_size=tracker.get_slot("intake_company_size"),
        company_artisan=tracker.get_slot("intake_company_artisan"),
        question=tracker.get_slot("intake_question") or "",
        consent_at=utcnow(),
        consent_version=Settings.from_env().privacy.notice_version,
        transcript=conversation_transcript(tracker),
        # The NLU's best topics for the question itself, else for the message it could not answer.
        suggested_topics=suggested_topics(question_message(tracker) or unanswered),
    )


def format_due(value, language: str) -> str:
    local = calendar().to_local(value)
    return local.strftime("%d/%m/%Y %H:%M") if language == "it" else local.strftime("%d %b %Y, %H:%M")


class ActionSubmitIntake(Action):
    def name(self) -> Text:
        return "action_submit_intake"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        reset = [SlotSet(slot, None) for slot in ALL_SLOTS]
        if tracker.get_slot("intake_consent") is not True:
            dispatcher.utter_message(text=say("consent_refused", language, contacts=await desk_contacts(language)),
                                     json_message={"intake": "consent_refused"})
            return reset
        intake = build_intake(tracker, tickets.new_reference())
        try:
            # Register intakes saved during an outage first, so a resubmitted one keeps its reference.
            if spool().pending():
                await asyncio.to_thread(spool().drain, database(), calendar())
            ticket = await in_session(lambda session: tickets.open_ticket(session, intake, calendar()))
        except DatabaseUnavailable:
            log.error("database unavailable: intake %s spooled", intake.intake_key)
            spool().save(intake)
            dispatcher.utter_message(text=say("ticket_saved_offline", language, ref=intake.ref),
                                     json_message={"ticket": {"ref": intake.ref, "status": "open", "registered": False}})
            return reset + [SlotSet("last_ticket_ref", intake.ref)]
        how = {"channel": "how_here", "email": "how_email", "phone": "how_phone"}[ticket.contact_kind]
        dispatcher.utter_message(
            text=say("ticket_opened", language, ref=ticket.ref, how=say(how, language),
                     due=format_due(ticket.sla_due_at, language), hours=calendar().describe(language)),
            json_message={"ticket": {"ref": ticket.ref, "status": ticket.status}},
        )
        return reset + [SlotSet("last_ticket_ref", ticket.ref)]


async def desk_contacts(language: str) -> str:
    try:
        answer = await in_session(lambda session: knowledge.answer_for(session, "sportello_contatti", language))
        return answer.text
    except (DatabaseUnavailable, knowledge.UnknownTopic):
        return say("contacts_unavailable", language)


def reference_in(tracker: Tracker) -> Optional[str]:
    for entity in tracker.latest_message.get("entities", []):
        if entity.get("entity") == "ticket_ref":
            found = tickets.normalise_reference(str(entity.get("value")))
            if found:
                return found
    return tickets.find_reference_in(latest_text(tracker))


def requester_of(tracker: Tracker) -> ticket_lookup.Requester:
    client = latest_metadata(tracker).get("client")
    return ticket_lookup.Requester(conversation_id=tracker.sender_id, channel=channel_of(tracker),
                                   address=reply_address(tracker), client=str(client)[:64] if client else None)


def lookup_refused(requester: ticket_lookup.Requester) -> Optional[int]:
    """Count one lookup against every limit of the requester: the minutes to wait when over one."""
    waits = []
    for name, key, limit in ticket_lookup.limits(settings().ticket_lookups_per_hour, requester):
        decision = lookup_limiter().hit(name, ticket_lookup.pseudonym(settings().secret_key, key), limit)
        if not decision.allowed:
            waits.append(decision.retry_after_seconds)
    return max(1, -(-max(waits) // 60)) if waits else None


async def tell_status(dispatcher: CollectingDispatcher, tracker: Tracker, ref: Optional[str]) -> None:
    """The status of a ticket for anyone who writes its reference; the desk's last reply only
    for the conversation that opened it. Lookups are limited, since references can be guessed."""
    language = language_of(tracker)
    shown = ref or latest_text(tracker).strip()[:20]
    requester = requester_of(tracker)
    who = ticket_lookup.pseudonym(settings().secret_key, requester.conversation_id)
    minutes = await asyncio.to_thread(lookup_refused, requester)
    if minutes is not None:
        log.warning("ticket lookup refused: over the limit (conversation %s, channel %s)", who, requester.channel)
        dispatcher.utter_message(text=say("status_too_many", language, minutes=minutes),
                                 json_message={"ticket": {"ref": shown, "status": "rate_limited"}})
        return
    try:
        view = await in_session(lambda session: tickets.public_status(session, ref, requester)) if ref else None
    except DatabaseUnavailable:
        dispatcher.utter_message(text=say("status_unavailable", language), json_message={"ticket": {"ref": shown, "status": "unavailable"}})
        return
    if view is None:
        log.info("ticket lookup of an unknown reference (conversation %s, channel %s)", who, requester.channel)
        dispatcher.utter_message(text=say("status_not_found", language, ref=shown), json_message={"ticket": {"ref": shown, "status": "not_found"}})
        return
    status = tickets.TicketStatus(view.status).value
    lines = [say("status", language, ref=view.ref, status=STATUS_LABELS[status][language])]
    if view.last_reply:
        lines.append(say("status_update", language, date=format_due(view.last_reply_at, language), text=view.last_reply))
    dispatcher.utter_message(text="\n".join(lines), json_message={"ticket": {"ref": view.ref, "status": status}})


_ASKS_FOR_LINK = re.compile(r"\b(link|collegamento)\b", re.IGNORECASE)


def asks_for_link(text: str) -> bool:
    """"mandami il link DC-7K4M2Q", "send me the link": the follow-up page's link, by e-mail."""
    return bool(_ASKS_FOR_LINK.search(text or ""))


async def send_link(dispatcher: CollectingDispatcher, tracker: Tracker, ref: str) -> None:
    """Queue a fresh follow-up link to the ticket's e-mail, if it has one. The reply is the same
    either way: it never tells whether the ticket has an address, nor which."""
    language = language_of(tracker)

    def request(session) -> Optional[str]:
        ticket = tickets.find_by_ref(session, ref)
        if ticket is None:
            return None
        outbox.send_follow_up_link(session, ticket)
        return ticket.status

    try:
        status = await in_session(request)
    except DatabaseUnavailable:
        dispatcher.utter_message(text=say("status_unavailable", language), json_message={"ticket": {"ref": ref, "status": "unavailable"}})
        return
    if status is None:
        dispatcher.utter_message(text=say("status_not_found", language, ref=ref), json_message={"ticket": {"ref": ref, "status": "not_found"}})
        return
    dispatcher.utter_message(text=say("follow_up_link_sent", language, ref=ref),
                             json_message={"ticket": {"ref": ref, "status": status, "link": "requested"}})


class ActionTicketStatus(Action):
    def name(self) -> Text:
        return "action_ticket_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        ref = reference_in(tracker) or tracker.get_slot("last_ticket_ref")
        if ref and asks_for_link(latest_text(tracker)):
            await send_link(dispatcher, tracker, ref)
            return []
        await tell_status(dispatcher, tracker, ref)
        return []


async def attach_follow_up(tracker: Tracker, waiting_only: bool) -> Optional[str]:
    """Attach the latest message to the user's open ticket; returns its reference."""
    text = latest_text(tracker)

    def attach(session) -> Optional[str]:
        ticket = tickets.open_ticket_for_conversation(session, tracker.sender_id)
        if ticket is None or (waiting_only and ticket.status != tickets.TicketStatus.WAITING_ON_USER.value):
            return None
        tickets.add_follow_up(session, ticket, text)
        return ticket.ref

    try:
        return await in_session(attach)
    except DatabaseUnavailable:
        return None


class ActionTicketFollowUp(Action):
    """A message for the person handling the ticket: attached to it. The user is
    told once per ticket; after that the assistant stays quiet."""

    def name(self) -> Text:
        return "action_ticket_follow_up"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        ref = await attach_follow_up(tracker, waiting_only=False)
        if ref is None:
            offer_human(dispatcher, language_of(tracker))
            return []
        payload = {"ticket": {"ref": ref, "status": "open", "follow_up": True}}
        if tracker.get_slot("handoff_notified") == ref:
            dispatcher.utter_message(json_message=payload)
            return []
        language = language_of(tracker)
        dispatcher.utter_message(
            text=say("follow_up_added", language, ref=ref), json_message=payload,
            buttons=[{"title": say("back_to_bot_button", language), "payload": "/back_to_bot"}],
        )
        return [SlotSet("handoff_notified", ref)]


class ActionBackToBot(Action):
    """The user wants the assistant back while an operator handles their ticket: the ticket
    stays open and the operator's reply still reaches them, but their messages go to the
    assistant again (action_read_turn leaves the released ticket out of the handoff)."""

    def name(self) -> Text:
        return "action_back_to_bot"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        try:
            ticket = await in_session(lambda session: tickets.open_ticket_for_conversation(session, tracker.sender_id))
        except DatabaseUnavailable:
            ticket = None
        if ticket is None or handoff_state(ticket.status) is None:
            dispatcher.utter_message(text=say("back_to_bot_nothing_open", language))
            return [SlotSet("handoff", None)]
        dispatcher.utter_message(text=say("back_to_bot", language, ref=ticket.ref),
                                 json_message={"ticket": {"ref": ticket.ref, "status": ticket.status}})
        return [SlotSet("handoff_released", ticket.ref), SlotSet("handoff", None)]
