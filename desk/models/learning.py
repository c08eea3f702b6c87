"""The learning loop's memory: what operators decided about messages the assistant could
not answer, and the knowledge-base drafts they started from them."""
from enum import Enum

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, Text

from desk.models.base import Base, utcnow


class LearningDecisionKind(str, Enum):
    LABELLED = "labelled"  # added to the training data under a topic
    DRAFTED = "drafted"  # turned into a knowledge-base draft
    HANDLED = "handled"  # dealt with elsewhere (e.g. answered in a ticket)
    IGNORED = "ignored"  # not worth learning from (nonsense, greetings, tests)


class DraftStatus(str, Enum):
    DRAFT = "draft"
    DONE = "done"
    DISCARDED = "discarded"


class LearningDecision(Base):
    """One per distinct normalised message text: once decided, that text never comes back."""

    __tablename__ = "learning_decisions"

    id = Column(Integer, primary_key=True)
    text_key = Column(String(64), nullable=False, unique=True)  # sha256 of the normalised text
    sample_text = Column(Text, nullable=False)
    decision = Column(String(20), nullable=False)
    topic = Column(String(80), nullable=True)
    draft_id = Column(Integer, ForeignKey("knowledge_drafts.id", ondelete="SET NULL"), nullable=True)
    decided_by = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class KnowledgeDraft(Base):
    """A knowledge-base entry to write, started from a group of unanswered questions."""

    __tablename__ = "knowledge_drafts"

    id = Column(Integer, primary_key=True)
    title = Column(String(300), nullable=False)
    language = Column(String(8), nullable=False, default="it")
    question_examples = Column(JSON, nullable=False, default=list)  # [text, ...]
    note = Column(Text, nullable=False, default="")
    status = Column(String(20), nullable=False, default=DraftStatus.DRAFT.value)
    created_by = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow)
