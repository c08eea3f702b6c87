"""Tickets for the queue and ticket-page tests, opened through the ticket service."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import List

from desk.models.base import utcnow
from desk.services import tickets
from desk.services.business_hours import BusinessCalendar
from tests.test_tickets import intake

CALENDAR = BusinessCalendar()
_REFS = re.compile(r'<tr data-ref="(DC-[0-9A-Z]{6})"')


def open_ticket(database, key: str, opened: datetime = None, **changes) -> str:
    """Open a ticket as the assistant would, `opened` (naive UTC) deciding its SLA due time."""
    with database.session() as session:
        ticket = tickets.open_ticket(
            session, intake(key, conversation=f"conv-{key}", **changes), CALENDAR, now=opened or utcnow()
        )
        return ticket.ref


def days_ago(days: float) -> datetime:
    return utcnow() - timedelta(days=days)


def refs_in(html: str) -> List[str]:
    """The references of the queue's rows, in the order shown."""
    return _REFS.findall(html)


def with_ticket(database, ref: str, action) -> None:
    with database.session() as session:
        action(session, tickets.find_by_ref(session, ref))
