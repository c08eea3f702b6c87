"""Updates that Telegram posts to the desk's webhook, kept until the gateway handles them.

The desk's web process only stores what Telegram sent (fast, and nothing is lost if the
gateway is restarting); the gateway process takes them in order and marks them handled
after its handlers ran: at least once, and Telegram's re-deliveries of the same update_id
are stored once."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional

from sqlalchemy import select
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


def pending(session: Session, limit: int = 100) -> List[TelegramUpdate]:
    """Updates not handled yet, in Telegram's order."""
    return list(
        session.scalars(
            select(TelegramUpdate).where(TelegramUpdate.processed_at.is_(None)).order_by(TelegramUpdate.update_id).limit(limit)
        )
    )


def mark_processed(session: Session, update_id: int, now: Optional[datetime] = None) -> None:
    update = session.scalars(select(TelegramUpdate).where(TelegramUpdate.update_id == update_id)).first()
    if update is not None and update.processed_at is None:
        update.processed_at = now or utcnow()
        session.flush()
