"""A person's data: find everything about them, export it (right of access, GDPR art. 15) and
erase it (art. 17), across every table that can hold it and the assistant's tracker store.

A person is named by the contact they left (e-mail, phone), a Telegram chat id or a widget
conversation id (identities.py). From there the search follows their tickets to every
conversation id and reply address they used, and from those to logged turns, ratings, outbox
messages, stored Telegram updates, update-notice subscriptions (also found by the e-mail address
given for them) and the learning loop's material holding their words.
Every search, export and erasure is audited with a keyed hash of the identity."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from sqlalchemy import delete, func, or_, select, tuple_
from sqlalchemy.orm import Session

from desk.db import lock_for_writing
from desk.models import (AnswerFeedback, AssistantTurn, CheckEvent, Clarification, KnowledgeDraft, LearningDecision, OutboundMessage,
                         PrivacyRequest, TelegramUpdate, Ticket, TicketAttachment, TicketEvent, UpdateSubscription)
from desk.models.base import utcnow
from desk.services import update_notices
from desk.services.learning import learned_examples_matching, remove_learned_examples, text_key
from desk.services.privacy.identities import Identity, IdentityKind, telegram_parties, texts_match
from desk.services.privacy.retention import identity_hash, pseudonym
from desk.services.privacy.tracker_store import SqlTrackerStore

REMOVED_TITLE = "(titolo rimosso su richiesta dell'interessato)"


@dataclass
class Footprint:
    """Everything found about one person."""

    identity: Identity
    tickets: List[Ticket] = field(default_factory=list)
    events: List[TicketEvent] = field(default_factory=list)
    attachments: List[TicketAttachment] = field(default_factory=list)
    turns: List[AssistantTurn] = field(default_factory=list)
    feedback: List[AnswerFeedback] = field(default_factory=list)
    check_events: List[CheckEvent] = field(default_factory=list)  # guided checks started/completed
    outbox: List[OutboundMessage] = field(default_factory=list)
    telegram_updates: List[TelegramUpdate] = field(default_factory=list)
    subscriptions: List[UpdateSubscription] = field(default_factory=list)  # update notices
    learning_decisions: List[LearningDecision] = field(default_factory=list)
    drafts: List[KnowledgeDraft] = field(default_factory=list)
    sender_ids: Set[str] = field(default_factory=set)  # the assistant's conversation ids
    addresses: Set[Tuple[str, str]] = field(default_factory=set)  # (channel, reply address)
    texts: Set[str] = field(default_factory=set)  # what the person wrote
    tracker_events: List[Dict[str, Any]] = field(default_factory=list)
    # Examples labelled into the training data (data/nlu/<lang>/learned.yml): (language, intent, example).
    training_examples: List[Tuple[str, str, str]] = field(default_factory=list)

    def counts(self) -> Dict[str, int]:
        return {
            "tickets": len(self.tickets), "ticket_events": len(self.events), "attachments": len(self.attachments),
            "assistant_turns": len(self.turns), "feedback": len(self.feedback), "check_events": len(self.check_events), "outbox": len(self.outbox),
            "telegram_updates": len(self.telegram_updates), "update_subscriptions": len(self.subscriptions),
            "learning_decisions": len(self.learning_decisions),
            "knowledge_drafts": len(self.drafts), "tracker_events": len(self.tracker_events),
            "training_examples": len(self.training_examples),
        }

    @property
    def empty(self) -> bool:
        return not any(self.counts().values())


def find(session: Session, identity: Identity, secret: str,
         tracker_store: Optional[SqlTrackerStore] = None, nlu_dir: Optional[Path] = None) -> Footprint:
    footprint = Footprint(identity)
    footprint.tickets = _tickets_of(session, identity)
    ticket_ids = [ticket.id for ticket in footprint.tickets]
    footprint.sender_ids = set(identity.sender_ids) | {t.conversation_id for t in footprint.tickets if t.conversation_id}
    addresses: Set[Tuple[str, str]] = {(t.channel, t.reply_address) for t in footprint.tickets if t.reply_address}
    if identity.channel_address:
        addresses.add(identity.channel_address)
    if identity.kind is IdentityKind.CONTACT and "@" in identity.value:
        # Chats whose update notices go to this e-mail address, and the notices' e-mails.
        for channel, address in update_notices.chats_of_email(session, identity.value):
            addresses.add((channel, address))
        addresses.update((update_notices.EMAIL_CHANNEL, email) for email in session.scalars(
            select(UpdateSubscription.email).distinct().where(func.lower(UpdateSubscription.email) == identity.value.strip().lower())))
    if ticket_ids:
        footprint.events = list(session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids)).order_by(TicketEvent.created_at, TicketEvent.id)))
        footprint.attachments = list(session.scalars(
            select(TicketAttachment).where(TicketAttachment.ticket_id.in_(ticket_ids)).order_by(TicketAttachment.id)))
    conversation_ids = footprint.sender_ids | {pseudonym(secret, sender) for sender in footprint.sender_ids}
    if conversation_ids:
        footprint.turns = list(session.scalars(
            select(AssistantTurn).where(AssistantTurn.conversation_id.in_(sorted(conversation_ids))).order_by(AssistantTurn.id)))
        footprint.feedback = list(session.scalars(
            select(AnswerFeedback).where(AnswerFeedback.conversation_id.in_(sorted(conversation_ids))).order_by(AnswerFeedback.id)))
        footprint.check_events = list(session.scalars(
            select(CheckEvent).where(CheckEvent.conversation_id.in_(sorted(conversation_ids))).order_by(CheckEvent.id)))
    outbox_conditions = []
    if ticket_ids:
        outbox_conditions.append(OutboundMessage.ticket_id.in_(ticket_ids))
    footprint.addresses = addresses
    if addresses:
        outbox_conditions.append(tuple_(OutboundMessage.channel, OutboundMessage.address).in_(sorted(addresses)))
    if outbox_conditions:
        footprint.outbox = list(session.scalars(select(OutboundMessage).where(or_(*outbox_conditions)).order_by(OutboundMessage.id)))
    if addresses:
        footprint.subscriptions = list(session.scalars(select(UpdateSubscription).where(
            tuple_(UpdateSubscription.channel, UpdateSubscription.address).in_(sorted(addresses))).order_by(UpdateSubscription.id)))
    chat_ids = {address for channel, address in addresses if channel == "telegram"}
    if chat_ids:
        # Stored updates are few (kept days, not months): their JSON is read here, not searched in SQL.
        footprint.telegram_updates = [
            update for update in session.scalars(select(TelegramUpdate).order_by(TelegramUpdate.update_id))
            if telegram_parties(update.payload) & chat_ids
        ]
    footprint.texts = _texts_of(footprint)
    footprint.learning_decisions = _decisions_with(session, footprint.texts)
    footprint.drafts = [
        draft for draft in session.scalars(select(KnowledgeDraft).order_by(KnowledgeDraft.id))
        if texts_match(draft.title, footprint.texts)
        or any(texts_match(example, footprint.texts) for example in draft.question_examples or [])
    ]
    if tracker_store is not None:
        footprint.tracker_events = tracker_store.events_of(footprint.sender_ids)
    if nlu_dir is not None:
        footprint.training_examples = learned_examples_matching(nlu_dir, footprint.texts)
    return footprint


def _tickets_of(session: Session, identity: Identity) -> List[Ticket]:
    if identity.kind is IdentityKind.CONTACT:
        condition = func.lower(Ticket.contact) == identity.value.lower()
    else:
        channel, address = identity.channel_address
        sender = next(iter(identity.sender_ids))
        condition = or_((Ticket.channel == channel) & (Ticket.reply_address == address), Ticket.conversation_id == sender)
    return list(session.scalars(select(Ticket).where(condition).order_by(Ticket.created_at, Ticket.id)))


def _texts_of(footprint: Footprint) -> Set[str]:
    texts: Set[str] = set()
    for ticket in footprint.tickets:
        texts.add(ticket.question)
        texts.update(line.get("text") or "" for line in ticket.transcript or [] if line.get("who") == "user")
    texts.update(event.body or "" for event in footprint.events if event.actor == "user")
    texts.update(turn.text for turn in footprint.turns)
    return {text for text in texts if text and text.strip()}


def _decisions_with(session: Session, texts: Iterable[str]) -> List[LearningDecision]:
    keys = sorted({text_key(text) for text in texts})
    found: List[LearningDecision] = []
    for start in range(0, len(keys), 500):
        found.extend(session.scalars(select(LearningDecision).where(LearningDecision.text_key.in_(keys[start:start + 500]))))
    return found


# --- export ------------------------------------------------------------------------------

def export(footprint: Footprint, now: Optional[datetime] = None) -> Dict[str, Any]:
    """The person's data as JSON-ready values: a copy for them (right of access)."""
    events_by_ticket: Dict[int, List[TicketEvent]] = {}
    for event in footprint.events:
        events_by_ticket.setdefault(event.ticket_id, []).append(event)
    files_by_ticket: Dict[int, List[TicketAttachment]] = {}
    for attachment in footprint.attachments:
        files_by_ticket.setdefault(attachment.ticket_id, []).append(attachment)
    return {
        "generated_at": _iso(now or utcnow()),
        "identity": {"kind": footprint.identity.kind.value, "value": footprint.identity.value},
        "tickets": [
            {
                **_columns(ticket, exclude={"id"}),
                "events": [_columns(event, exclude={"id", "ticket_id"}) for event in events_by_ticket.get(ticket.id, [])],
                "attachments": [
                    {**_columns(attachment, exclude={"id", "ticket_id", "event_id", "data"}),
                     "sha256": hashlib.sha256(attachment.data).hexdigest(),
                     "content_base64": base64.b64encode(attachment.data).decode("ascii")}
                    for attachment in files_by_ticket.get(ticket.id, [])
                ],
            }
            for ticket in footprint.tickets
        ],
        "assistant_turns": [_columns(turn, exclude={"id"}) for turn in footprint.turns],
        "feedback": [_columns(item, exclude={"id"}) for item in footprint.feedback],
        "outbox": [_columns(message, exclude={"id", "ticket_id", "event_id"}) for message in footprint.outbox],
        "telegram_updates": [_columns(update, exclude={"id"}) for update in footprint.telegram_updates],
        "update_subscriptions": [_columns(item, exclude={"id"}) for item in footprint.subscriptions],
        "learning_decisions": [_columns(decision, exclude={"id", "draft_id", "text_key"}) for decision in footprint.learning_decisions],
        "knowledge_drafts": [_columns(draft, exclude={"id"}) for draft in footprint.drafts],
        "assistant_memory": footprint.tracker_events,
        "training_examples": [{"language": language, "intent": intent, "example": example}
                              for language, intent, example in footprint.training_examples],
    }


def _columns(row, exclude: Set[str] = frozenset()) -> Dict[str, Any]:
    return {column.key: _json_value(getattr(row, column.key)) for column in row.__table__.columns if column.key not in exclude}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


# --- erasure -----------------------------------------------------------------------------

def erase(session: Session, footprint: Footprint, tracker_store: Optional[SqlTrackerStore] = None,
          nlu_dir: Optional[Path] = None) -> Dict[str, int]:
    """Delete everything found; learning drafts lose the person's examples (the draft stays), and
    so does the training data. Returns the counts erased."""
    lock_for_writing(session)
    counts = footprint.counts()
    ticket_ids = [ticket.id for ticket in footprint.tickets]
    _delete_ids(session, OutboundMessage, [message.id for message in footprint.outbox])
    _delete_ids(session, TicketAttachment, [attachment.id for attachment in footprint.attachments])
    _delete_ids(session, TicketEvent, [event.id for event in footprint.events])
    _delete_ids(session, Ticket, ticket_ids)
    turn_ids = [turn.id for turn in footprint.turns]
    for start in range(0, len(turn_ids), 500):  # clarifications of those turns (their conversation ids)
        session.execute(delete(Clarification).where(Clarification.turn_id.in_(turn_ids[start:start + 500]))
                        .execution_options(synchronize_session=False))
    _delete_ids(session, AssistantTurn, turn_ids)
    _delete_ids(session, AnswerFeedback, [item.id for item in footprint.feedback])
    _delete_ids(session, CheckEvent, [item.id for item in footprint.check_events])
    for channel, address in sorted(footprint.addresses):  # topic update subscriptions and their notices
        update_notices.erase(session, channel, address)
    _delete_ids(session, TelegramUpdate, [update.id for update in footprint.telegram_updates])
    _delete_ids(session, LearningDecision, [decision.id for decision in footprint.learning_decisions])
    for draft in footprint.drafts:
        draft.question_examples = [example for example in draft.question_examples or []
                                   if not texts_match(example, footprint.texts)]
        if texts_match(draft.title, footprint.texts):
            draft.title = REMOVED_TITLE
        draft.updated_at = utcnow()
    if tracker_store is not None:
        counts["tracker_events"] = tracker_store.delete_conversations(footprint.sender_ids)
    if nlu_dir is not None and footprint.training_examples:
        counts["training_examples"] = remove_learned_examples(nlu_dir, footprint.texts)
    session.flush()
    session.expunge_all()  # the footprint's objects are gone: nothing may flush them back
    return counts


def _delete_ids(session: Session, model, ids: List[int]) -> None:
    for start in range(0, len(ids), 500):
        session.execute(delete(model).where(model.id.in_(ids[start:start + 500])).execution_options(synchronize_session=False))


# --- audit -------------------------------------------------------------------------------

def audit(session: Session, action: str, actor: str, identity: Identity, secret: str,
          counts: Dict[str, int], note: str = "") -> PrivacyRequest:
    request = PrivacyRequest(
        action=action, actor=actor[:200], identity_kind=identity.kind.value,
        identity_hash=identity_hash(secret, identity.kind.value, identity.value), counts=counts, note=note[:2000],
    )
    session.add(request)
    session.flush()
    return request


def recent_requests(session: Session, limit: int = 50) -> List[PrivacyRequest]:
    return list(session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.created_at.desc(), PrivacyRequest.id.desc()).limit(limit)))
