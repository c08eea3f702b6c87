"""Answer a topic from its knowledge-base entry, read from the database at answer time."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import language_of, topic_asked
from actions.replies import offer_human, record_turn, record_turn_in, why_unanswered
from actions.runtime import in_session
from actions.texts import say
from desk.answer_format import compose_answer, format_date  # noqa: F401 (format_date: re-exported)
from desk.db import DatabaseUnavailable
from desk.services import directory, knowledge
from desk.services.checks import CHECK_OF_TOPIC
from desk.services.checks import texts as check_texts
from desk.services.directory import ServicePointCard
from desk.services.knowledge import KnowledgeAnswer, UnknownTopic

log = logging.getLogger(__name__)

def answer_buttons(language: str, topic: str = "", offer_check: bool = True) -> List[Dict[str, str]]:
    from actions.update_notices import subscribe_button

    buttons = [
        {"title": say("button_helpful", language), "payload": "/feedback_helpful"},
        {"title": say("button_not_helpful", language), "payload": "/feedback_not_helpful"},
        {"title": say("button_human", language), "payload": "/request_human"},
        subscribe_button(language),
    ]
    check = CHECK_OF_TOPIC.get(topic) if offer_check else None
    if check:  # the topic's guided check: "Calcola il tuo caso"
        buttons.append({"title": check_texts.pick(check_texts.BUTTONS, "start", language), "payload": f"/check_{check}"})
    return buttons


class ActionAnswerTopic(Action):
    def name(self) -> Text:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        topic = topic_asked(tracker)
        if tracker.get_slot("foreign_language") or topic is None:
            offer_human(dispatcher, language, why_unanswered(tracker))
            await record_turn(tracker, "unanswered")
            return []
        return await answer_topic(dispatcher, tracker, topic, language)


async def answer_topic(
    dispatcher: CollectingDispatcher, tracker: Tracker, topic: str, language: str, offer_check: bool = True
) -> List[Dict[Text, Any]]:
    """Answer the topic from its knowledge-base entry, with its source, date and buttons (the
    button of the topic's guided check unless `offer_check` is False: the check is starting)."""
    try:
        answer, service_points = await in_session(
            lambda session: _read_and_record(session, tracker, topic, language)
        )
    except (DatabaseUnavailable, UnknownTopic) as exc:
        log.error("knowledge base unavailable for %s: %s", topic, exc)
        offer_human(dispatcher, language, "knowledge_unavailable")
        return []
    dispatcher.utter_message(
        text=compose_answer(answer, service_points),
        buttons=answer_buttons(language, answer.topic, offer_check),
        json_message={
            "topic": answer.topic,
            "source": answer.source,
            "source_url": answer.source_url,
            "verified_on": answer.verified_on.isoformat(),
            "title": answer.title,
            "unconfirmed": answer.unconfirmed,
            "updating": list(answer.updating),
            "language": language,
        },
    )
    return [SlotSet("last_topic", topic)]


def _read_and_record(
    session, tracker: Tracker, topic: str, language: str
) -> Tuple[KnowledgeAnswer, List[ServicePointCard]]:
    answer = knowledge.answer_for(session, topic, language)
    service_points = directory.points_for_topic(session, topic)
    record_turn_in(session, tracker, "answered", topic)
    return answer, service_points
