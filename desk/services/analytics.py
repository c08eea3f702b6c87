"""Record what the assistant did with each turn and the users' feedback."""
from __future__ import annotations

import hashlib
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
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


def feedback_key(conversation_id: str, message_key: Optional[str]) -> Optional[str]:
    """What is stored of a client's idempotency key: a hash with the conversation, so that two
    clients' keys never collide and nothing of the conversation id is kept beside the rating."""
    if not message_key:
        return None
    return hashlib.sha256(f"{conversation_id}\x00{message_key}".encode("utf-8")).hexdigest()


def record_feedback(
    session: Session, conversation_id: str, topic: str, helpful: bool, language: str, channel: str = "rest",
    message_key: Optional[str] = None,
) -> bool:
    """Record a rating; False when the message with this idempotency key was already recorded
    (a client that sent it again, an action run again after an assistant died)."""
    key = feedback_key(conversation_id, message_key)
    if key is not None and session.scalar(select(AnswerFeedback.id).where(AnswerFeedback.message_key == key)):
        return False
    try:
        with session.begin_nested():
            session.add(AnswerFeedback(conversation_id=conversation_id, topic=topic, helpful=helpful,
                                       language=language, channel=channel, message_key=key))
    except IntegrityError:  # the same key recorded at the same moment by another action server
        return False
    return True


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
