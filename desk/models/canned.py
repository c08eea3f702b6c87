"""Canned replies: texts supervisors prepare once and operators insert in their replies."""
from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Text

from desk.models.base import Base, utcnow


class CannedReply(Base):
    __tablename__ = "canned_replies"
    __table_args__ = (Index("ix_canned_replies_active_language", "active", "language"),)

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    body = Column(Text, nullable=False)
    language = Column(String(8), nullable=False, default="it")
    active = Column(Boolean, nullable=False, default=True)
    created_by = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_by = Column(String(200), nullable=False)
    updated_at = Column(DateTime, nullable=False, default=utcnow)
