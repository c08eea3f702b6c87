"""What the assistant did with each user turn, and users' feedback on answers:
the raw material of containment reports and of the learning loop."""
from enum import Enum

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from desk.models.base import Base, utcnow


class AssistantTurn(Base):
    __tablename__ = "assistant_turns"
    __table_args__ = (Index("ix_assistant_turns_outcome_created", "outcome", "created_at"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    channel = Column(String(40), nullable=False, default="rest")
    language = Column(String(8), nullable=False, default="it")
    # answered | unanswered | clarified | escalated | kb_unavailable
    outcome = Column(String(20), nullable=False)
    topic = Column(String(80), nullable=True)
    intent = Column(String(80), nullable=True)
    confidence = Column(Float, nullable=True)
    text = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    # Set when the retention purge replaced conversation_id with a pseudonym.
    pseudonymised_at = Column(DateTime, nullable=True)


class AnswerFeedback(Base):
    __tablename__ = "answer_feedback"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False)
    topic = Column(String(80), nullable=False, index=True)
    helpful = Column(Boolean, nullable=False)
    channel = Column(String(40), nullable=False, default="rest")
    language = Column(String(8), nullable=False, default="it")
    created_at = Column(DateTime, nullable=False, default=utcnow)
    pseudonymised_at = Column(DateTime, nullable=True)
    # The client's idempotency key for the message that carried the rating, hashed with the
    # conversation (desk.services.analytics.feedback_key): a rating sent again is recorded once.
    message_key = Column(String(64), nullable=True, unique=True)


class ClarificationChoice(str, Enum):
    TOPIC = "topic"  # pressed (or typed) one of the offered topics
    PERSON = "person"  # "none of these: talk to a person"
    OTHER = "other"  # wrote something else instead


class ClarificationReview(str, Enum):
    CONFIRMED = "confirmed"  # the message and the chosen topic went to the training data
    REJECTED = "rejected"  # the choice does not teach the topic


class Clarification(Base):
    """The assistant asked which of a few topics the user meant, and what the user chose.

    The original message is the clarified turn (outcome "clarified"); the choice comes with
    the user's next turn. A chosen topic waits for an operator's review in the learning loop."""

    __tablename__ = "clarifications"
    __table_args__ = (Index("ix_clarifications_conversation_created", "conversation_id", "created_at"),)

    id = Column(Integer, primary_key=True)
    turn_id = Column(Integer, ForeignKey("assistant_turns.id", ondelete="CASCADE"), nullable=False, unique=True)
    conversation_id = Column(String(200), nullable=False)
    channel = Column(String(40), nullable=False, default="rest")
    language = Column(String(8), nullable=False, default="it")
    offered = Column(JSON, nullable=False, default=list)  # topic ids, most likely first
    choice = Column(String(20), nullable=True)  # ClarificationChoice; NULL while unanswered
    chosen_topic = Column(String(80), nullable=True)
    chosen_at = Column(DateTime, nullable=True)
    review = Column(String(20), nullable=True)  # ClarificationReview; NULL while waiting
    reviewed_by = Column(String(200), nullable=True)
    reviewed_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)

    turn = relationship(AssistantTurn, lazy="joined")
