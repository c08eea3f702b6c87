"""Clarify instead of giving up: when the classifier hesitates between a few topics
(Rasa's nlu_fallback), ask which one is meant, with one button per topic and one for a
person. The decision is desk.services.understanding.decide; this module says it and
records it. Pressing a topic's button sends `/<topic id>`, which the topic's rule answers."""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import channel_of, language_of, latest_intent, latest_text
from actions.runtime import in_session
from actions.texts import say
from desk.db import DatabaseUnavailable
from desk.services import clarifications, knowledge
from desk.services.understanding import FALLBACK_INTENT, Decision, Offer, Thresholds, decide
from desk.topics import load_topics

log = logging.getLogger(__name__)

PERSON_PAYLOAD = "/request_human"


@lru_cache(maxsize=1)
def thresholds() -> Thresholds:
    return Thresholds.from_env()


def decision_for(tracker: Tracker) -> Decision:
    """What to do with the latest message: only an uncertain one (nlu_fallback) in Italian or
    English can be clarified; everything else that reaches the offer stays an offer."""
    if latest_intent(tracker).get("name") != FALLBACK_INTENT or tracker.get_slot("foreign_language"):
        return Offer()
    ranking = tracker.latest_message.get("intent_ranking") or []
    return decide(ranking, load_topics(), thresholds())


def clarification_buttons(topics: Sequence[str], titles: Dict[str, str], language: str) -> List[Dict[str, str]]:
    buttons = [{"title": titles[topic], "payload": f"/{topic}"} for topic in topics]
    return buttons + [{"title": say("button_none_of_these", language), "payload": PERSON_PAYLOAD}]


async def ask_which_topic(dispatcher: CollectingDispatcher, tracker: Tracker, topics: Sequence[str]) -> bool:
    """Ask which of the topics is meant and record it. False (nothing said) when the titles
    cannot be read: a clarification without its buttons' words would be no use."""
    language = language_of(tracker)
    intent = latest_intent(tracker)

    def read_titles_and_record(session) -> Dict[str, str]:
        titles = knowledge.titles_for(session, topics, language)
        offered = [topic for topic in topics if titles.get(topic)]
        if offered:
            clarifications.record_offer(
                session, tracker.sender_id, latest_text(tracker), language, offered,
                channel=channel_of(tracker), intent=intent.get("name"), confidence=intent.get("confidence"),
            )
        return titles

    try:
        titles = await in_session(read_titles_and_record)
    except DatabaseUnavailable:
        log.warning("no clarification for %s: database unavailable", tracker.sender_id)
        return False
    offered = [topic for topic in topics if titles.get(topic)]
    if not offered:
        return False
    dispatcher.utter_message(
        text=say("clarify" if len(offered) > 1 else "clarify_one", language),
        buttons=clarification_buttons(offered, titles, language),
        json_message={"clarify": offered},
    )
    return True


def offered_by_last_reply(events: Sequence[Dict[str, Any]]) -> Optional[List[str]]:
    """The topics of a clarification when the assistant's last message before the latest
    user message was one; None otherwise."""
    seen_user = False
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                return None
            seen_user = True
        elif kind == "bot" and seen_user:
            custom = (event.get("data") or {}).get("custom") or {}
            offered = custom.get("clarify") if isinstance(custom, dict) else None
            return [str(topic) for topic in offered] if isinstance(offered, list) else None
    return None


async def record_choice_if_clarified(tracker: Tracker) -> None:
    """After a clarification, the user's next turn is its answer: an offered topic, a person,
    or something else. Best effort, like every analytics write."""
    offered = offered_by_last_reply(tracker.events)
    if not offered:
        return
    intent = latest_intent(tracker).get("name")
    try:
        await in_session(lambda session: clarifications.record_choice(session, tracker.sender_id, offered, intent))
    except DatabaseUnavailable:
        log.warning("clarification choice of %s not recorded: database unavailable", tracker.sender_id)
