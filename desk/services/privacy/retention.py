"""Retention rules: how long each kind of personal data is kept, and which rows are due.

Pure functions and values only, no database: desk.services.privacy.purge reads the candidate
rows and applies these rules, so that what the notice says, what the desk's page shows and
what the purge does come from one place."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Dict, Iterable, Mapping, Optional, Tuple

# Tickets still waiting for the desk are never purged, however old.
ACTIVE_TICKET_STATUSES = frozenset({"open", "in_progress", "waiting_on_user"})
# Outbox messages still to be delivered are never purged.
UNDELIVERED_OUTBOX_STATUSES = frozenset({"queued", "sending"})
# How often the worker runs the purge.
PURGE_INTERVAL = timedelta(hours=24)
PSEUDONYM_PREFIX = "pseudonimo-"


class DataKind(str, Enum):
    TICKETS = "tickets"
    ATTACHMENTS = "attachments"
    CONVERSATIONS = "conversations"
    MESSAGE_TEXTS = "message_texts"
    OUTBOX = "outbox"
    TELEGRAM_UPDATES = "telegram_updates"
    TRACKER_EVENTS = "tracker_events"
    UPDATE_SUBSCRIPTIONS = "update_subscriptions"


@dataclass(frozen=True)
class RetentionRule:
    kind: DataKind
    env: str  # the environment variable setting the days
    default_days: int
    label: str  # Italian, for the desk and the notice
    what_happens: str  # Italian, for the desk and the notice
    label_en: str
    what_happens_en: str


RULES: Tuple[RetentionRule, ...] = (
    RetentionRule(
        DataKind.TICKETS, "DIALOGA_RETENTION_TICKETS_DAYS", 365,
        "Richieste a un operatore risolte o chiuse (dal loro ultimo aggiornamento)",
        "anonimizzate: nome, contatto, impresa, domanda, conversazione, risposte e note cancellati, "
        "indirizzo di risposta sostituito da uno pseudonimo; restano stato, canale, lingua, argomento e date per i report",
        "Requests for an operator, resolved or closed (from their last update)",
        "anonymised: name, contact, firm, question, conversation, replies and notes deleted; "
        "status, channel, language, topic and dates stay for the reports",
    ),
    RetentionRule(
        DataKind.ATTACHMENTS, "DIALOGA_RETENTION_ATTACHMENTS_DAYS", 90,
        "File inviati a una richiesta non più in lavorazione",
        "cancellati, con il loro nome",
        "Files sent to a request no longer being handled",
        "deleted, with their name",
    ),
    RetentionRule(
        DataKind.CONVERSATIONS, "DIALOGA_RETENTION_CONVERSATIONS_DAYS", 180,
        "Registro delle conversazioni con l'assistente (statistiche e valutazioni)",
        "l'identificativo della conversazione (es. la chat Telegram) è sostituito da uno pseudonimo e il testo "
        "cancellato; restano esito, argomento, canale, lingua e ora per i report",
        "Log of conversations with the assistant (statistics and ratings)",
        "the conversation id (e.g. the Telegram chat) is replaced by a pseudonym and the text deleted; "
        "outcome, topic, channel, language and time stay for the reports",
    ),
    RetentionRule(
        DataKind.MESSAGE_TEXTS, "DIALOGA_RETENTION_UNANSWERED_TEXT_DAYS", 90,
        "Testo dei messaggi scritti all'assistente (anche quelli senza risposta, usati per migliorarlo, "
        "e le loro copie negli esempi delle bozze della base di conoscenza)",
        "cancellato; i conteggi restano",
        "Text of messages written to the assistant (also the unanswered ones, used to improve it, "
        "and their copies among the examples of knowledge-base drafts)",
        "deleted; the counts stay",
    ),
    RetentionRule(
        DataKind.OUTBOX, "DIALOGA_RETENTION_OUTBOX_DAYS", 30,
        "Coda dei messaggi inviati agli utenti (Telegram e chat del sito), già consegnati o non consegnabili",
        "testo e indirizzo cancellati; resta l'esito della consegna",
        "Queue of messages sent to users (Telegram and the web chat), delivered or undeliverable",
        "text and address deleted; the delivery outcome stays",
    ),
    RetentionRule(
        DataKind.TELEGRAM_UPDATES, "DIALOGA_RETENTION_TELEGRAM_UPDATES_DAYS", 7,
        "Messaggi Telegram ricevuti dal webhook",
        "cancellati",
        "Telegram messages received by the webhook",
        "deleted",
    ),
    RetentionRule(
        DataKind.TRACKER_EVENTS, "DIALOGA_RETENTION_CONVERSATIONS_DAYS", 180,
        "Memoria delle conversazioni dell'assistente (archivio SQL di Rasa, se configurato)",
        "cancellata",
        "The assistant's memory of conversations (Rasa's SQL tracker store, when configured)",
        "deleted",
    ),
    RetentionRule(
        DataKind.UPDATE_SUBSCRIPTIONS, "DIALOGA_RETENTION_CANCELLED_SUBSCRIPTIONS_DAYS", 30,
        "Iscrizioni annullate agli avvisi di aggiornamento («Avvisami se cambia»; l'e-mail è già cancellata "
        "all'annullamento)",
        "cancellate, con l'elenco degli avvisi inviati",
        "Cancelled subscriptions to update notices (\"Notify me if it changes\"; the e-mail is already deleted "
        "when cancelled)",
        "deleted, with the list of notices sent",
    ),
)
RULE_BY_KIND: Dict[DataKind, RetentionRule] = {rule.kind: rule for rule in RULES}


@dataclass(frozen=True)
class RetentionPolicy:
    """Days each kind of data is kept."""

    days: Mapping[DataKind, int]

    @classmethod
    def defaults(cls) -> "RetentionPolicy":
        return cls({rule.kind: rule.default_days for rule in RULES})

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "RetentionPolicy":
        days = {}
        for rule in RULES:
            raw = (environ.get(rule.env) or "").strip()
            value = int(raw) if raw else rule.default_days
            if value < 1:
                raise ValueError(f"{rule.env} must be at least 1 day, not {value}")
            days[rule.kind] = value
        return cls(days)

    @classmethod
    def from_pairs(cls, pairs: Iterable[Tuple[str, int]]) -> "RetentionPolicy":
        days = dict(cls.defaults().days)
        days.update({DataKind(kind): int(value) for kind, value in pairs})
        return cls(days)

    def as_pairs(self) -> Tuple[Tuple[str, int], ...]:
        return tuple((kind.value, days) for kind, days in self.days.items())

    def cutoff(self, kind: DataKind, now: datetime) -> datetime:
        """Rows of this kind from before this moment (naive UTC) are due."""
        return now - timedelta(days=self.days[kind])

    def cutoffs(self, now: datetime) -> Dict[DataKind, datetime]:
        return {rule.kind: self.cutoff(rule.kind, now) for rule in RULES}


# --- which rows are due ------------------------------------------------------------------

def ticket_is_due(status: str, updated_at: datetime, anonymised_at: Optional[datetime], cutoff: datetime) -> bool:
    """A ticket the desk no longer works on, untouched since before the cut-off, not yet anonymised."""
    return anonymised_at is None and status not in ACTIVE_TICKET_STATUSES and updated_at < cutoff


def attachment_is_due(ticket_status: str, created_at: datetime, cutoff: datetime) -> bool:
    """A file of a ticket no longer being handled, sent before the cut-off."""
    return ticket_status not in ACTIVE_TICKET_STATUSES and created_at < cutoff


def turn_text_is_due(text: str, created_at: datetime, cutoff: datetime) -> bool:
    return bool(text) and created_at < cutoff


def conversation_is_due(conversation_id: str, created_at: datetime, pseudonymised_at: Optional[datetime],
                        cutoff: datetime) -> bool:
    """A logged turn or rating still under its conversation's real id, from before the cut-off.
    The purge then gives the whole conversation its pseudonym, so that the reports still count
    it once whatever period they cover."""
    return pseudonymised_at is None and bool(conversation_id) and created_at < cutoff


def outbox_message_is_due(status: str, created_at: datetime, body: str, address: str, cutoff: datetime) -> bool:
    return status not in UNDELIVERED_OUTBOX_STATUSES and (bool(body) or bool(address)) and created_at < cutoff


def subscription_is_due(cancelled_at: Optional[datetime], cutoff: datetime) -> bool:
    """Active subscriptions stay while the user wants them (they cancel with /avvisi or the e-mail's link)."""
    return cancelled_at is not None and cancelled_at < cutoff


def telegram_update_is_due(received_at: datetime, cutoff: datetime) -> bool:
    return received_at < cutoff


def epoch_seconds(moment_utc: datetime) -> float:
    """A naive UTC time as Rasa's tracker store keeps event times: seconds since the epoch."""
    return moment_utc.replace(tzinfo=timezone.utc).timestamp()


def purge_is_due(last_purge_at: Optional[datetime], now: datetime, interval: timedelta = PURGE_INTERVAL) -> bool:
    return last_purge_at is None or now - last_purge_at >= interval


# --- pseudonyms and identity hashes ------------------------------------------------------

def pseudonym(secret: str, conversation_id: str) -> str:
    """A stable stand-in for a conversation id: the same id always gives the same pseudonym, so
    counts per conversation stay right, and only someone holding the desk's secret key can check
    whether a given id is behind it (erasure does, to find a person's pseudonymous turns)."""
    digest = hmac.new(secret.encode("utf-8"), b"conversation:" + conversation_id.encode("utf-8"), hashlib.sha256)
    return PSEUDONYM_PREFIX + digest.hexdigest()[:32]


def identity_hash(secret: str, kind: str, value: str) -> str:
    """What the audit of access and erasure requests stores instead of the identity itself."""
    digest = hmac.new(secret.encode("utf-8"), f"identity:{kind}:{value}".encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()
