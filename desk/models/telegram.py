"""What the Telegram gateway keeps: files users sent to their ticket, and updates
received by the desk's webhook waiting for the gateway to handle them."""
from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, Integer, LargeBinary, String

from desk.models.base import Base, utcnow


class TicketAttachment(Base):
    """A file a user sent while their ticket was open, for the operator to read."""

    __tablename__ = "ticket_attachments"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    # The ATTACHMENT event in the ticket's history that this file belongs to.
    event_id = Column(Integer, ForeignKey("ticket_events.id", ondelete="SET NULL"), nullable=True, index=True)
    filename = Column(String(255), nullable=False)
    content_type = Column(String(120), nullable=False)
    size = Column(Integer, nullable=False)
    data = Column(LargeBinary, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class TelegramUpdate(Base):
    """An update Telegram posted to the desk's webhook; the gateway process handles it
    and sets processed_at. update_id is unique: Telegram's re-deliveries are stored once."""

    __tablename__ = "telegram_updates"

    id = Column(Integer, primary_key=True)
    update_id = Column(BigInteger, nullable=False, unique=True)
    payload = Column(JSON, nullable=False)
    received_at = Column(DateTime, nullable=False, default=utcnow)
    processed_at = Column(DateTime, nullable=True, index=True)
    # A gateway handling the update holds it until claimed_until: several gateways can run side by
    # side without handling an update twice (telegram_updates.claim_pending).
    claimed_by = Column(String(120), nullable=True)
    claimed_until = Column(DateTime, nullable=True)
