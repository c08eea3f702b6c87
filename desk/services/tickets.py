"""The ticket lifecycle: the one place that writes tickets and their events.

Every channel, action and view opens, answers and moves tickets through these
functions, so that each change is checked against the allowed transitions and
leaves an event in the audit trail."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, FrozenSet, List, Optional, Union

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk.contact import parse_contact
from desk.db import lock_for_writing
from desk.models import OutboundKind, Ticket, TicketAttachment, TicketEvent, TicketEventKind, TicketStatus
from desk.models.base import utcnow
from desk.notices import resolution_notice
from desk.services import outbox
from desk.models.tickets import CONTACT_KINDS, LANGUAGES, ROLES
from desk.services.business_hours import BusinessCalendar
from desk.services.ticket_lookup import Requester, may_read_replies
from desk.text import user_text

REFERENCE_PREFIX = "DC-"
# Crockford's base32: digits and capitals without I, L, O and U, which are misread or misheard.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 6  # 32**6, about 1.07e9 references
REFERENCE_ATTEMPTS = 5
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.:#/]+")
_REFERENCE_IN_TEXT = re.compile(
    r"(?<![0-9A-Z])D\s*C[\s\-_.:#]*((?:[0-9A-Z][\s\-]?){%d}[0-9A-Z])(?![0-9A-Z])" % (REFERENCE_LENGTH - 1),
    re.IGNORECASE,
)

ALLOWED_TRANSITIONS: Dict[TicketStatus, FrozenSet[TicketStatus]] = {
    TicketStatus.OPEN: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_USER, TicketStatus.RESOLVED, TicketStatus.CLOSED}
    ),
    TicketStatus.IN_PROGRESS: frozenset(
        {TicketStatus.OPEN, TicketStatus.WAITING_ON_USER, TicketStatus.RESOLVED, TicketStatus.CLOSED}
    ),
    TicketStatus.WAITING_ON_USER: frozenset(
        {TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CLOSED}
    ),
    TicketStatus.RESOLVED: frozenset({TicketStatus.OPEN, TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
}
# The user's ticket is still "current" in these states: a new message adds to it.
ACTIVE_STATUSES = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_USER)
# Events the status view may report as an update from the desk.
_DESK_UPDATE_KINDS = (TicketEventKind.CREATED.value, TicketEventKind.STATUS_CHANGED.value, TicketEventKind.REPLY.value)

StatusLike = Union[TicketStatus, str]


class InvalidTransition(ValueError):
    def __init__(self, before: TicketStatus, after: TicketStatus) -> None:
        super().__init__(f"a ticket cannot go from {before.value} to {after.value}")
        self.before = before
        self.after = after


class TicketClosed(ValueError):
    """A closed ticket takes no more replies or follow-ups: the user opens a new one."""


@dataclass
class TicketIntake:
    """Everything the conversation collected before handing over to a person."""

    intake_key: Optional[str]  # idempotency: a retried submission returns the same ticket
    channel: str
    reply_address: str
    conversation_id: str
    language: str
    role: str
    name: str
    contact: str
    contact_kind: str
    company_name: str
    question: str
    consent_at: datetime
    company_size: Optional[str] = None
    company_artisan: Optional[bool] = None
    transcript: List[Dict[str, Any]] = field(default_factory=list)
    suggested_topics: List[Dict[str, Any]] = field(default_factory=list)
    # A reference already given to the user (an intake saved while the database was down).
    ref: Optional[str] = None
    # The version of the privacy notice the user accepted with consent_at (PrivacySettings.notice_version).
    consent_version: Optional[str] = None

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("role", self.role, ROLES),
            ("contact_kind", self.contact_kind, CONTACT_KINDS),
            ("language", self.language, LANGUAGES),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        if not self.question.strip():
            raise ValueError("an intake needs the user's question")


@dataclass(frozen=True)
class TicketStatusView:
    """What a lookup by reference shows: no personal data. The desk's last reply is there
    only for the conversation or channel identity that opened the ticket."""

    ref: str
    status: TicketStatus
    opened_at: datetime
    last_update_at: datetime  # the latest change the user can see
    last_reply: Optional[str]  # the desk's latest public reply, if any, for the ticket's opener only
    last_reply_at: Optional[datetime]


def new_reference() -> str:
    return REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def normalise_reference(text: str) -> Optional[str]:
    """The canonical form of a typed or dictated reference ("dc 7k4m2q", "DC7K4M2Q",
    "DC-7K4MZQ" with O for 0 or I/L for 1), or None when it cannot be one."""
    compact = _SEPARATORS.sub("", text or "").upper()
    prefix = REFERENCE_PREFIX.rstrip("-")
    if not compact.startswith(prefix):
        return None
    code = compact[len(prefix):].translate(_CONFUSABLE)
    if len(code) != REFERENCE_LENGTH or any(char not in REFERENCE_ALPHABET for char in code):
        return None
    return REFERENCE_PREFIX + code


def find_reference_in(text: str) -> Optional[str]:
    """The first reference inside a message, e.g. "stato DC-7K4M2Q?" or "/stato dc 7k4m2q"."""
    for match in _REFERENCE_IN_TEXT.finditer(text or ""):
        reference = normalise_reference("DC" + match.group(1))
        if reference is not None:
            return reference
    return None


def find_by_ref(session: Session, ref: str) -> Optional[Ticket]:
    reference = normalise_reference(ref)
    if reference is None:
        return None
    return session.scalars(select(Ticket).where(Ticket.ref == reference)).first()


def find_by_intake_key(session: Session, intake_key: str) -> Optional[Ticket]:
    return session.scalars(select(Ticket).where(Ticket.intake_key == intake_key)).first()


def open_ticket_for_conversation(session: Session, conversation_id: str) -> Optional[Ticket]:
    """The user's latest ticket that is neither resolved nor closed."""
    return session.scalars(
        select(Ticket)
        .where(Ticket.conversation_id == conversation_id, Ticket.status.in_([s.value for s in ACTIVE_STATUSES]))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    ).first()


def open_ticket(
    session: Session, intake: TicketIntake, calendar: BusinessCalendar, now: Optional[datetime] = None
) -> Ticket:
    """Open a ticket for an intake, once: the same intake_key always gives the same ticket,
    also when two workers submit it at the same moment."""
    # Opens the transaction before the savepoint below and makes concurrent intakes queue on SQLite's single writer.
    lock_for_writing(session)
    if intake.intake_key is not None:
        existing = find_by_intake_key(session, intake.intake_key)
        if existing is not None:
            return existing
    now = now or utcnow()
    session.flush()  # the caller's pending work goes before the savepoint, out of reach of its rollback
    for attempt in range(REFERENCE_ATTEMPTS):
        ref = intake.ref if attempt == 0 and intake.ref else new_reference()
        ticket = _ticket_from(intake, ref, calendar.sla_due(now), now)
        try:
            # A savepoint, so that losing a race on a unique key leaves the caller's transaction usable.
            with session.begin_nested():
                session.add(ticket)
                session.flush()
        except IntegrityError:
            if intake.intake_key is not None:
                existing = find_by_intake_key(session, intake.intake_key)
                if existing is not None:
                    return existing
            if find_by_ref(session, ticket.ref) is None:
                raise  # not a reference collision: a real error
            continue
        _record(session, ticket, TicketEventKind.CREATED, "user", after=ticket.status, public=True, at=now)
        session.flush()
        return ticket
    raise RuntimeError(f"no free ticket reference after {REFERENCE_ATTEMPTS} attempts")


def public_status(session: Session, ref: str, requester: Optional[Requester] = None) -> Optional[TicketStatusView]:
    """The ticket's status for whoever wrote its reference; its last reply only when the
    requester opened it (desk.services.ticket_lookup)."""
    ticket = find_by_ref(session, ref)
    if ticket is None:
        return None
    opener = requester is not None and may_read_replies(ticket, requester)
    updates = list(
        session.scalars(
            select(TicketEvent)
            .where(
                TicketEvent.ticket_id == ticket.id,
                TicketEvent.public.is_(True),
                TicketEvent.kind.in_(_DESK_UPDATE_KINDS),
            )
            .order_by(TicketEvent.created_at.desc(), TicketEvent.id.desc())
        )
    )
    last_reply = next((event for event in updates if event.kind == TicketEventKind.REPLY.value), None) if opener else None
    return TicketStatusView(
        ref=ticket.ref,
        status=ticket.current_status,
        opened_at=ticket.created_at,
        last_update_at=updates[0].created_at if updates else ticket.created_at,
        last_reply=last_reply.body if last_reply else None,
        last_reply_at=last_reply.created_at if last_reply else None,
    )


def change_status(session: Session, ticket: Ticket, new_status: StatusLike, actor: str) -> Ticket:
    """Move the ticket; when it is resolved the user is told, on their channel, that
    the assistant takes over again."""
    now = utcnow()
    new_status = TicketStatus(new_status)
    _move(session, ticket, new_status, actor, now)
    session.flush()
    if new_status is TicketStatus.RESOLVED:
        outbox.enqueue(session, ticket, resolution_notice(ticket.ref, ticket.language), OutboundKind.RESOLVED, now=now)
    return ticket


def close(session: Session, ticket: Ticket, actor: str) -> Ticket:
    return change_status(session, ticket, TicketStatus.CLOSED, actor)


def assign(session: Session, ticket: Ticket, assignee: Optional[str], actor: str) -> Ticket:
    """Give the ticket to an operator (None takes it back to the queue)."""
    if assignee == ticket.assignee:
        return ticket
    now = utcnow()
    _record(session, ticket, TicketEventKind.ASSIGNED, actor, before=ticket.assignee, after=assignee, at=now)
    ticket.assignee = assignee
    ticket.updated_at = now
    session.flush()
    return ticket


def reply(session: Session, ticket: Ticket, body: str, actor: str, set_waiting: bool = True) -> TicketEvent:
    """A reply the user will see, queued in the outbox for their channel in the same
    transaction; by default the ticket then waits on the user. Returns the reply event."""
    _refuse_if_closed(ticket, "reply to")
    if not body.strip():
        raise ValueError("a reply needs some text")
    now = utcnow()
    if set_waiting and ticket.current_status in (TicketStatus.OPEN, TicketStatus.IN_PROGRESS):
        _move(session, ticket, TicketStatus.WAITING_ON_USER, actor, now)
    event = _record(session, ticket, TicketEventKind.REPLY, actor, body=body, public=True, at=now)
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    ticket.updated_at = now
    session.flush()
    outbox.enqueue(session, ticket, body, OutboundKind.REPLY, event=event, now=now)
    return event


def add_note(session: Session, ticket: Ticket, body: str, actor: str) -> Ticket:
    """A note among operators; the user never sees it."""
    now = utcnow()
    _record(session, ticket, TicketEventKind.NOTE, actor, body=body, public=False, at=now)
    ticket.updated_at = now
    session.flush()
    return ticket


def add_follow_up(session: Session, ticket: Ticket, text: str, back_to_assignee: bool = False) -> Ticket:
    """A new message from the user: the desk has to act again, so a ticket waiting on
    the user, or already resolved, goes back to open. With back_to_assignee (an answer from
    the follow-up page), a ticket waiting on the user that an operator holds goes back in
    progress in their hands instead."""
    _refuse_if_closed(ticket, "add a follow-up to")
    now = utcnow()
    status = ticket.current_status
    if back_to_assignee and status is TicketStatus.WAITING_ON_USER and ticket.assignee:
        _move(session, ticket, TicketStatus.IN_PROGRESS, "user", now)
    elif status in (TicketStatus.WAITING_ON_USER, TicketStatus.RESOLVED):
        _move(session, ticket, TicketStatus.OPEN, "user", now)
    _record(session, ticket, TicketEventKind.FOLLOW_UP, "user", body=user_text(text), public=True, at=now)
    ticket.updated_at = now
    session.flush()
    return ticket


class InvalidContact(ValueError):
    """The operator's new contact is not a valid e-mail address."""


def change_contact(session: Session, ticket: Ticket, kind: str, address: Optional[str], actor: str) -> Ticket:
    """How the user is answered, changed by an operator when the user asks: "email" with an
    address (validated with email-validator) or "channel" (only the chat they came from).
    Audited with the contact before and after."""
    _refuse_if_closed(ticket, "change the contact of")
    if kind == "email":
        contact = parse_contact(address or "")
        if contact is None or contact.kind != "email":
            raise InvalidContact(f"not a valid e-mail address: {address!r}")
        value = contact.value
    elif kind == "channel":
        value = ticket.channel
    else:
        raise InvalidContact(f"a contact is answered by email or on the channel, not {kind!r}")
    before, after = f"{ticket.contact_kind}: {ticket.contact}", f"{kind}: {value}"
    if before == after:
        return ticket
    now = utcnow()
    _record(session, ticket, TicketEventKind.CONTACT_CHANGED, actor, before=before[:200], after=after[:200], at=now)
    ticket.contact_kind, ticket.contact = kind, value
    ticket.updated_at = now
    session.flush()
    return ticket


def add_attachment(
    session: Session, ticket: Ticket, filename: str, content_type: str, data: bytes,
    caption: Optional[str] = None,
) -> TicketAttachment:
    """A file the user sent for their ticket: stored with an ATTACHMENT event, and, like a
    follow-up, a ticket waiting on the user goes back to open."""
    _refuse_if_closed(ticket, "attach a file to")
    now = utcnow()
    if ticket.current_status in (TicketStatus.WAITING_ON_USER, TicketStatus.RESOLVED):
        _move(session, ticket, TicketStatus.OPEN, "user", now)
    name = (filename or "").strip()[:255] or "file"
    body = name if not caption else f"{name}: {caption}"
    event = _record(session, ticket, TicketEventKind.ATTACHMENT, "user", body=body, public=True, at=now)
    ticket.updated_at = now
    session.flush()
    attachment = TicketAttachment(
        ticket_id=ticket.id, event_id=event.id, filename=name,
        content_type=(content_type or "application/octet-stream")[:120], size=len(data), data=data, created_at=now,
    )
    session.add(attachment)
    session.flush()
    return attachment


def attachment_list(session: Session, ticket: Ticket):
    """The ticket's files without their contents: id, event_id, filename, content_type, size."""
    return session.execute(
        select(TicketAttachment.id, TicketAttachment.event_id, TicketAttachment.filename,
               TicketAttachment.content_type, TicketAttachment.size)
        .where(TicketAttachment.ticket_id == ticket.id).order_by(TicketAttachment.id)
    ).all()


def find_attachment(session: Session, ticket: Ticket, attachment_id: int) -> Optional[TicketAttachment]:
    return session.scalars(
        select(TicketAttachment).where(TicketAttachment.id == attachment_id, TicketAttachment.ticket_id == ticket.id)
    ).first()


def attachments_of(session: Session, ticket: Ticket) -> List[TicketAttachment]:
    return list(
        session.scalars(select(TicketAttachment).where(TicketAttachment.ticket_id == ticket.id).order_by(TicketAttachment.id))
    )


def _move(session: Session, ticket: Ticket, new_status: TicketStatus, actor: str, now: datetime) -> None:
    before = ticket.current_status
    if new_status not in ALLOWED_TRANSITIONS[before]:
        raise InvalidTransition(before, new_status)
    ticket.status = new_status.value
    ticket.updated_at = now
    if new_status is TicketStatus.RESOLVED:
        ticket.resolved_at = now
    elif new_status is TicketStatus.CLOSED:
        ticket.closed_at = now
    elif before is TicketStatus.RESOLVED:
        ticket.resolved_at = None  # reopened: the resolution no longer holds
    _record(
        session, ticket, TicketEventKind.STATUS_CHANGED, actor,
        before=before.value, after=new_status.value, public=True, at=now,
    )


def _record(
    session: Session,
    ticket: Ticket,
    kind: TicketEventKind,
    actor: str,
    before: Optional[str] = None,
    after: Optional[str] = None,
    body: Optional[str] = None,
    public: bool = False,
    at: Optional[datetime] = None,
) -> TicketEvent:
    event = TicketEvent(
        ticket=ticket, kind=kind.value, actor=actor, before=before, after=after,
        body=body, public=public, created_at=at or utcnow(),
    )
    session.add(event)
    return event


def _refuse_if_closed(ticket: Ticket, what: str) -> None:
    if ticket.current_status is TicketStatus.CLOSED:
        raise TicketClosed(f"cannot {what} the closed ticket {ticket.ref}")


def _ticket_from(intake: TicketIntake, ref: str, sla_due_at: datetime, now: datetime) -> Ticket:
    return Ticket(
        ref=ref,
        status=TicketStatus.OPEN.value,
        channel=intake.channel,
        reply_address=intake.reply_address,
        conversation_id=intake.conversation_id,
        language=intake.language,
        role=intake.role,
        name=user_text(intake.name),
        contact=user_text(intake.contact),
        contact_kind=intake.contact_kind,
        company_name=user_text(intake.company_name),
        company_size=intake.company_size,
        company_artisan=intake.company_artisan,
        question=user_text(intake.question),
        consent_at=intake.consent_at,
        consent_version=intake.consent_version,
        transcript=[_json_ready(_user_line(line)) for line in intake.transcript],
        suggested_topics=[_json_ready(topic) for topic in intake.suggested_topics],
        sla_due_at=sla_due_at,
        intake_key=intake.intake_key,
        created_at=now,
        updated_at=now,
    )


def _user_line(line: Dict[str, Any]) -> Dict[str, Any]:
    """A transcript line with the user's words cleaned as every other user text."""
    if line.get("who") == "user" and isinstance(line.get("text"), str):
        return dict(line, text=user_text(line["text"]))
    return line


def _json_ready(item: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in item.items()}
