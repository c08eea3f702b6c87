"""Operators' replies and resolution notices, from the outbox to Telegram.

At least once: a message is marked sent only after the Bot API accepted it. Telegram's
flood control (429 with retry_after) is obeyed for the message and pauses the round;
network errors, timeouts and 5xx answers are retried with the outbox's backoff; a user
who blocked the bot or a chat that no longer exists fails the message at once, and the
operator sees it on the ticket. The database is synchronous: it is used from threads."""
from __future__ import annotations

import asyncio
import logging
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from typing import List, Optional

from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.telegram.rendering import render_text
from bot.telegram.texts import say
from desk.db import Database, DatabaseUnavailable
from desk.models import OutboundKind, Ticket
from desk.services import outbox

log = logging.getLogger(__name__)

CHANNEL = "telegram"


@dataclass(frozen=True)
class Pending:
    """What is needed to send one outbox message, read in a short transaction."""

    id: int
    address: str
    kind: str
    language: str
    body: str
    ref: str


@dataclass(frozen=True)
class Outcome:
    status: str  # "sent", "retry", "failed"
    error: Optional[str] = None
    retry_after: Optional[float] = None


@dataclass
class DeliveryRound:
    sent: List[int] = field(default_factory=list)
    retried: List[int] = field(default_factory=list)
    failed: List[int] = field(default_factory=list)
    # Telegram asked to wait this long before sending anything else.
    flood_wait: Optional[float] = None


def text_of(message: Pending) -> str:
    if message.kind == OutboundKind.REPLY.value:
        return say("operator_reply", message.language, ref=message.ref, body=message.body)
    return message.body


def _seconds_to_wait(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # an int today, a timedelta with PTB_TIMEDELTA=true: both are fine
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _describe(error: TelegramError) -> str:
    name, message = type(error).__name__, str(error)
    return message if message.lower().startswith(name.lower()) else f"{name}: {message}"


async def send_one(bot: Bot, message: Pending) -> Outcome:
    try:
        chat_id = int(message.address)
    except ValueError:
        return Outcome("failed", f"not a Telegram chat id: {message.address!r}")
    try:
        for part in render_text(text_of(message)):
            await bot.send_message(chat_id=chat_id, text=part.html)
    except RetryAfter as error:
        return Outcome("retry", _describe(error), retry_after=_seconds_to_wait(error))
    except (Forbidden, BadRequest, ChatMigrated) as error:
        return Outcome("failed", _describe(error))
    except NetworkError as error:  # also TimedOut and 5xx answers
        return Outcome("retry", _describe(error))
    except TelegramError as error:
        return Outcome("retry", _describe(error))
    return Outcome("sent")


def load_due(database: Database, limit: int) -> List[Pending]:
    with database.session() as session:
        rows = outbox.claim_due(session, CHANNEL, limit=limit)
        refs = {ticket.id: ticket.ref for ticket in (session.get(Ticket, row.ticket_id) for row in rows if row.ticket_id)
                if ticket}
        return [Pending(row.id, row.address, row.kind, row.language, row.body, refs.get(row.ticket_id, "")) for row in rows]


def record(database: Database, message_id: int, outcome: Outcome) -> None:
    with database.session() as session:
        outbox.record_outcome(session, message_id, outcome.status, outcome.error, retry_after=outcome.retry_after)


async def deliver_due(bot: Bot, database: Database, limit: int = 50) -> DeliveryRound:
    """One round: every due Telegram message, oldest first, until Telegram asks to wait."""
    done = DeliveryRound()
    for message in await asyncio.to_thread(load_due, database, limit):
        outcome = await send_one(bot, message)
        await asyncio.to_thread(record, database, message.id, outcome)
        {"sent": done.sent, "retry": done.retried, "failed": done.failed}[outcome.status].append(message.id)
        if outcome.status != "sent":
            log.warning("outbox message %s to telegram: %s (%s)", message.id, outcome.status, outcome.error)
        if outcome.retry_after is not None:
            done.flood_wait = outcome.retry_after
            break
    return done


async def delivery_loop(bot: Bot, database: Database, interval: float, stop: asyncio.Event) -> None:
    """Rounds every `interval` seconds (longer when Telegram asked to wait) until `stop`."""
    while not stop.is_set():
        wait = interval
        try:
            done = await deliver_due(bot, database)
            if done.flood_wait is not None:
                wait = max(interval, done.flood_wait)
        except DatabaseUnavailable as error:
            log.warning("outbox not reachable: %s", error)
        except Exception:  # a bug must not stop the deliveries of everyone else
            log.exception("delivery round failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=wait)
        except asyncio.TimeoutError:
            pass
