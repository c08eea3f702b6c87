"""The desk's Prometheus metrics (GET /metrics), computed from the database at each scrape, so
every desk process gives the same figures. `exposition` writes Prometheus' text format
(version 0.0.4) and is a pure function; `collect` reads the database."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, Iterable, List, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk.models import AnswerFeedback, AssistantTurn, Clarification, OutboundMessage, Ticket
from desk.models.outbox import DeliveryStatus
from desk.models.tickets import TicketStatus

ACTIVE_STATUSES = (TicketStatus.OPEN.value, TicketStatus.IN_PROGRESS.value, TicketStatus.WAITING_ON_USER.value)

Labels = Tuple[Tuple[str, str], ...]


@dataclass
class Metric:
    name: str
    kind: str  # "counter" or "gauge"
    help: str
    samples: List[Tuple[Labels, float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> "Metric":
        self.samples.append((tuple(sorted(labels.items())), value))
        return self


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def exposition(metrics: Iterable[Metric]) -> str:
    lines: List[str] = []
    for metric in metrics:
        lines.append(f"# HELP {metric.name} {metric.help.replace(chr(92), chr(92) * 2).replace(chr(10), ' ')}")
        lines.append(f"# TYPE {metric.name} {metric.kind}")
        for labels, value in metric.samples:
            rendered = ",".join(f'{key}="{_escape_label(str(val))}"' for key, val in labels)
            lines.append(f"{metric.name}{{{rendered}}} {_number(value)}" if labels else f"{metric.name} {_number(value)}")
    return "\n".join(lines) + "\n"


def collect(session: Session, now: datetime, topics: Iterable[str],
            user_messages_by_intent: Optional[Dict[str, int]] = None) -> List[Metric]:
    """The figures; user_messages_by_intent comes from Rasa's tracker store when the desk has it."""
    metrics: List[Metric] = []
    if user_messages_by_intent is not None:
        messages = Metric("dialoga_messages_total", "counter", "User messages the assistants received (tracker store).")
        metrics.append(messages.add(sum(user_messages_by_intent.values())))
        answers = Metric("dialoga_answers_total", "counter",
                         "User messages understood as a topic of the knowledge base, by topic (tracker store).")
        for topic in sorted(set(topics)):
            answers.add(user_messages_by_intent.get(topic, 0), topic=topic)
        metrics.append(answers)

    turns = Metric("dialoga_assistant_turns_total", "counter",
                   "Turns the assistant logged, by outcome (unanswered, escalated, clarified).")
    for outcome, count in session.execute(
        select(AssistantTurn.outcome, func.count()).group_by(AssistantTurn.outcome).order_by(AssistantTurn.outcome)
    ):
        turns.add(count, outcome=outcome)
    metrics.append(turns)

    clarifications = Metric("dialoga_clarifications_total", "counter", "Clarification questions asked.")
    metrics.append(clarifications.add(session.scalar(select(func.count()).select_from(Clarification)) or 0))

    escalations = Metric("dialoga_escalations_total", "counter", "Tickets opened, by channel.")
    tickets = Metric("dialoga_tickets", "gauge", "Tickets by status.")
    by_status: Dict[str, int] = {status.value: 0 for status in TicketStatus}
    by_channel: Dict[str, int] = {}
    for channel, status, count in session.execute(
        select(Ticket.channel, Ticket.status, func.count()).group_by(Ticket.channel, Ticket.status)
    ):
        by_status[status] = by_status.get(status, 0) + count
        by_channel[channel] = by_channel.get(channel, 0) + count
    for channel in sorted(by_channel):
        escalations.add(by_channel[channel], channel=channel)
    for status in sorted(by_status):
        tickets.add(by_status[status], status=status)
    metrics += [escalations, tickets]

    open_tickets = Metric("dialoga_tickets_open", "gauge", "Tickets waiting for the desk (open, in progress, waiting on the user).")
    metrics.append(open_tickets.add(sum(by_status.get(status, 0) for status in ACTIVE_STATUSES)))
    overdue = Metric("dialoga_tickets_overdue", "gauge", "Tickets waiting for the desk past their due time.")
    metrics.append(overdue.add(session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.status.in_(ACTIVE_STATUSES), Ticket.sla_due_at < now)
    ) or 0))

    failures = Metric("dialoga_delivery_failures_total", "counter", "Outbox messages that could not be delivered, by channel.")
    queued = Metric("dialoga_outbox_queued", "gauge", "Outbox messages waiting to be delivered, by channel.")
    unconfirmed = Metric("dialoga_delivery_unconfirmed_total", "counter",
                         "Outbox messages sent without an answer from the channel (they may not have arrived), by channel.")
    for channel, status, count in session.execute(
        select(OutboundMessage.channel, OutboundMessage.status, func.count())
        .group_by(OutboundMessage.channel, OutboundMessage.status)
        .order_by(OutboundMessage.channel)
    ):
        if status == DeliveryStatus.FAILED.value:
            failures.add(count, channel=channel)
        elif status == DeliveryStatus.QUEUED.value:
            queued.add(count, channel=channel)
        elif status == DeliveryStatus.UNCONFIRMED.value:
            unconfirmed.add(count, channel=channel)
    metrics += [failures, queued, unconfirmed]

    feedback = Metric("dialoga_answer_feedback_total", "counter", "Ratings of answers, helpful or not.")
    counts = dict(session.execute(select(AnswerFeedback.helpful, func.count()).group_by(AnswerFeedback.helpful)).all())
    feedback.add(counts.get(True, 0), helpful="true").add(counts.get(False, 0), helpful="false")
    metrics.append(feedback)
    return metrics
