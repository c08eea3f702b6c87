"""The retention purge: find what the rules (retention.py) say is due, anonymise or delete it,
and audit the run. `plan` only reads, so a dry run, the desk's page and the real run count
the same rows.

Tickets keep their status, channel, language, topics and dates, and logged turns their outcome,
topic, channel, language and time: the reports (desk/services/reports.py) give the same counts
for a purged period."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from desk.db import Database, lock_for_writing
from desk.models import (AnswerFeedback, AssistantTurn, CheckEvent, Clarification, KnowledgeDraft, LearningDecision, OutboundMessage, PrivacyRun, TelegramUpdate, Ticket,
                         TicketAttachment, TicketEvent, UpdateNotice, UpdateSubscription)
from desk.models.base import utcnow
from desk.services.privacy import lease
from desk.services.privacy.identities import texts_match
from desk.services.privacy.retention import (ACTIVE_TICKET_STATUSES, UNDELIVERED_OUTBOX_STATUSES, DataKind,
                                             RetentionPolicy, attachment_is_due, conversation_is_due,
                                             outbox_message_is_due, pseudonym, purge_is_due, subscription_is_due,
                                             telegram_update_is_due, ticket_is_due, turn_text_is_due)
from desk.services.privacy.tracker_store import SqlTrackerStore

log = logging.getLogger(__name__)
CHUNK = 500
PURGE_LEASE = "privacy-purge"
LEASE_DURATION = timedelta(hours=1)


@dataclass
class PurgePlan:
    """What is due now, by row id (conversations by their real id)."""

    now: datetime
    cutoffs: Dict[DataKind, datetime]
    tickets: List[int] = field(default_factory=list)
    attachments: List[int] = field(default_factory=list)
    conversations: List[str] = field(default_factory=list)
    message_texts: List[int] = field(default_factory=list)  # logged turns
    learning_decisions: List[int] = field(default_factory=list)  # their sample texts
    learning_drafts: List[int] = field(default_factory=list)  # their question examples
    outbox: List[int] = field(default_factory=list)
    telegram_updates: List[int] = field(default_factory=list)
    subscriptions: List[int] = field(default_factory=list)  # cancelled update-notice subscriptions
    tracker_events: int = 0

    def counts(self) -> Dict[str, int]:
        return {
            DataKind.TICKETS.value: len(self.tickets),
            DataKind.ATTACHMENTS.value: len(self.attachments),
            DataKind.CONVERSATIONS.value: len(self.conversations),
            DataKind.MESSAGE_TEXTS.value: len(self.message_texts) + len(self.learning_decisions) + len(self.learning_drafts),
            DataKind.OUTBOX.value: len(self.outbox),
            DataKind.TELEGRAM_UPDATES.value: len(self.telegram_updates),
            DataKind.TRACKER_EVENTS.value: self.tracker_events,
            DataKind.UPDATE_SUBSCRIPTIONS.value: len(self.subscriptions),
        }


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    dry_run: bool
    counts: Dict[str, int]
    cutoffs: Dict[str, str]


def chunks(values: Sequence, size: int = CHUNK) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


# --- what is due -------------------------------------------------------------------------

def plan(session: Session, policy: RetentionPolicy, now: Optional[datetime] = None,
         tracker_store: Optional[SqlTrackerStore] = None) -> PurgePlan:
    now = now or utcnow()
    cutoffs = policy.cutoffs(now)
    result = PurgePlan(now=now, cutoffs=cutoffs)
    result.tickets = _due_tickets(session, cutoffs[DataKind.TICKETS])
    result.attachments = _due_attachments(session, cutoffs[DataKind.ATTACHMENTS], result.tickets)
    result.conversations = _due_conversations(session, cutoffs[DataKind.CONVERSATIONS])
    result.message_texts = _due_texts(session, cutoffs[DataKind.MESSAGE_TEXTS], cutoffs[DataKind.CONVERSATIONS])
    result.learning_decisions, result.learning_drafts = _due_learning_texts(session, cutoffs[DataKind.MESSAGE_TEXTS])
    result.outbox = _due_outbox(session, cutoffs[DataKind.OUTBOX], result.tickets)
    cutoff = cutoffs[DataKind.TELEGRAM_UPDATES]
    result.telegram_updates = [
        row.id for row in session.execute(
            select(TelegramUpdate.id, TelegramUpdate.received_at).where(TelegramUpdate.received_at < cutoff))
        if telegram_update_is_due(row.received_at, cutoff)
    ]
    cutoff = cutoffs[DataKind.UPDATE_SUBSCRIPTIONS]
    result.subscriptions = [
        row.id for row in session.execute(
            select(UpdateSubscription.id, UpdateSubscription.cancelled_at).where(UpdateSubscription.cancelled_at < cutoff))
        if subscription_is_due(row.cancelled_at, cutoff)
    ]
    if tracker_store is not None:
        result.tracker_events = tracker_store.count_before(cutoffs[DataKind.TRACKER_EVENTS])
    return result


def _due_tickets(session: Session, cutoff: datetime) -> List[int]:
    rows = session.execute(
        select(Ticket.id, Ticket.status, Ticket.updated_at, Ticket.anonymised_at).where(
            Ticket.anonymised_at.is_(None), Ticket.updated_at < cutoff,
            Ticket.status.notin_(sorted(ACTIVE_TICKET_STATUSES)),
        ).order_by(Ticket.id)
    )
    return [row.id for row in rows if ticket_is_due(row.status, row.updated_at, row.anonymised_at, cutoff)]


def _due_attachments(session: Session, cutoff: datetime, due_tickets: Iterable[int]) -> List[int]:
    found: Set[int] = set()
    for row in session.execute(
        select(TicketAttachment.id, TicketAttachment.created_at, Ticket.status)
        .join(Ticket, Ticket.id == TicketAttachment.ticket_id).where(TicketAttachment.created_at < cutoff)
    ):
        if attachment_is_due(row.status, row.created_at, cutoff):
            found.add(row.id)
    for ids in chunks(due_tickets):  # a ticket being anonymised loses its files whatever their age
        found.update(session.scalars(select(TicketAttachment.id).where(TicketAttachment.ticket_id.in_(ids))))
    return sorted(found)


def _due_conversations(session: Session, cutoff: datetime) -> List[str]:
    found: Set[str] = set()
    for model in (AssistantTurn, AnswerFeedback):
        for conversation_id, oldest in session.execute(
            select(model.conversation_id, func.min(model.created_at))
            .where(model.pseudonymised_at.is_(None), model.created_at < cutoff).group_by(model.conversation_id)
        ):
            if conversation_is_due(conversation_id, oldest, None, cutoff):
                found.add(conversation_id)
    return sorted(found)


def _due_texts(session: Session, text_cutoff: datetime, conversation_cutoff: datetime) -> List[int]:
    """Turns whose text goes: older than the texts' retention, or than the conversations' one
    (whichever is shorter, i.e. the later cut-off)."""
    cutoff = max(text_cutoff, conversation_cutoff)
    return [
        row.id for row in session.execute(
            select(AssistantTurn.id, AssistantTurn.text, AssistantTurn.created_at)
            .where(AssistantTurn.created_at < cutoff, AssistantTurn.text != "").order_by(AssistantTurn.id))
        if turn_text_is_due(row.text, row.created_at, cutoff)
    ]


def _due_learning_texts(session: Session, cutoff: datetime):
    """The learning loop's copies of users' words: a decision's sample text, a draft's examples."""
    decisions = [
        row.id for row in session.execute(
            select(LearningDecision.id, LearningDecision.sample_text, LearningDecision.created_at)
            .where(LearningDecision.created_at < cutoff, LearningDecision.sample_text != "").order_by(LearningDecision.id))
        if turn_text_is_due(row.sample_text, row.created_at, cutoff)
    ]
    drafts = [
        draft.id for draft in session.scalars(
            select(KnowledgeDraft).where(KnowledgeDraft.updated_at < cutoff).order_by(KnowledgeDraft.id))
        if draft.question_examples and turn_text_is_due("\n".join(draft.question_examples), draft.updated_at, cutoff)
    ]
    return decisions, drafts


def _due_outbox(session: Session, cutoff: datetime, due_tickets: Iterable[int]) -> List[int]:
    found = {
        row.id for row in session.execute(
            select(OutboundMessage.id, OutboundMessage.status, OutboundMessage.created_at, OutboundMessage.body,
                   OutboundMessage.address)
            .where(OutboundMessage.created_at < cutoff,
                   OutboundMessage.status.notin_(sorted(UNDELIVERED_OUTBOX_STATUSES))))
        if outbox_message_is_due(row.status, row.created_at, row.body, row.address, cutoff)
    }
    for ids in chunks(due_tickets):  # an anonymised ticket's messages are deleted with it
        found.update(session.scalars(select(OutboundMessage.id).where(OutboundMessage.ticket_id.in_(ids))))
    return sorted(found)


# --- doing it ----------------------------------------------------------------------------

def execute(session: Session, due: PurgePlan, secret: str, tracker_store: Optional[SqlTrackerStore] = None) -> Dict[str, int]:
    """Anonymise and delete what `due` lists; returns the counts per kind."""
    lock_for_writing(session)
    for ids in chunks(due.attachments):
        event_ids = [event_id for event_id in session.scalars(
            select(TicketAttachment.event_id).where(TicketAttachment.id.in_(ids))) if event_id is not None]
        session.execute(delete(TicketAttachment).where(TicketAttachment.id.in_(ids)))
        # The attachment's event in the history names the file and carries the caption.
        for event_chunk in chunks(event_ids):
            session.execute(update(TicketEvent).where(TicketEvent.id.in_(event_chunk)).values(body=None))
    for ids in chunks(due.tickets):
        session.execute(delete(OutboundMessage).where(OutboundMessage.ticket_id.in_(ids)))
        session.execute(update(TicketEvent).where(TicketEvent.ticket_id.in_(ids)).values(body=None))
        for ticket in session.scalars(select(Ticket).where(Ticket.id.in_(ids))):
            anonymise_ticket(ticket, secret, due.now)
    for ids in chunks(due.outbox):
        session.execute(
            update(OutboundMessage).where(OutboundMessage.id.in_(ids)).values(body="", address="", last_error=None)
            .execution_options(synchronize_session=False))
    for conversation_id in due.conversations:
        alias = pseudonym(secret, conversation_id)
        for model in (AssistantTurn, AnswerFeedback):
            session.execute(
                update(model).where(model.conversation_id == conversation_id, model.pseudonymised_at.is_(None))
                .values(conversation_id=alias, pseudonymised_at=due.now).execution_options(synchronize_session=False))
        # A rating's idempotency key is a hash of the conversation id: it goes with it.
        session.execute(
            update(AnswerFeedback).where(AnswerFeedback.conversation_id == alias, AnswerFeedback.message_key.isnot(None))
            .values(message_key=None).execution_options(synchronize_session=False))
        # Clarifications and guided-check counts of the conversation: the same pseudonym.
        for model in (Clarification, CheckEvent):
            session.execute(
                update(model).where(model.conversation_id == conversation_id)
                .values(conversation_id=alias).execution_options(synchronize_session=False))
    for ids in chunks(due.message_texts):
        session.execute(update(AssistantTurn).where(AssistantTurn.id.in_(ids)).values(text="")
                        .execution_options(synchronize_session=False))
    for ids in chunks(due.learning_decisions):
        session.execute(update(LearningDecision).where(LearningDecision.id.in_(ids)).values(sample_text="")
                        .execution_options(synchronize_session=False))
    for ids in chunks(due.learning_drafts):
        for draft in session.scalars(select(KnowledgeDraft).where(KnowledgeDraft.id.in_(ids))):
            if texts_match(draft.title, draft.question_examples):
                draft.title = f"Bozza n. {draft.id}"
            draft.question_examples = []
    for ids in chunks(due.telegram_updates):
        session.execute(delete(TelegramUpdate).where(TelegramUpdate.id.in_(ids)))
    for ids in chunks(due.subscriptions):
        session.execute(delete(UpdateNotice).where(UpdateNotice.subscription_id.in_(ids)))
        session.execute(delete(UpdateSubscription).where(UpdateSubscription.id.in_(ids)))
    counts = due.counts()
    if tracker_store is not None:
        counts[DataKind.TRACKER_EVENTS.value] = tracker_store.delete_before(due.cutoffs[DataKind.TRACKER_EVENTS])
    session.flush()
    return counts


def anonymise_ticket(ticket: Ticket, secret: str, now: datetime) -> None:
    """Keep what the reports read (status, channel, language, role, contact kind, topics, dates)."""
    ticket.name = ""
    ticket.contact = ""
    ticket.company_name = ""
    ticket.company_size = None
    ticket.company_artisan = None
    ticket.question = ""
    ticket.transcript = []
    ticket.reply_address = ""
    ticket.conversation_id = pseudonym(secret, ticket.conversation_id) if ticket.conversation_id else ""
    ticket.intake_key = None
    ticket.anonymised_at = now


# --- audited runs ------------------------------------------------------------------------

def run_purge(database: Database, policy: RetentionPolicy, secret: str, actor: str, dry_run: bool = False,
              now: Optional[datetime] = None, tracker_store: Optional[SqlTrackerStore] = None) -> RunSummary:
    """One audited run: a row in privacy_runs says who ran it, when, with which cut-offs and
    what it anonymised or deleted (or, for a dry run, would have)."""
    now = now or utcnow()
    cutoffs = {kind.value: moment.isoformat(timespec="seconds") for kind, moment in policy.cutoffs(now).items()}
    with database.session() as session:
        run = PrivacyRun(actor=actor[:200], dry_run=dry_run, status="running", cutoffs=cutoffs, counts={},
                         started_at=now)
        session.add(run)
        session.flush()
        run_id = run.id
    try:
        with database.session() as session:
            due = plan(session, policy, now, tracker_store)
            counts = due.counts() if dry_run else execute(session, due, secret, tracker_store)
    except Exception as error:
        with database.session() as session:
            session.execute(update(PrivacyRun).where(PrivacyRun.id == run_id).values(
                status="failed", error=f"{type(error).__name__}: {error}"[:2000], finished_at=utcnow()))
        raise
    with database.session() as session:
        session.execute(update(PrivacyRun).where(PrivacyRun.id == run_id).values(
            status="done", counts=counts, finished_at=utcnow()))
    log.info("privacy purge %s by %s%s: %s", run_id, actor, " (dry run)" if dry_run else "", counts)
    return RunSummary(run_id, dry_run, counts, cutoffs)


def last_purge_at(session: Session) -> Optional[datetime]:
    """When the last real (not dry) run that finished started."""
    return session.scalar(
        select(func.max(PrivacyRun.started_at)).where(PrivacyRun.dry_run.is_(False), PrivacyRun.status == "done"))


def purge_if_due(database: Database, policy: RetentionPolicy, secret: str, holder: str,
                 now: Optional[datetime] = None, tracker_store: Optional[SqlTrackerStore] = None) -> Optional[RunSummary]:
    """The worker's daily purge, once per cluster: only the holder of the purge lease runs it,
    and only when the last run is a day old."""
    now = now or utcnow()
    with database.session() as session:  # a read first: most rounds of most workers stop here
        if not purge_is_due(last_purge_at(session), now):
            return None
    with database.session() as session:
        if not lease.acquire(session, PURGE_LEASE, holder, LEASE_DURATION, now):
            return None
    try:
        with database.session() as session:  # again under the lease: another worker may just have run it
            if not purge_is_due(last_purge_at(session), now):
                return None
        return run_purge(database, policy, secret, "worker", now=now, tracker_store=tracker_store)
    finally:
        with database.session() as session:
            lease.release(session, PURGE_LEASE, holder)


def recent_runs(session: Session, limit: int = 50) -> List[PrivacyRun]:
    return list(session.scalars(select(PrivacyRun).order_by(PrivacyRun.started_at.desc(), PrivacyRun.id.desc()).limit(limit)))


def open_tracker_store(settings) -> Optional[SqlTrackerStore]:
    url = settings.privacy.tracker_store_url
    return SqlTrackerStore(url) if url else None
