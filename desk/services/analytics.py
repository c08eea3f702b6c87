"""Record what the assistant did with each turn and the users' feedback."""
from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from desk.models import AnswerFeedback, AssistantTurn
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
) -> None:
    session.add(
        AssistantTurn(
            conversation_id=conversation_id, outcome=outcome, text=user_text(text)[:MAX_STORED_TEXT],
            language=language, channel=channel, topic=topic, intent=intent, confidence=confidence,
        )
    )


def record_feedback(
    session: Session, conversation_id: str, topic: str, helpful: bool, language: str, channel: str = "rest"
) -> None:
    session.add(
        AnswerFeedback(
            conversation_id=conversation_id, topic=topic, helpful=helpful, language=language, channel=channel
        )
    )
