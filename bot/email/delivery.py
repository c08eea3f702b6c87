"""The outbox's e-mails, sent by `dialoga worker`.

A round first queues e-mail copies of widget replies left unread too long (for tickets with
an e-mail contact), then sends every due e-mail. Each is claimed with the outbox's lease
(row locks skipped on PostgreSQL, the write lock on SQLite), so that several workers never
send the same e-mail; it is marked sent only after the SMTP server accepted it."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, List

from bot.email.message import OutgoingEmail, Sender, compose
from bot.email.smtp import Outcome, SmtpServer, send
from desk.config import Settings
from desk.db import Database
from desk.models import OutboundMessage, Ticket
from desk.services import outbox
from desk.services.email_routing import EMAIL_CHANNEL
from desk.services.follow_up import FollowUpLinks

log = logging.getLogger(__name__)

# Longer than a slow SMTP conversation (smtp_timeout per step), so no second worker takes it meanwhile.
LEASE_SECONDS = 300


@dataclass
class DeliveryRound:
    unread_copies: int = 0
    sent: List[int] = field(default_factory=list)
    retried: List[int] = field(default_factory=list)
    failed: List[int] = field(default_factory=list)


@dataclass(frozen=True)
class EmailDelivery:
    database: Database
    settings: Settings
    server: SmtpServer
    send: Callable = send

    @classmethod
    def from_settings(cls, database: Database, settings: Settings) -> "EmailDelivery":
        return cls(database, settings, SmtpServer.from_settings(settings))

    @property
    def sender(self) -> Sender:
        reply_to = self.settings.email_reply_to or self.settings.email_from
        return Sender(self.settings.email_from, reply_to, self.settings.follow_up_link_days)

    @property
    def links(self) -> FollowUpLinks:
        return FollowUpLinks(self.settings.secret_key, self.settings.follow_up_link_days)

    def queue_unread_copies(self) -> int:
        with self.database.session() as session:
            return outbox.email_unread_widget_messages(session, self.settings.email_after_unread_minutes)

    def claim_due(self, limit: int) -> List[OutgoingEmail]:
        with self.database.session() as session:
            rows = outbox.claim_due(session, EMAIL_CHANNEL, limit=limit, lease_seconds=LEASE_SECONDS)
            outgoing = []
            for row in rows:
                if row.ticket_id is None:
                    # Topic update notices by e-mail have no template yet (no ticket: no reference,
                    # no follow-up page): failed visibly rather than sent half-formed.
                    outbox.mark_failed(session, row, "e-mail without a ticket: not supported yet")
                    continue
                outgoing.append(self._outgoing(session, row))
            return outgoing

    def _outgoing(self, session, row: OutboundMessage) -> OutgoingEmail:
        ticket = session.get(Ticket, row.ticket_id)
        return OutgoingEmail(
            id=row.id, ref=ticket.ref, name=ticket.name, kind=row.kind, language=row.language,
            address=row.address, body=row.body,
            follow_up_url=self.links.url_for(self.settings.public_url, ticket),
            first_email_id=outbox.first_email_id(session, ticket.id),
        )

    def record(self, message_id: int, outcome: Outcome) -> None:
        with self.database.session() as session:
            outbox.record_outcome(session, message_id, outcome.status, outcome.error)

    def run_round(self, limit: int = 50) -> DeliveryRound:
        """Up to `limit` due e-mails, claimed one at a time: a lease only ever covers one send."""
        done = DeliveryRound(unread_copies=self.queue_unread_copies())
        for _ in range(limit):
            claimed = self.claim_due(1)
            if not claimed:
                break
            email = claimed[0]
            outcome = self.send(self.server, compose(email, self.sender))
            self.record(email.id, outcome)
            {"sent": done.sent, "retry": done.retried, "failed": done.failed}[outcome.status].append(email.id)
            if outcome.status != "sent":
                log.warning("outbox e-mail %s: %s (%s)", email.id, outcome.status, outcome.error)
        return done
