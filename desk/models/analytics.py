"""What the assistant did with each user turn, and users' feedback on answers:
the raw material of containment reports and of the learning loop."""
from sqlalchemy import Boolean, Column, DateTime, Float, Index, Integer, String, Text

from desk.models.base import Base, utcnow


class AssistantTurn(Base):
    __tablename__ = "assistant_turns"
    __table_args__ = (Index("ix_assistant_turns_outcome_created", "outcome", "created_at"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    channel = Column(String(40), nullable=False, default="rest")
    language = Column(String(8), nullable=False, default="it")
    # answered | unanswered | escalated | kb_unavailable
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
