"""Who may read what about a ticket when they write its reference.

A reference is short enough to dictate, so it can be guessed: anyone who writes it
learns the status only. The operators' replies, which often hold the user's name and
situation, reach only the conversation that opened the ticket or the same channel
identity (the same Telegram chat, the same widget conversation, the same REST sender).
Lookups are counted per conversation, per channel identity and, where the gateway knows
it, per client (e.g. a widget user's address, as a keyed digest): past the limit the
user is asked to wait. Rules here, I/O in the callers."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import List, Optional, Tuple

from desk.services.rate_limit import Limit

LOOKUP_WINDOW_SECONDS = 3600
# Many users may share one address (an office behind one router): its limit is wider.
CLIENT_LIMIT_FACTOR = 3


@dataclass(frozen=True)
class Requester:
    """Who is asking, as the channel told the assistant."""

    conversation_id: str  # the assistant's sender id
    channel: str
    address: str  # the channel's reply address (Telegram chat id, widget conversation, REST sender)
    client: Optional[str] = None  # a gateway's pseudonymous key for the client (widget: the address)


def may_read_replies(ticket, requester: Requester) -> bool:
    """Only the conversation, or the channel identity, that opened the ticket reads its replies."""
    if ticket.conversation_id == requester.conversation_id:
        return True
    return ticket.channel == requester.channel and ticket.reply_address == requester.address


def limits(lookups_per_hour: int, requester: Requester) -> List[Tuple[str, str, Limit]]:
    """(counter name, key, limit) for every counter one lookup goes against."""
    per_hour = Limit(lookups_per_hour, LOOKUP_WINDOW_SECONDS)
    counters = [
        ("ticket-lookup-conversation", requester.conversation_id, per_hour),
        ("ticket-lookup-identity", f"{requester.channel}:{requester.address}", per_hour),
    ]
    if requester.client:
        counters.append(("ticket-lookup-client", requester.client,
                         Limit(lookups_per_hour * CLIENT_LIMIT_FACTOR, LOOKUP_WINDOW_SECONDS)))
    return counters


def pseudonym(secret: str, value: str) -> str:
    """A stable, non-reversible name for a conversation or client in logs and counters."""
    return hmac.new(secret.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
