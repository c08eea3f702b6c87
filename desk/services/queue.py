"""The ticket queue, read side: filters, full-text search, sorting and pagination.

Built to stay fast on a large table: each view reads one page plus one row through an
index in the requested order (no COUNT over the whole selection), and the search uses a
PostgreSQL GIN index over the same expression as migration 0004 (SQLite falls back to LIKE)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from sqlalchemy import Text, and_, cast, func, literal_column, or_, select, true
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from desk.models import KnowledgeEntry, Ticket, TicketStatus
from desk.models.base import utcnow
from desk.services.tickets import ACTIVE_STATUSES, normalise_reference
from desk.topics import load_topics

PAGE_SIZE = 25
MAX_PAGE = 400  # deeper than any operator pages by hand; keeps OFFSET scans bounded
MAX_SEARCH_WORDS = 8
CHANNELS = ("telegram", "widget", "rest")

STATUS_ACTIVE = "active"
STATUS_ALL = "all"
ASSIGNEE_MINE = "mine"
ASSIGNEE_NOBODY = "unassigned"
SORTS = ("sla", "newest", "oldest")

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class QueueFilter:
    """One view of the queue, as it travels in the page's query string."""

    status: str = STATUS_ACTIVE  # "active", "all" or a TicketStatus value
    channel: str = ""
    topic: str = ""
    assignee: str = ""  # "", "mine", "unassigned" or an operator's login
    overdue: bool = False
    search: str = ""
    sort: str = "sla"
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "QueueFilter":
        """Read a query string leniently: an unknown value falls back to the default."""
        statuses = {STATUS_ACTIVE, STATUS_ALL} | {status.value for status in TicketStatus}
        status = args.get("status", STATUS_ACTIVE)
        sort = args.get("sort", "sla")
        try:
            page = int(args.get("page", 1))
        except (TypeError, ValueError):
            page = 1
        return cls(
            status=status if status in statuses else STATUS_ACTIVE,
            channel=(args.get("channel") or "").strip()[:40],
            topic=(args.get("topic") or "").strip()[:80],
            assignee=(args.get("assignee") or "").strip()[:200],
            overdue=args.get("overdue") in ("1", "on", "true"),
            search=" ".join((args.get("q") or "").split())[:200],
            sort=sort if sort in SORTS else "sla",
            page=min(max(page, 1), MAX_PAGE),
        )

    def query_args(self, **changes: Any) -> Dict[str, Any]:
        """The query string of this view (defaults left out), with some values changed."""
        view = replace(self, **changes)
        args = {
            "status": view.status if view.status != STATUS_ACTIVE else None,
            "channel": view.channel or None,
            "topic": view.topic or None,
            "assignee": view.assignee or None,
            "overdue": "1" if view.overdue else None,
            "q": view.search or None,
            "sort": view.sort if view.sort != "sla" else None,
            "page": view.page if view.page != 1 else None,
        }
        return {key: value for key, value in args.items() if value is not None}

    @property
    def is_default(self) -> bool:
        return not self.query_args(page=1)


@dataclass(frozen=True)
class QueueRow:
    id: int
    ref: str
    status: TicketStatus
    channel: str
    language: str
    name: str
    company_name: str
    role: str
    question: str
    topic: Optional[str]
    sla_due_at: datetime
    assignee: Optional[str]
    created_at: datetime
    updated_at: datetime

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        return self.is_active and self.sla_due_at < now


@dataclass(frozen=True)
class QueuePage:
    rows: List[QueueRow]
    view: QueueFilter
    has_next: bool
    page_size: int = PAGE_SIZE

    @property
    def has_previous(self) -> bool:
        return self.view.page > 1

    @property
    def first_position(self) -> int:
        return (self.view.page - 1) * self.page_size + 1


@dataclass(frozen=True)
class TopicChoice:
    id: str
    title: str
    area: str


_ROW_COLUMNS = (
    Ticket.id, Ticket.ref, Ticket.status, Ticket.channel, Ticket.language, Ticket.name, Ticket.company_name,
    Ticket.role, Ticket.question, Ticket.suggested_topics, Ticket.sla_due_at, Ticket.assignee,
    Ticket.created_at, Ticket.updated_at,
)


def find_tickets(
    session: Session, view: QueueFilter, viewer: str, now: Optional[datetime] = None, page_size: int = PAGE_SIZE
) -> QueuePage:
    """One page of the queue for the operator `viewer` (their login, for "mine")."""
    statement = find_tickets_statement(session, view, viewer, now or utcnow(), page_size)
    rows = [_row(values) for values in session.execute(statement)]
    return QueuePage(rows=rows[:page_size], view=view, has_next=len(rows) > page_size, page_size=page_size)


def find_tickets_statement(session: Session, view: QueueFilter, viewer: str, now: datetime, page_size: int = PAGE_SIZE):
    return (
        select(*_ROW_COLUMNS)
        .where(*conditions(session, view, viewer, now))
        .order_by(*_ordering(view.sort))
        .offset((view.page - 1) * page_size)
        .limit(page_size + 1)  # one more row tells whether there is a next page, without a COUNT
    )


def conditions(session: Session, view: QueueFilter, viewer: str, now: datetime) -> List[ColumnElement]:
    found: List[ColumnElement] = []
    if view.status == STATUS_ACTIVE:
        found.append(active_condition())
    elif view.status != STATUS_ALL:
        found.append(Ticket.status == view.status)
    if view.channel:
        found.append(Ticket.channel == view.channel)
    if view.topic:
        found.append(primary_topic() == view.topic)
    if view.assignee == ASSIGNEE_MINE:
        found.append(Ticket.assignee == viewer)
    elif view.assignee == ASSIGNEE_NOBODY:
        found.append(Ticket.assignee.is_(None))
    elif view.assignee:
        found.append(Ticket.assignee == view.assignee)
    if view.overdue:
        found.extend([active_condition(), Ticket.sla_due_at < now])
    if view.search:
        found.append(search_condition(session, view.search))
    return found


def active_condition() -> ColumnElement:
    # The same list, in the same order, as the partial index ix_tickets_active_sla_due_at.
    return Ticket.status.in_([status.value for status in ACTIVE_STATUSES])


def primary_topic() -> ColumnElement:
    """The topic the assistant found most likely: suggested_topics[0].topic."""
    return Ticket.suggested_topics[(0, "topic")].as_string()


def search_document() -> ColumnElement:
    """The stored tsvector the PostgreSQL search reads: a generated column that migration 0004
    adds on PostgreSQL only (user's name, firm, contact, question and transcript lines), with
    GIN indexes. Stored, so that a filter on it costs no text parsing per row."""
    return literal_column("tickets.search_vector", type_=TSVECTOR)


def search_words(search: str) -> List[str]:
    return [word.lower() for word in _WORD.findall(search)][:MAX_SEARCH_WORDS]


def search_condition(session: Session, search: str) -> ColumnElement:
    """Every word must appear (as a word prefix on PostgreSQL, as a substring on SQLite) in the
    user's name, firm, contact, question or transcript. A ticket reference finds that ticket."""
    reference = normalise_reference(search)
    if reference is not None:
        return Ticket.ref == reference
    words = search_words(search)
    if not words:
        return true()
    if session.get_bind().dialect.name == "postgresql":
        # Words are made of letters and digits only, so the query text cannot carry tsquery syntax.
        query = " & ".join(f"{word}:*" for word in words)
        return search_document().op("@@")(func.to_tsquery("simple", query))
    return and_(*(_sqlite_contains(word) for word in words))


def _sqlite_contains(word: str) -> ColumnElement:
    # The JSON column stores non-ASCII letters as \u escapes: look for both spellings.
    escaped = json.dumps(word)[1:-1]
    fields = [func.lower(column) for column in (Ticket.name, Ticket.company_name, Ticket.contact, Ticket.question)]
    transcript = func.lower(cast(Ticket.transcript, Text))
    matches = [column.contains(word, autoescape=True) for column in fields]
    matches.append(transcript.contains(word, autoescape=True))
    if escaped != word:
        matches.append(transcript.contains(escaped.lower(), autoescape=True))
    return or_(*matches)


def _ordering(sort: str) -> Tuple[ColumnElement, ...]:
    if sort == "newest":
        return (Ticket.created_at.desc(), Ticket.id.desc())
    if sort == "oldest":
        return (Ticket.created_at.asc(), Ticket.id.asc())
    return (Ticket.sla_due_at.asc(), Ticket.id.asc())


def _row(values) -> QueueRow:
    topics = values.suggested_topics or []
    topic = topics[0].get("topic") if topics and isinstance(topics[0], dict) else None
    return QueueRow(
        id=values.id, ref=values.ref, status=TicketStatus(values.status), channel=values.channel,
        language=values.language, name=values.name, company_name=values.company_name, role=values.role,
        question=values.question, topic=topic, sla_due_at=values.sla_due_at, assignee=values.assignee,
        created_at=values.created_at, updated_at=values.updated_at,
    )


def latest_ticket_id(session: Session) -> int:
    return session.scalar(select(func.max(Ticket.id))) or 0


def new_since(session: Session, after_id: Optional[int], limit: int = 100) -> int:
    """How many active tickets were opened after the one with id `after_id` (at most `limit`);
    None: nothing to compare with."""
    if after_id is None:
        return 0
    ids = select(Ticket.id).where(Ticket.id > after_id, active_condition()).limit(limit).subquery()
    return session.scalar(select(func.count()).select_from(ids)) or 0


def next_ticket(session: Session, after: Optional[Ticket], viewer: str) -> Optional[str]:
    """The reference of the next active ticket by SLA after `after` that is unassigned or the
    viewer's (the first one when `after` is None): "next ticket" on the ticket page."""
    statement = select(Ticket.ref).where(
        active_condition(), or_(Ticket.assignee.is_(None), Ticket.assignee == viewer)
    )
    if after is not None:
        statement = statement.where(
            or_(Ticket.sla_due_at > after.sla_due_at, and_(Ticket.sla_due_at == after.sla_due_at, Ticket.id > after.id))
        )
    return session.scalar(statement.order_by(*_ordering("sla")).limit(1))


def neighbours(session: Session, ticket: Ticket) -> Tuple[Optional[str], Optional[str]]:
    """The previous and next active tickets by SLA around this one (any assignee)."""
    before = session.scalar(
        select(Ticket.ref).where(
            active_condition(),
            or_(Ticket.sla_due_at < ticket.sla_due_at, and_(Ticket.sla_due_at == ticket.sla_due_at, Ticket.id < ticket.id)),
        ).order_by(Ticket.sla_due_at.desc(), Ticket.id.desc()).limit(1)
    )
    after = session.scalar(
        select(Ticket.ref).where(
            active_condition(),
            or_(Ticket.sla_due_at > ticket.sla_due_at, and_(Ticket.sla_due_at == ticket.sla_due_at, Ticket.id > ticket.id)),
        ).order_by(*_ordering("sla")).limit(1)
    )
    return before, after


def topic_choices(session: Session) -> List[TopicChoice]:
    """Every topic with its Italian title from the knowledge base (its id when it has no entry)."""
    titles = dict(session.execute(select(KnowledgeEntry.topic, KnowledgeEntry.title_it)).all())
    return [TopicChoice(topic.id, titles.get(topic.id, topic.id), topic.area) for topic in load_topics().values()]


def topic_titles(session: Session, topics: Sequence[str]) -> Dict[str, str]:
    wanted = [topic for topic in set(topics) if topic]
    if not wanted:
        return {}
    return dict(session.execute(
        select(KnowledgeEntry.topic, KnowledgeEntry.title_it).where(KnowledgeEntry.topic.in_(wanted))
    ).all())
