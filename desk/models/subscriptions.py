"""Update notices: a user asked to be told when a topic's rules change.

Personal data (a chat address, maybe an e-mail): kept in their own tables keyed by
channel + address, so that the privacy features can find and erase everything about
one user with one query on each table."""
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint

from desk.models.base import Base, utcnow


class UpdateSubscription(Base):
    __tablename__ = "update_subscriptions"
    __table_args__ = (
        UniqueConstraint("channel", "address", "topic", name="uq_update_subscriptions_channel_address_topic"),
        Index("ix_update_subscriptions_topic", "topic"),
    )

    id = Column(Integer, primary_key=True)
    channel = Column(String(40), nullable=False)  # telegram | widget | rest
    address = Column(String(200), nullable=False)  # the conversation the notice goes back to
    topic = Column(String(80), nullable=False)
    language = Column(String(8), nullable=False, default="it")
    # Widget users may prefer an e-mail: given with explicit consent (consented_at).
    email = Column(String(200), nullable=True)
    consented_at = Column(DateTime, nullable=False, default=utcnow)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    cancelled_at = Column(DateTime, nullable=True)


class UpdateNotice(Base):
    """One notice queued for one subscriber (the text itself is in the outbox)."""

    __tablename__ = "update_notices"
    __table_args__ = (Index("ix_update_notices_channel_address", "channel", "address"),)

    id = Column(Integer, primary_key=True)
    subscription_id = Column(Integer, ForeignKey("update_subscriptions.id", ondelete="CASCADE"), nullable=False,
                             index=True)
    topic = Column(String(80), nullable=False, index=True)
    knowledge_version = Column(Integer, nullable=False)
    channel = Column(String(40), nullable=False)
    address = Column(String(200), nullable=False)
    outbound_message_id = Column(Integer, ForeignKey("outbound_messages.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    # When it may be delivered: at most one notice a day per user.
    deliver_after = Column(DateTime, nullable=False, default=utcnow)
