"""The outbox: messages to users queued with the desk action that produced them,
then delivered by their channel with retries.

Delivery is at least once: a message is marked sent only after the channel
accepted it, so a crash in between sends it again; channels de-duplicate by the
message id where the user could see it twice (the widget does)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.db import lock_for_writing
from desk.models import DeliveryStatus, OutboundKind, OutboundMessage, Ticket, TicketEvent
from desk.models.base import utcnow

MAX_ATTEMPTS = 8
# Backoff after the n-th failed attempt, in seconds (the last value repeats).
BACKOFF_SECONDS = (5, 15, 60, 180, 600, 1800, 3600)


def enqueue(
    session: Session,
    ticket: Ticket,
    body: str,
    kind: OutboundKind = OutboundKind.REPLY,
    event: Optional[TicketEvent] = None,
    now: Optional[datetime] = None,
) -> OutboundMessage:
    now = now or utcnow()
    message = OutboundMessage(
        ticket_id=ticket.id, event_id=event.id if event is not None else None, kind=kind.value,
        channel=ticket.channel, address=ticket.reply_address, language=ticket.language, body=body,
        status=DeliveryStatus.QUEUED.value, attempts=0, next_attempt_at=now, created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def enqueue_notice(
    session: Session, channel: str, address: str, language: str, body: str, deliver_at: datetime,
    kind: OutboundKind = OutboundKind.UPDATE_NOTICE, now: Optional[datetime] = None,
) -> OutboundMessage:
    """A message that belongs to no ticket (an update notice), delivered from deliver_at on."""
    message = OutboundMessage(
        ticket_id=None, event_id=None, kind=kind.value, channel=channel, address=address, language=language,
        body=body, status=DeliveryStatus.QUEUED.value, attempts=0, next_attempt_at=deliver_at,
        created_at=now or utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def due(session: Session, channel: str, limit: int = 50, now: Optional[datetime] = None) -> List[OutboundMessage]:
    """Queued messages of a channel whose next attempt is due, oldest first."""
    return list(session.scalars(_due_query(channel, limit, now or utcnow())))


def _due_query(channel: str, limit: int, now: datetime):
    return (
        select(OutboundMessage)
        .where(
            OutboundMessage.channel == channel,
            OutboundMessage.status == DeliveryStatus.QUEUED.value,
            OutboundMessage.next_attempt_at <= now,
        )
        .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
        .limit(limit)
    )


def claim_due(
    session: Session, channel: str, limit: int = 50, lease_seconds: int = 60, now: Optional[datetime] = None
) -> List[OutboundMessage]:
    """Due messages of a channel taken by one deliverer: each is hidden from the others for
    `lease_seconds` (its next attempt moves forward), so that two gateway processes never send
    the same message at the same time. A deliverer that dies before recording the outcome
    leaves the message due again when the lease ends: delivery stays at least once."""
    now = now or utcnow()
    lock_for_writing(session)
    messages = list(session.scalars(_due_query(channel, limit, now).with_for_update(skip_locked=True)))
    for message in messages:
        message.next_attempt_at = now + timedelta(seconds=lease_seconds)
    session.flush()
    return messages


def for_address(
    session: Session, channel: str, address: str, after_id: int = 0, now: Optional[datetime] = None,
) -> List[OutboundMessage]:
    """Messages for one user (e.g. a widget session) newer than after_id and due, whatever their
    state: the widget fetches them and shows each id once. (An update notice may be held back
    until its delivery time: at most one a day per user.)"""
    return list(
        session.scalars(
            select(OutboundMessage)
            .where(
                OutboundMessage.channel == channel,
                OutboundMessage.address == address,
                OutboundMessage.id > after_id,
                OutboundMessage.status != DeliveryStatus.FAILED.value,
                OutboundMessage.next_attempt_at <= (now or utcnow()),
            )
            .order_by(OutboundMessage.id)
        )
    )


def mark_sent(session: Session, message: OutboundMessage, now: Optional[datetime] = None) -> None:
    if message.delivery_status is DeliveryStatus.SENT:
        return
    message.status = DeliveryStatus.SENT.value
    message.attempts += 1
    message.sent_at = now or utcnow()
    message.last_error = None
    session.flush()


def mark_retry(
    session: Session, message: OutboundMessage, error: str,
    retry_after: Optional[float] = None, now: Optional[datetime] = None,
) -> None:
    """A failed attempt: try again later (after the channel's retry_after when it gave one),
    or give up after MAX_ATTEMPTS."""
    now = now or utcnow()
    message.attempts += 1
    message.last_error = error[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = DeliveryStatus.FAILED.value
    else:
        delay = retry_after if retry_after is not None else BACKOFF_SECONDS[min(message.attempts, len(BACKOFF_SECONDS)) - 1]
        message.next_attempt_at = now + timedelta(seconds=delay)
    session.flush()


def mark_failed(session: Session, message: OutboundMessage, error: str) -> None:
    """A permanent failure (the user blocked the bot, the chat no longer exists)."""
    message.attempts += 1
    message.status = DeliveryStatus.FAILED.value
    message.last_error = error[:2000]
    session.flush()


def delivery_of_events(session: Session, event_ids: Sequence[int]) -> dict:
    """The delivery state of each reply event, for the ticket page: {event_id: OutboundMessage}."""
    if not event_ids:
        return {}
    rows = session.scalars(select(OutboundMessage).where(OutboundMessage.event_id.in_(list(event_ids))))
    return {row.event_id: row for row in rows}
