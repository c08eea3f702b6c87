"""Supervisors' reports: how much the assistant answers on its own, how fast the desk
answers the rest, what people ask and how they rate the answers.

Definitions (also written on the report page):
- A conversation counts in a period when it has at least one recorded user turn in it
  (with the channel and language filters applied to the turns).
- Contained conversation: at least one turn answered from the knowledge base and no turn
  escalated to a person. Escalated: at least one escalated turn (the user asked for a
  person or accepted the offer). Unanswered: neither — only turns the assistant could not
  answer (or could not read the knowledge base for). Containment = contained / all.
- Escalations per day: escalated turns, and tickets opened, per Europe/Rome day.
- First response and resolution times: tickets opened in the period, office time (the
  business calendar: weekdays, office hours, Italian and Milan holidays) from opening to
  the first public reply, and to the resolution (tickets reopened since count as not yet
  resolved). Median, and the 90th percentile by the nearest-rank method.
- Clarifications: messages the assistant was unsure about and answered by asking which
  of a few topics was meant; what the user chose next (an offered topic, a person,
  something else, or nothing); which topics were offered and chosen.
- Backlog: tickets open, in progress or waiting on the user now. Overdue: open or in
  progress, never answered, and past their SLA due time.
- Guided checks: per check, the times it was started, completed (the result shown), could
  not compute (a rule being updated) and was stopped, in the period; "followed by a ticket":
  conversations where a check was completed and a ticket was opened afterwards.
"""
from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Dict, List, Optional, Sequence, Tuple

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from desk.models import AnswerFeedback, AssistantTurn, CheckEvent, KnowledgeEntry, Ticket, TicketStatus
from desk.models.base import utcnow
from desk.services import clarifications
from desk.services.business_hours import BusinessCalendar
from desk.services.learning import unanswered_messages
from desk.services.periods import Period

OUTCOMES = ("answered", "clarified", "unanswered", "escalated", "kb_unavailable")
BACKLOG_STATUSES = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_USER)
AWAITING_DESK = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)
TOP_LIMIT = 15


# --- shared helpers ----------------------------------------------------------------------

def _turn_filters(period: Period, column_owner=AssistantTurn):
    start, end = period.bounds()
    conditions = [column_owner.created_at >= start, column_owner.created_at < end]
    if period.channel:
        conditions.append(column_owner.channel == period.channel)
    if period.language:
        conditions.append(column_owner.language == period.language)
    return and_(*conditions)


def share(part: int, whole: int) -> Optional[float]:
    return part / whole if whole else None


def median(values: Sequence[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def percentile_nearest_rank(values: Sequence[float], fraction: float) -> Optional[float]:
    """The smallest value with at least `fraction` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def topic_titles(session: Session) -> Dict[str, str]:
    return dict(session.execute(select(KnowledgeEntry.topic, KnowledgeEntry.title_it)).all())


# --- containment -------------------------------------------------------------------------

@dataclass
class Containment:
    turns: Dict[str, int]
    contained: int = 0
    escalated: int = 0
    unanswered: int = 0

    @property
    def conversations(self) -> int:
        return self.contained + self.escalated + self.unanswered

    @property
    def total_turns(self) -> int:
        return sum(self.turns.values())

    @property
    def rate(self) -> Optional[float]:
        return share(self.contained, self.conversations)

    @property
    def answered_turn_share(self) -> Optional[float]:
        return share(self.turns.get("answered", 0), self.total_turns)


def classify_conversation(outcomes: Counter) -> str:
    if outcomes.get("escalated"):
        return "escalated"
    if outcomes.get("answered"):
        return "contained"
    return "unanswered"


def containment(session: Session, period: Period) -> Containment:
    return containment_by(session, period, None).get(None) or Containment(turns={outcome: 0 for outcome in OUTCOMES})


def containment_by(session: Session, period: Period, dimension: Optional[str]) -> Dict[Optional[str], Containment]:
    """Containment per value of `dimension` ("channel", "language") or overall (None)."""
    key_column = getattr(AssistantTurn, dimension) if dimension else None
    columns = [AssistantTurn.conversation_id, AssistantTurn.outcome, func.count(AssistantTurn.id)]
    if key_column is not None:
        columns.insert(0, key_column)
    rows = session.execute(select(*columns).where(_turn_filters(period)).group_by(*columns[:-1])).all()
    outcomes_by_conversation: Dict[Tuple[Optional[str], str], Counter] = defaultdict(Counter)
    for row in rows:
        value, conversation_id, outcome, count = row if key_column is not None else (None, *row)
        outcomes_by_conversation[(value, conversation_id)][outcome] += count
    result: Dict[Optional[str], Containment] = {}
    for (value, _), outcomes in outcomes_by_conversation.items():
        report = result.setdefault(value, Containment(turns={outcome: 0 for outcome in OUTCOMES}))
        for outcome, count in outcomes.items():
            report.turns[outcome] = report.turns.get(outcome, 0) + count
        kind = classify_conversation(outcomes)
        setattr(report, kind, getattr(report, kind) + 1)
    return result


# --- escalations per day -----------------------------------------------------------------

@dataclass(frozen=True)
class DayCount:
    day: date
    escalated_turns: int
    tickets_opened: int


def escalations_per_day(session: Session, period: Period) -> List[DayCount]:
    turns = Counter(
        period.local_day(moment) for moment in session.scalars(
            select(AssistantTurn.created_at).where(_turn_filters(period), AssistantTurn.outcome == "escalated")
        )
    )
    tickets = Counter(
        period.local_day(moment) for moment in session.scalars(select(Ticket.created_at).where(_turn_filters(period, Ticket)))
    )
    return [DayCount(day, turns.get(day, 0), tickets.get(day, 0)) for day in period.days()]


# --- response times ----------------------------------------------------------------------

@dataclass(frozen=True)
class DurationStats:
    measure: str  # "first_response" | "resolution"
    label: str
    tickets: int  # tickets opened in the period
    measured: int  # of which had reached the moment measured
    median_hours: Optional[float]
    p90_hours: Optional[float]


def response_times(session: Session, period: Period, calendar: BusinessCalendar) -> List[DurationStats]:
    rows = session.execute(
        select(Ticket.created_at, Ticket.first_response_at, Ticket.resolved_at).where(_turn_filters(period, Ticket))
    ).all()
    first = [calendar.business_hours_between(opened, answered) for opened, answered, _ in rows if answered]
    resolved = [calendar.business_hours_between(opened, done) for opened, _, done in rows if done]
    return [
        DurationStats("first_response", "Prima risposta", len(rows), len(first), median(first),
                      percentile_nearest_rank(first, 0.9)),
        DurationStats("resolution", "Risoluzione", len(rows), len(resolved), median(resolved),
                      percentile_nearest_rank(resolved, 0.9)),
    ]


# --- backlog -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Backlog:
    by_status: Dict[str, int]
    overdue: int
    as_of: datetime

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def backlog(session: Session, period: Period, now: Optional[datetime] = None) -> Backlog:
    """Now, whatever the period: only the channel and language filters apply."""
    now = now or utcnow()
    conditions = []
    if period.channel:
        conditions.append(Ticket.channel == period.channel)
    if period.language:
        conditions.append(Ticket.language == period.language)
    counts = dict(session.execute(
        select(Ticket.status, func.count(Ticket.id))
        .where(Ticket.status.in_([status.value for status in BACKLOG_STATUSES]), *conditions)
        .group_by(Ticket.status)
    ).all())
    overdue = session.scalar(
        select(func.count(Ticket.id)).where(
            Ticket.status.in_([status.value for status in AWAITING_DESK]),
            Ticket.first_response_at.is_(None), Ticket.sla_due_at < now, *conditions,
        )
    )
    return Backlog({status.value: counts.get(status.value, 0) for status in BACKLOG_STATUSES}, overdue or 0, now)


# --- topics, unanswered messages, satisfaction -------------------------------------------

@dataclass(frozen=True)
class TopicCount:
    topic: str
    title: str
    answered: int


def top_topics(session: Session, period: Period, limit: int = TOP_LIMIT) -> List[TopicCount]:
    count = func.count(AssistantTurn.id)
    rows = session.execute(
        select(AssistantTurn.topic, count)
        .where(_turn_filters(period), AssistantTurn.outcome == "answered", AssistantTurn.topic.isnot(None))
        .group_by(AssistantTurn.topic)
        .order_by(count.desc(), AssistantTurn.topic)
        .limit(limit)
    ).all()
    titles = topic_titles(session)
    return [TopicCount(topic, titles.get(topic, topic), answered) for topic, answered in rows]


@dataclass(frozen=True)
class MessageCount:
    text: str
    count: int
    last_seen: datetime
    channels: str
    languages: str


def top_unanswered(session: Session, period: Period, limit: int = TOP_LIMIT) -> List[MessageCount]:
    """The same message (case, accents and punctuation aside) counted once per sending,
    whether operators have dealt with it in the learning loop or not."""
    return [
        MessageCount(
            message.text, message.count, message.last_seen,
            ", ".join(sorted(message.channels)), ", ".join(sorted(message.languages)),
        )
        for message in unanswered_messages(session, period, skip_decided=False)[:limit]
    ]


@dataclass(frozen=True)
class TopicFeedback:
    topic: str
    title: str
    helpful: int
    not_helpful: int

    @property
    def total(self) -> int:
        return self.helpful + self.not_helpful

    @property
    def helpful_share(self) -> Optional[float]:
        return share(self.helpful, self.total)


def satisfaction(session: Session, period: Period) -> List[TopicFeedback]:
    """Thumbs up and down per topic, the most rated topics first."""
    rows = session.execute(
        select(AnswerFeedback.topic, AnswerFeedback.helpful, func.count(AnswerFeedback.id))
        .where(_turn_filters(period, AnswerFeedback))
        .group_by(AnswerFeedback.topic, AnswerFeedback.helpful)
    ).all()
    votes: Dict[str, Counter] = defaultdict(Counter)
    for topic, helpful, count in rows:
        votes[topic][bool(helpful)] += count
    titles = topic_titles(session)
    feedback = [TopicFeedback(topic, titles.get(topic, topic), counts[True], counts[False]) for topic, counts in votes.items()]
    return sorted(feedback, key=lambda item: (-item.total, item.topic))


# --- clarifications ----------------------------------------------------------------------

def clarification_summary(session: Session, period: Period) -> clarifications.ClarificationSummary:
    turns = session.scalar(select(func.count(AssistantTurn.id)).where(_turn_filters(period))) or 0
    return clarifications.summary(session, period, turns)


# --- guided checks ------------------------------------------------------------------------

@dataclass
class CheckUsage:
    check: str
    started: int = 0
    completed: int = 0
    outdated: int = 0
    cancelled: int = 0
    followed_by_ticket: int = 0

    @property
    def completion_rate(self) -> Optional[float]:
        return share(self.completed, self.started)


def check_usage(session: Session, period: Period, checks: Sequence[str]) -> List[CheckUsage]:
    """Every check in `checks`, used or not, in that order."""
    usage = {check: CheckUsage(check) for check in checks}
    completed_at: Dict[Tuple[str, str], datetime] = {}
    for check, event, conversation, moment in session.execute(
        select(CheckEvent.check_id, CheckEvent.event, CheckEvent.conversation_id, CheckEvent.created_at)
        .where(_turn_filters(period, CheckEvent))
    ):
        row = usage.setdefault(check, CheckUsage(check))
        setattr(row, event, getattr(row, event) + 1)
        if event == "completed":
            key = (check, conversation)
            completed_at[key] = min(moment, completed_at.get(key, moment))
    if completed_at:
        conversations = {conversation for _, conversation in completed_at}
        opened: Dict[str, List[datetime]] = defaultdict(list)
        for conversation, moment in session.execute(
            select(Ticket.conversation_id, Ticket.created_at).where(Ticket.conversation_id.in_(conversations))
        ):
            opened[conversation].append(moment)
        for (check, conversation), moment in completed_at.items():
            if any(ticket_moment >= moment for ticket_moment in opened.get(conversation, [])):
                usage[check].followed_by_ticket += 1
    return list(usage.values())


# --- breakdowns --------------------------------------------------------------------------

@dataclass
class BreakdownRow:
    value: str
    containment: Containment
    tickets: int = 0
    first_response_median: Optional[float] = None


def breakdown(session: Session, period: Period, dimension: str, calendar: BusinessCalendar) -> List[BreakdownRow]:
    """Containment, tickets and median first response per channel or per language."""
    if dimension not in ("channel", "language"):
        raise ValueError(f"no breakdown by {dimension}")
    rows: Dict[str, BreakdownRow] = {
        value: BreakdownRow(value, report) for value, report in containment_by(session, period, dimension).items()
    }
    column = getattr(Ticket, dimension)
    first_responses: Dict[str, List[float]] = defaultdict(list)
    for value, opened, answered in session.execute(
        select(column, Ticket.created_at, Ticket.first_response_at).where(_turn_filters(period, Ticket))
    ):
        row = rows.setdefault(value, BreakdownRow(value, Containment(turns={outcome: 0 for outcome in OUTCOMES})))
        row.tickets += 1
        if answered:
            first_responses[value].append(calendar.business_hours_between(opened, answered))
    for value, hours in first_responses.items():
        rows[value].first_response_median = median(hours)
    return sorted(rows.values(), key=lambda row: (-row.containment.conversations, -row.tickets, row.value))


# --- everything on the page --------------------------------------------------------------

@dataclass
class Report:
    period: Period
    containment: Containment
    per_day: List[DayCount]
    times: List[DurationStats]
    backlog: Backlog
    topics: List[TopicCount]
    unanswered: List[MessageCount]
    satisfaction: List[TopicFeedback]
    channels: List[BreakdownRow]
    languages: List[BreakdownRow]
    channel_choices: List[str] = field(default_factory=list)


def channels_seen(session: Session) -> List[str]:
    seen = set(session.scalars(select(AssistantTurn.channel).distinct())) | set(session.scalars(select(Ticket.channel).distinct()))
    return sorted(seen)


def build_report(session: Session, period: Period, calendar: BusinessCalendar, now: Optional[datetime] = None) -> Report:
    return Report(
        period=period,
        containment=containment(session, period),
        per_day=escalations_per_day(session, period),
        times=response_times(session, period, calendar),
        backlog=backlog(session, period, now),
        topics=top_topics(session, period),
        unanswered=top_unanswered(session, period),
        satisfaction=satisfaction(session, period),
        channels=breakdown(session, period, "channel", calendar),
        languages=breakdown(session, period, "language", calendar),
        channel_choices=channels_seen(session),
    )
