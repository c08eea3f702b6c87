"""Knowledge base: one entry per topic of topics.yml, every change kept as a version."""
from sqlalchemy import JSON, Boolean, Column, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from desk.models.base import Base, utcnow


class KnowledgeEntry(Base):
    __tablename__ = "knowledge_entries"

    id = Column(Integer, primary_key=True)
    topic = Column(String(80), nullable=False, unique=True)
    area = Column(String(80), nullable=False)
    title_it = Column(String(300), nullable=False)
    title_en = Column(String(300), nullable=False)
    answer_it = Column(Text, nullable=False)
    answer_en = Column(Text, nullable=False)
    source = Column(Text, nullable=False)
    source_url = Column(String(500), nullable=False, default="")
    verified_on = Column(Date, nullable=False)
    confidence = Column(String(10), nullable=False, default="high")
    confidence_note = Column(Text, nullable=False, default="")
    unconfirmed = Column(Boolean, nullable=False, default=False)
    unconfirmed_points = Column(JSON, nullable=False, default=list)
    version = Column(Integer, nullable=False, default=1)
    # True once anyone but the seed changed the entry: seeding never overwrites it again.
    edited_in_desk = Column(Boolean, nullable=False, default=False)
    updated_at = Column(DateTime, nullable=False, default=utcnow)
    updated_by = Column(String(120), nullable=False, default="seed")
    # Where each figure comes from: [{"url", "states", "how", "checked_on"}], see
    # desk.services.knowledge_sources. "how" says whether the page was read or only found.
    sources = Column(JSON, nullable=False, default=list)
    # Who last re-checked the source ("Verificato" in the desk); "seed" for the seed files.
    verified_by = Column(String(120), nullable=False, default="seed")

    versions = relationship(
        "KnowledgeVersion", back_populates="entry", order_by="KnowledgeVersion.version"
    )
    facts = relationship(
        "KnowledgeFact", back_populates="entry", order_by="KnowledgeFact.position", lazy="selectin",
        cascade="all, delete-orphan",
    )

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_it

    def answer(self, language: str) -> str:
        return self.answer_en if language == "en" else self.answer_it


class KnowledgeVersion(Base):
    __tablename__ = "knowledge_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version", name="uq_knowledge_versions_entry_version"),)

    id = Column(Integer, primary_key=True)
    entry_id = Column(Integer, ForeignKey("knowledge_entries.id", ondelete="CASCADE"), nullable=False)
    version = Column(Integer, nullable=False)
    content = Column(JSON, nullable=False)  # a snapshot of every editable field
    author = Column(String(120), nullable=False)
    note = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False, default=utcnow)
    # A supervisor published this version saying the rules themselves changed: subscribers
    # of the topic get an update notice.
    rules_changed = Column(Boolean, nullable=False, default=False)

    entry = relationship("KnowledgeEntry", back_populates="versions")


class KnowledgeFact(Base):
    """A time-bound statement of an entry (a deadline, a yearly amount, a call), named in
    the answer text by its marker [[key]]; see desk.services.dated_facts."""

    __tablename__ = "knowledge_facts"
    __table_args__ = (UniqueConstraint("entry_id", "key", name="uq_knowledge_facts_entry_key"),)

    id = Column(Integer, primary_key=True)
    entry_id = Column(Integer, ForeignKey("knowledge_entries.id", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False, default=0)
    key = Column(String(80), nullable=False)
    label_it = Column(String(300), nullable=False)
    label_en = Column(String(300), nullable=False)
    text_it = Column(Text, nullable=False)
    text_en = Column(Text, nullable=False)
    valid_from = Column(Date, nullable=True)
    valid_until = Column(Date, nullable=True)  # last day it holds; NULL: until changed
    budget_law = Column(Boolean, nullable=False, default=False)
    source_url = Column(String(500), nullable=False, default="")
    source_note = Column(Text, nullable=False, default="")

    entry = relationship("KnowledgeEntry", back_populates="facts")
