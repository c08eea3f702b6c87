"""The outbox: messages to users queued with the desk action that produced them,
then delivered by their channel with retries.

Neither Telegram nor an SMTP server can be asked afterwards whether a message arrived, and
neither takes an idempotency key, so their deliverers record each attempt before sending
(claim_for_sending: "sending"), and an attempt whose outcome they never learnt (a timeout or a
lost connection after the message went out, a deliverer killed while sending) becomes
"unconfirmed", never sent again automatically: no reply twice, and the operator sees the rare
one that may not have arrived. The widget fetches its messages and shows each id once.

E-mail is a channel like the others (bot/email delivers it): when the ticket's contact is an
e-mail address, a message also gets an e-mail copy, at once or after the widget left it unread
(the rules are in desk.services.email_routing)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Dict, List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from desk.db import lock_for_writing
from desk.models import DeliveryStatus, OutboundKind, OutboundMessage, Ticket, TicketEvent
from desk.models.base import utcnow
from desk.services.email_routing import (EMAIL_CHANNEL, WIDGET_CHANNEL, email_at_once, has_email, may_send_link,
                                         unread_since)

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
    message = _queue_for_ticket(session, ticket, ticket.channel, ticket.reply_address, body, kind, event, now)
    if email_at_once(ticket.channel, ticket.contact_kind):
        enqueue_email(session, ticket, body, kind, event=event, now=now)
    return message


def enqueue_email(
    session: Session,
    ticket: Ticket,
    body: str,
    kind: OutboundKind = OutboundKind.REPLY,
    event: Optional[TicketEvent] = None,
    now: Optional[datetime] = None,
    fallback_of: Optional[OutboundMessage] = None,
) -> OutboundMessage:
    """An e-mail to the ticket's contact address."""
    return _queue_for_ticket(session, ticket, EMAIL_CHANNEL, ticket.contact, body, kind, event, now or utcnow(),
                             fallback_of=fallback_of)


def _queue_for_ticket(
    session: Session, ticket: Ticket, channel: str, address: str, body: str, kind: OutboundKind,
    event: Optional[TicketEvent], now: datetime, fallback_of: Optional[OutboundMessage] = None,
) -> OutboundMessage:
    message = OutboundMessage(
        ticket_id=ticket.id, event_id=event.id if event is not None else None, kind=kind.value,
        channel=channel, address=address, language=ticket.language, body=body,
        status=DeliveryStatus.QUEUED.value, attempts=0, next_attempt_at=now, created_at=now,
        fallback_of_id=fallback_of.id if fallback_of is not None else None,
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


def email_unread_widget_messages(session: Session, after_minutes: int, now: Optional[datetime] = None) -> int:
    """E-mail copies of widget messages still unread after `after_minutes`, for tickets with an
    e-mail contact: the user left the page. Each widget message gets at most one copy, also when
    several workers look at the same moment (a unique key). Returns how many were queued."""
    now = now or utcnow()
    lock_for_writing(session)
    copy = aliased(OutboundMessage)
    rows = session.execute(
        select(OutboundMessage, Ticket)
        .join(Ticket, Ticket.id == OutboundMessage.ticket_id)
        .outerjoin(copy, copy.fallback_of_id == OutboundMessage.id)
        .where(
            OutboundMessage.channel == WIDGET_CHANNEL,
            OutboundMessage.status == DeliveryStatus.QUEUED.value,
            OutboundMessage.created_at <= unread_since(now, after_minutes),
            Ticket.contact_kind == "email",
            copy.id.is_(None),
        )
        .order_by(OutboundMessage.id)
        .limit(200)
    ).all()
    queued = 0
    session.flush()
    for unread, ticket in rows:
        try:
            with session.begin_nested():
                event = session.get(TicketEvent, unread.event_id) if unread.event_id else None
                enqueue_email(session, ticket, unread.body, OutboundKind(unread.kind), event=event, now=now,
                              fallback_of=unread)
            queued += 1
        except IntegrityError:
            continue  # another worker queued this copy first
    return queued


def send_follow_up_link(session: Session, ticket: Ticket, now: Optional[datetime] = None) -> bool:
    """Queue an e-mail with a fresh link to the ticket's follow-up page, when the ticket has an
    e-mail contact and no link was queued in the last few minutes. Whether it did is for the
    desk only: the user is never told whether the ticket has an address."""
    now = now or utcnow()
    if not has_email(ticket.contact_kind):
        return False
    last = session.scalars(
        select(OutboundMessage.created_at)
        .where(OutboundMessage.ticket_id == ticket.id, OutboundMessage.kind == OutboundKind.LINK.value)
        .order_by(OutboundMessage.created_at.desc())
    ).first()
    if not may_send_link(last, now):
        return False
    enqueue_email(session, ticket, "", OutboundKind.LINK, now=now)
    return True


def emails_of_ticket(session: Session, ticket_id: int) -> List[OutboundMessage]:
    """Every e-mail to the ticket's user, oldest first, with its delivery state (for the ticket page)."""
    return list(session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.ticket_id == ticket_id, OutboundMessage.channel == EMAIL_CHANNEL)
        .order_by(OutboundMessage.id)
    ))


def first_email_id(session: Session, ticket_id: int) -> Optional[int]:
    """The ticket's first e-mail: the others are threaded under it."""
    return session.scalars(
        select(OutboundMessage.id)
        .where(OutboundMessage.ticket_id == ticket_id, OutboundMessage.channel == EMAIL_CHANNEL)
        .order_by(OutboundMessage.id)
    ).first()


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


def claim_for_sending(
    session: Session, channel: str, lease_seconds: int = 60, now: Optional[datetime] = None
) -> Optional[OutboundMessage]:
    """The oldest due message of a channel, recorded as being sent ("sending") before the request
    goes out, in a transaction of its own: no other deliverer takes it, and if this one dies before
    recording the outcome the message is not sent again (reconcile_interrupted). `lease_seconds` is
    how long a send may take at most."""
    now = now or utcnow()
    [message] = claim_due(session, channel, limit=1, lease_seconds=lease_seconds, now=now) or [None]
    if message is not None:
        message.status = DeliveryStatus.SENDING.value
        session.flush()
    return message


def reconcile_interrupted(session: Session, channel: str, now: Optional[datetime] = None) -> List[int]:
    """Messages left "sending" past their lease by a deliverer that died or hung: the channel may
    have delivered them, so they become "unconfirmed" instead of being sent again. Their ids."""
    now = now or utcnow()
    lock_for_writing(session)
    stuck = list(session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.channel == channel, OutboundMessage.status == DeliveryStatus.SENDING.value,
            OutboundMessage.next_attempt_at <= now,
        ).with_for_update(skip_locked=True)
    ))
    for message in stuck:
        mark_unconfirmed(session, message, "the deliverer stopped while sending: delivery not confirmed")
    return [message.id for message in stuck]


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
        message.status = DeliveryStatus.QUEUED.value  # also after "sending"
        delay = retry_after if retry_after is not None else BACKOFF_SECONDS[min(message.attempts, len(BACKOFF_SECONDS)) - 1]
        message.next_attempt_at = now + timedelta(seconds=delay)
    session.flush()


def mark_failed(session: Session, message: OutboundMessage, error: str) -> None:
    """A permanent failure (the user blocked the bot, the chat no longer exists)."""
    message.attempts += 1
    message.status = DeliveryStatus.FAILED.value
    message.last_error = error[:2000]
    session.flush()


def mark_unconfirmed(session: Session, message: OutboundMessage, error: str) -> None:
    """The request may have reached the channel, but its answer never came back: not sent again."""
    message.attempts += 1
    message.status = DeliveryStatus.UNCONFIRMED.value
    message.last_error = error[:2000]
    session.flush()


def record_outcome(session: Session, message_id: int, status: str, error: Optional[str] = None,
                   retry_after: Optional[float] = None) -> None:
    """What a channel's deliverer learnt from one send: "sent", "failed" (permanent),
    "unconfirmed" (no answer to a request that may have arrived) or a retry."""
    message = session.get(OutboundMessage, message_id)
    if message is None:
        return
    if status == "sent":
        mark_sent(session, message)
    elif status == "failed":
        mark_failed(session, message, error or "failed")
    elif status == "unconfirmed":
        mark_unconfirmed(session, message, error or "unconfirmed")
    else:
        mark_retry(session, message, error or "retry", retry_after=retry_after)


def delivery_of_events(session: Session, event_ids: Sequence[int]) -> dict:
    """The delivery state of each reply event on the user's chat, for the ticket page:
    {event_id: OutboundMessage}. Its e-mail copies are in emails_of_events."""
    return {event_id: rows[0] for event_id, rows in _messages_of_events(session, event_ids, email=False).items()}


def emails_of_events(session: Session, event_ids: Sequence[int]) -> Dict[int, List[OutboundMessage]]:
    """The e-mail copies of each reply event: {event_id: [OutboundMessage, ...]}."""
    return _messages_of_events(session, event_ids, email=True)


def _messages_of_events(session: Session, event_ids: Sequence[int], email: bool) -> Dict[int, List[OutboundMessage]]:
    if not event_ids:
        return {}
    channel = OutboundMessage.channel == EMAIL_CHANNEL if email else OutboundMessage.channel != EMAIL_CHANNEL
    rows = session.scalars(
        select(OutboundMessage).where(OutboundMessage.event_id.in_(list(event_ids)), channel).order_by(OutboundMessage.id)
    )
    found: Dict[int, List[OutboundMessage]] = {}
    for row in rows:
        found.setdefault(row.event_id, []).append(row)
    return found
