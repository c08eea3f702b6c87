"""Requests for an operator: the ticket, what the conversation collected, and its audit trail."""
from enum import Enum

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import relationship

from desk.models.base import Base, utcnow

ROLES = ("worker", "owner", "consultant", "other")
CONTACT_KINDS = ("email", "phone", "channel")
LANGUAGES = ("it", "en")


class TicketStatus(str, Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_ON_USER = "waiting_on_user"
    RESOLVED = "resolved"
    CLOSED = "closed"


# The statuses of a ticket still waiting for the desk, as SQL for partial indexes.
ACTIVE_STATUS_SQL = "status IN ('open', 'in_progress', 'waiting_on_user')"


class TicketEventKind(str, Enum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    REPLY = "reply"
    NOTE = "note"
    FOLLOW_UP = "follow_up"
    ATTACHMENT = "attachment"
    CONTACT_CHANGED = "contact_changed"  # an operator changed how the user is answered (chat or e-mail)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_sla_due_at", "status", "sla_due_at"),
        # The queue's default view (active tickets by SLA) reads this partial index in order.
        Index(
            "ix_tickets_active_sla_due_at", "sla_due_at", "id",
            postgresql_where=text(ACTIVE_STATUS_SQL), sqlite_where=text(ACTIVE_STATUS_SQL),
        ),
        Index("ix_tickets_sla_due_at", "sla_due_at", "id"),
        Index("ix_tickets_created_at", "created_at"),
        # On PostgreSQL, migration 0004 also adds a generated search_vector column with GIN indexes
        # for the queue's full-text search (desk.services.queue.search_document); SQLite has neither.
    )

    id = Column(Integer, primary_key=True)
    ref = Column(String(16), nullable=False, unique=True)  # the reference shown to the user
    status = Column(String(20), nullable=False, default=TicketStatus.OPEN.value)
    channel = Column(String(40), nullable=False, index=True)
    # How to reach the user on that channel: Telegram chat id, widget session id, REST sender id.
    reply_address = Column(String(200), nullable=False)
    conversation_id = Column(String(200), nullable=False, index=True)  # the Rasa sender id
    language = Column(String(8), nullable=False, default="it")

    role = Column(String(20), nullable=False)
    name = Column(String(200), nullable=False)
    contact = Column(String(200), nullable=False)
    contact_kind = Column(String(20), nullable=False)
    company_name = Column(String(200), nullable=False, default="")
    company_size = Column(String(40), nullable=True)
    company_artisan = Column(Boolean, nullable=True)
    question = Column(Text, nullable=False)
    consent_at = Column(DateTime, nullable=False)
    # The version of the privacy notice (/privacy) the user accepted; NULL for tickets from before it was recorded.
    consent_version = Column(String(40), nullable=True)
    transcript = Column(JSON, nullable=False, default=list)  # [{"who": "user"|"bot", "text", "at"}]
    suggested_topics = Column(JSON, nullable=False, default=list)  # [{"topic", "confidence"}]

    sla_due_at = Column(DateTime, nullable=False)
    assignee = Column(String(200), nullable=True, index=True)  # an operator's login for now
    # The idempotency key of the conversation's intake: a retried submission finds its ticket.
    intake_key = Column(String(200), nullable=True, unique=True)

    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow)
    first_response_at = Column(DateTime, nullable=True)
    resolved_at = Column(DateTime, nullable=True)
    closed_at = Column(DateTime, nullable=True)
    # Set when the retention purge removed the personal data (desk.services.privacy.purge).
    anonymised_at = Column(DateTime, nullable=True)

    events = relationship(
        "TicketEvent",
        back_populates="ticket",
        order_by="[TicketEvent.created_at, TicketEvent.id]",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def current_status(self) -> TicketStatus:
        return TicketStatus(self.status)


class TicketEvent(Base):
    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_created", "ticket_id", "created_at"),)

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False)
    kind = Column(String(20), nullable=False)
    actor = Column(String(200), nullable=False)  # "user", "assistant", "system" or an operator id
    before = Column(String(200), nullable=True)
    after = Column(String(200), nullable=True)
    body = Column(Text, nullable=True)
    public = Column(Boolean, nullable=False, default=False)  # whether the user sees it
    created_at = Column(DateTime, nullable=False, default=utcnow)

    ticket = relationship("Ticket", back_populates="events")
