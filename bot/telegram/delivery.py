"""Operators' replies and resolution notices, from the outbox to Telegram.

Exactly once, as far as the Bot API lets anyone know: sendMessage has no idempotency key, so
each attempt is recorded ("sending") before the request goes out and its outcome after the
answer. Telegram's flood control (429 with retry_after) is obeyed for the message and pauses
the round; 5xx answers and errors before the request was written (connection refused, connect
timeout) are retried with the outbox's backoff; a user who blocked the bot or a chat that no
longer exists fails the message at once. A request that got no answer (read timeout, connection
broken while waiting) may have been delivered: the message becomes "unconfirmed" and is not sent
again, and so does one whose deliverer died while sending (outbox.reconcile_interrupted). The
operator sees every state on the ticket. The database is synchronous: it is used from threads."""
from __future__ import annotations

import asyncio
import logging
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from typing import List, Optional

import httpx
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
# httpx errors after which the request may have reached Telegram: the answer is what is missing.
NO_ANSWER = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


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
    status: str  # "sent", "retry", "failed", "unconfirmed"
    error: Optional[str] = None
    retry_after: Optional[float] = None


@dataclass
class DeliveryRound:
    sent: List[int] = field(default_factory=list)
    retried: List[int] = field(default_factory=list)
    failed: List[int] = field(default_factory=list)
    unconfirmed: List[int] = field(default_factory=list)
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
    parts = render_text(text_of(message))
    delivered = 0
    try:
        for part in parts:
            await bot.send_message(chat_id=chat_id, text=part.html)
            delivered += 1
    except TelegramError as error:
        outcome = _outcome_of(error)
        if delivered and outcome.status == "retry":
            # Sending the whole text again would repeat the parts the user already has.
            return Outcome("unconfirmed", f"{delivered} of {len(parts)} parts delivered; then {outcome.error}")
        return outcome
    return Outcome("sent")


def _outcome_of(error: TelegramError) -> Outcome:
    if isinstance(error, RetryAfter):
        return Outcome("retry", _describe(error), retry_after=_seconds_to_wait(error))
    if isinstance(error, (Forbidden, BadRequest, ChatMigrated)):
        return Outcome("failed", _describe(error))
    if isinstance(error, NetworkError) and isinstance(error.__cause__, NO_ANSWER):
        return Outcome("unconfirmed", f"no answer from Telegram, the message may have arrived: {_describe(error)}")
    # An answered error (5xx), a connection refused, a connect or pool timeout: not delivered.
    return Outcome("retry", _describe(error))


def take_next(database: Database, lease_seconds: int) -> Optional[Pending]:
    """The next due message, recorded as being sent (committed before the request goes out)."""
    with database.session() as session:
        row = outbox.claim_for_sending(session, CHANNEL, lease_seconds=lease_seconds)
        if row is None:
            return None
        ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
        return Pending(row.id, row.address, row.kind, row.language, row.body, ticket.ref if ticket else "")


def reconcile(database: Database) -> List[int]:
    with database.session() as session:
        return outbox.reconcile_interrupted(session, CHANNEL)


def record(database: Database, message_id: int, outcome: Outcome) -> None:
    with database.session() as session:
        outbox.record_outcome(session, message_id, outcome.status, outcome.error, retry_after=outcome.retry_after)


def send_lease(bot: Bot) -> int:
    """Seconds a send may take (a part or two, within the request's timeouts): after that a message
    still "sending" belongs to a deliverer that died, and becomes "unconfirmed". A deliverer that was
    only slow records its outcome over it afterwards."""
    return int(3 * (bot.request.read_timeout or 5.0)) + 5


async def deliver_due(bot: Bot, database: Database, limit: int = 50) -> DeliveryRound:
    """One round: due Telegram messages one at a time, oldest first, until Telegram asks to wait."""
    done = DeliveryRound()
    interrupted = await asyncio.to_thread(reconcile, database)
    if interrupted:
        log.warning("outbox messages %s were being sent by a deliverer that stopped: unconfirmed", interrupted)
    lease = send_lease(bot)
    for _ in range(limit):
        message = await asyncio.to_thread(take_next, database, lease)
        if message is None:
            break
        outcome = await send_one(bot, message)
        await asyncio.to_thread(record, database, message.id, outcome)
        {"sent": done.sent, "retry": done.retried, "failed": done.failed,
         "unconfirmed": done.unconfirmed}[outcome.status].append(message.id)
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
