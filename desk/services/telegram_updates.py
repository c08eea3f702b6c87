"""Updates that Telegram posts to the desk's webhook, kept until the gateway handles them.

The desk's web process only stores what Telegram sent (fast, and nothing is lost if the
gateway is restarting); the gateway process takes them in order and marks them handled
after its handlers ran: at least once, and Telegram's re-deliveries of the same update_id
are stored once. Several gateways can run side by side: each claims the updates it handles
for a lease (claim_pending), and the updates of one chat go to one gateway at a time, in order."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Set, Tuple

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk.models import TelegramUpdate
from desk.models.base import utcnow


def receive(session: Session, payload: Dict[str, Any], now: Optional[datetime] = None) -> bool:
    """Store one update; False when its update_id was already stored."""
    update_id = int(payload["update_id"])
    if session.scalars(select(TelegramUpdate.id).where(TelegramUpdate.update_id == update_id)).first() is not None:
        return False
    try:
        with session.begin_nested():
            session.add(TelegramUpdate(update_id=update_id, payload=payload, received_at=now or utcnow()))
            session.flush()
    except IntegrityError:
        return False  # the same update arrived twice at the same moment
    return True


def claim_pending(session: Session, holder: str, lease_seconds: float, limit: int = 100,
                  now: Optional[datetime] = None) -> List[Tuple[int, Any]]:
    """(update_id, payload) of updates not handled yet, in Telegram's order, claimed for `holder`
    until the lease ends.

    An update claimed by another gateway whose lease has not ended is left alone, and so is every
    later update of its chat: one chat's messages are handled one at a time, in order, whichever
    gateway takes them. A gateway that dies leaves its claims to expire; another then takes them
    (at least once, as before)."""
    now = now or utcnow()
    claimable = or_(TelegramUpdate.claimed_until.is_(None), TelegramUpdate.claimed_until < now)
    rows = session.execute(
        select(TelegramUpdate.update_id, TelegramUpdate.payload, TelegramUpdate.claimed_by, TelegramUpdate.claimed_until)
        .where(TelegramUpdate.processed_at.is_(None)).order_by(TelegramUpdate.update_id).limit(limit)
    ).all()
    busy_chats: Set[Any] = set()
    claimed: List[Tuple[int, Any]] = []
    for update_id, payload, claimed_by, claimed_until in rows:
        chat = chat_of(payload)
        live = claimed_until is not None and claimed_until >= now
        if live and claimed_by == holder:
            continue  # this gateway is handling it already
        if live or (chat is not None and chat in busy_chats):
            if chat is not None:
                busy_chats.add(chat)
            continue
        taken = session.execute(
            update(TelegramUpdate)
            .where(TelegramUpdate.update_id == update_id, TelegramUpdate.processed_at.is_(None), claimable)
            .values(claimed_by=holder, claimed_until=now + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken == 1:
            claimed.append((update_id, payload))
        elif chat is not None:
            busy_chats.add(chat)  # another gateway took it a moment ago
    return claimed


def chat_of(payload: Dict[str, Any]) -> Optional[Any]:
    """The chat an update belongs to: a message's, or for a pressed button the chat of the message
    it was under (the user who pressed it when Telegram leaves that message out). The payload is
    what the webhook received: anything may be missing."""
    if not isinstance(payload, dict):
        return None
    query = payload.get("callback_query") if isinstance(payload.get("callback_query"), dict) else {}
    for message in (payload.get("message"), payload.get("edited_message"), query.get("message", query)):
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict):
            return chat.get("id")
    presser = query.get("from")
    return presser.get("id") if isinstance(presser, dict) else None


def mark_processed(session: Session, update_id: int, now: Optional[datetime] = None) -> None:
    update = session.scalars(select(TelegramUpdate).where(TelegramUpdate.update_id == update_id)).first()
    if update is not None and update.processed_at is None:
        update.processed_at = now or utcnow()
        session.flush()
