"""Messages to users waiting to be delivered on their channel (Telegram, widget, e-mail).

Written in the same transaction as the desk action that produced them (an
operator's reply, a resolution notice); a delivery worker or the widget's update
endpoint takes them from here and records the outcome the operator sees."""
from enum import Enum

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text

from desk.models.base import Base, utcnow


class DeliveryStatus(str, Enum):
    QUEUED = "queued"
    # Taken by a deliverer that is sending it now (Telegram: recorded before the request goes out).
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # The request may have reached the channel but no answer came back (a read timeout, a deliverer
    # killed while sending): never sent again automatically, so never twice; the operator sees it.
    UNCONFIRMED = "unconfirmed"


class OutboundKind(str, Enum):
    REPLY = "reply"  # an operator's reply
    RESOLVED = "resolved"  # the ticket was resolved: the assistant takes over again
    LINK = "link"  # e-mail only: a fresh link to the ticket's follow-up page, asked for in chat
    UPDATE_NOTICE = "update_notice"  # a topic the user follows changed (no ticket)


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_messages_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_outbound_messages_channel_address", "channel", "address"),
    )

    id = Column(Integer, primary_key=True)
    # NULL for messages that belong to no ticket (update notices).
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=True, index=True)
    # The ticket event this message carries (a reply): the desk shows its delivery state.
    event_id = Column(Integer, ForeignKey("ticket_events.id", ondelete="SET NULL"), nullable=True, index=True)
    kind = Column(String(20), nullable=False, default=OutboundKind.REPLY.value)
    channel = Column(String(40), nullable=False)
    address = Column(String(200), nullable=False)  # the ticket's reply_address at queueing time
    language = Column(String(8), nullable=False, default="it")
    body = Column(Text, nullable=False)
    status = Column(String(20), nullable=False, default=DeliveryStatus.QUEUED.value)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, default=utcnow)
    last_error = Column(Text, nullable=True)
    # An e-mail that stands in for a widget message left unread (desk.services.email_routing):
    # the unique key makes two workers that notice it at once create one e-mail.
    fallback_of_id = Column(
        Integer, ForeignKey("outbound_messages.id", ondelete="CASCADE"), nullable=True, unique=True
    )
    created_at = Column(DateTime, nullable=False, default=utcnow)
    sent_at = Column(DateTime, nullable=True)

    @property
    def delivery_status(self) -> DeliveryStatus:
        return DeliveryStatus(self.status)
