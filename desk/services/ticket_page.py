"""What the ticket page shows besides the ticket itself: the SLA clock in business hours,
the history with each reply's delivery state, and answers suggested from the knowledge base."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.models import OutboundMessage, Ticket, TicketEvent, TicketEventKind, TicketStatus
from desk.services import knowledge, outbox, tickets
from desk.services.business_hours import BusinessCalendar
from desk.services.tickets import ACTIVE_STATUSES

# Beyond this distance from the due time the clock speaks in calendar days: counting business
# hours over months would cost a loop over every day for no useful precision.
PRECISE_WINDOW = timedelta(days=21)
MAX_SUGGESTIONS = 3
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


@dataclass(frozen=True)
class SlaClock:
    due_local: datetime
    status: TicketStatus
    overdue: bool  # only a running clock is ever overdue
    business_hours: Optional[float]  # left (negative: past due); None when far from the due time
    calendar_days: int  # whole days between now and the due time, for the far case

    @property
    def running(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def describe(self) -> str:
        """E.g. "mancano 3 h 20 min lavorative", "scaduto da 1 h 05 min lavorative"."""
        if not self.running:
            return "fermo: il ticket è " + ("risolto" if self.status is TicketStatus.RESOLVED else "chiuso")
        if self.business_hours is None:
            days = abs(self.calendar_days)
            return f"scaduto da {days} giorni" if self.overdue else f"tra {days} giorni"
        amount = format_hours(abs(self.business_hours))
        return f"scaduto da {amount} lavorative" if self.overdue else f"mancano {amount} lavorative"


def format_hours(hours: float) -> str:
    minutes = int(round(hours * 60))
    whole, rest = divmod(minutes, 60)
    if whole == 0:
        return f"{rest} min"
    return f"{whole} h {rest:02d} min"


def sla_clock(calendar: BusinessCalendar, status: TicketStatus, due_at: datetime, now: datetime) -> SlaClock:
    running = status in ACTIVE_STATUSES
    hours: Optional[float] = None
    if running and abs(due_at - now) <= PRECISE_WINDOW:
        hours = calendar.business_hours_between(now, due_at)
    return SlaClock(
        due_local=calendar.to_local(due_at), status=status, overdue=running and due_at < now,
        business_hours=hours, calendar_days=abs(due_at - now).days,
    )


@dataclass(frozen=True)
class HistoryItem:
    event: TicketEvent
    delivery: Optional[OutboundMessage]  # for replies: the outbox message that carries it on the chat
    attachment: Optional[AttachmentInfo] = None  # for attachments: the file the user sent
    emails: Tuple[OutboundMessage, ...] = ()  # for replies: the e-mails that carry it too


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    filename: str
    content_type: str
    size: int


def history(session: Session, ticket: Ticket) -> List[HistoryItem]:
    events = list(session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.created_at, TicketEvent.id)
    ))
    replies = [event.id for event in events if event.kind == TicketEventKind.REPLY.value]
    deliveries = outbox.delivery_of_events(session, replies)
    emails = outbox.emails_of_events(session, replies)
    files = {info.event_id: AttachmentInfo(info.id, info.filename, info.content_type, info.size)
             for info in tickets.attachment_list(session, ticket)}
    return [HistoryItem(event, deliveries.get(event.id), files.get(event.id), tuple(emails.get(event.id, ())))
            for event in events]


@dataclass(frozen=True)
class SuggestedAnswer:
    topic: str
    title: str
    confidence: Optional[float]
    answer: str
    source: str
    verified_on: date
    unconfirmed: bool
    reply_text: str  # what "insert" puts in the composer: the answer, its source and date


def suggested_answers(session: Session, ticket: Ticket) -> List[SuggestedAnswer]:
    """The knowledge-base entries of the topics the assistant found likely, in the ticket's language."""
    found = []
    for suggestion in (ticket.suggested_topics or [])[:MAX_SUGGESTIONS]:
        topic = suggestion.get("topic") if isinstance(suggestion, dict) else None
        if not topic:
            continue
        try:
            entry = knowledge.answer_for(session, topic, ticket.language)
        except knowledge.UnknownTopic:
            continue
        source = entry.source + (f" — {entry.source_url}" if entry.source_url else "")
        found.append(SuggestedAnswer(
            topic=topic, title=entry.title, confidence=suggestion.get("confidence"), answer=entry.text,
            source=source, verified_on=entry.verified_on, unconfirmed=entry.unconfirmed,
            reply_text=f"{entry.text}\n\n{source_line(source, entry.verified_on, ticket.language)}",
        ))
    return found


def source_line(source: str, verified_on: date, language: str) -> str:
    if language == "en":
        when = f"{verified_on.day} {_MONTHS_EN[verified_on.month - 1]} {verified_on.year}"
        return f"Source: {source} (verified on {when})"
    return f"Fonte: {source} (verificato il {verified_on:%d/%m/%Y})"
