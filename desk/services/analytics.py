"""Record what the assistant did with each turn and the users' feedback."""
from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from desk.models import AnswerFeedback, AssistantTurn, CheckEvent
from desk.text import user_text

MAX_STORED_TEXT = 2000


def record_turn(
    session: Session,
    conversation_id: str,
    outcome: str,
    text: str,
    language: str,
    channel: str = "rest",
    topic: Optional[str] = None,
    intent: Optional[str] = None,
    confidence: Optional[float] = None,
) -> AssistantTurn:
    turn = AssistantTurn(
        conversation_id=conversation_id, outcome=outcome, text=user_text(text)[:MAX_STORED_TEXT],
        language=language, channel=channel, topic=topic, intent=intent, confidence=confidence,
    )
    session.add(turn)
    return turn


def record_feedback(
    session: Session, conversation_id: str, topic: str, helpful: bool, language: str, channel: str = "rest"
) -> None:
    session.add(
        AnswerFeedback(
            conversation_id=conversation_id, topic=topic, helpful=helpful, language=language, channel=channel
        )
    )


CHECK_EVENTS = ("started", "completed", "outdated", "cancelled")


def record_check_event(
    session: Session, conversation_id: str, check: str, event: str, language: str, channel: str = "rest"
) -> None:
    """A guided check started, completed, could not compute (outdated rule) or was stopped.
    Only the event: never the user's answers."""
    if event not in CHECK_EVENTS:
        raise ValueError(f"unknown check event {event}")
    session.add(CheckEvent(conversation_id=conversation_id, check_id=check, event=event, language=language,
                           channel=channel))
