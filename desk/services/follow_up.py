"""The private follow-up page of a ticket: its signed link, and the exchange it shows.

A link carries the ticket's id and reference signed with the desk's secret (itsdangerous, a
salt of its own) and expires after DIALOGA_FOLLOW_UP_LINK_DAYS. It opens that ticket only:
a token that is forged, expired or names a ticket that no longer matches gives nothing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, List, Optional

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.models import Ticket, TicketEvent, TicketEventKind

SALT = "dialoga-follow-up-page"
PATH = "/seguito/"
# What the user sees of the ticket's history: their own messages and the desk's public replies.
_USER_KINDS = (TicketEventKind.FOLLOW_UP.value, TicketEventKind.ATTACHMENT.value)
_DESK_KINDS = (TicketEventKind.REPLY.value,)


@dataclass(frozen=True)
class FollowUpLinks:
    secret_key: str
    max_age_days: int

    @property
    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret_key, salt=SALT)

    def token_for(self, ticket: Ticket) -> str:
        return self._serializer.dumps([ticket.id, ticket.ref])

    def url_for(self, public_url: str, ticket: Ticket) -> str:
        return f"{public_url.rstrip('/')}{PATH}{self.token_for(ticket)}"

    def ticket_for(self, session: Session, token: str) -> Optional[Ticket]:
        try:
            ticket_id, ref = self._serializer.loads(token, max_age=self.max_age_days * 86400)
        except (BadSignature, ValueError, TypeError):
            return None
        ticket = session.get(Ticket, ticket_id) if isinstance(ticket_id, int) else None
        if ticket is None or ticket.ref != ref:
            return None
        return ticket


@dataclass(frozen=True)
class ExchangeItem:
    who: str  # "user" or "desk"
    text: str
    at: datetime
    attachment: bool = False


def exchange_items(question: str, opened_at: datetime, events: Iterable[TicketEvent]) -> List[ExchangeItem]:
    """The question, then the user's messages and files and the desk's public replies in order;
    never notes, assignments or anything else the user was not meant to see."""
    items = [ExchangeItem("user", question, opened_at)]
    for event in events:
        if not event.public or not event.body:
            continue
        if event.kind in _USER_KINDS:
            items.append(ExchangeItem("user", event.body, event.created_at, event.kind == TicketEventKind.ATTACHMENT.value))
        elif event.kind in _DESK_KINDS:
            items.append(ExchangeItem("desk", event.body, event.created_at))
    return items


def exchange(session: Session, ticket: Ticket) -> List[ExchangeItem]:
    events = session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.created_at, TicketEvent.id)
    )
    return exchange_items(ticket.question, ticket.created_at, events)
