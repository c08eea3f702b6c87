"""The outbox's e-mails, sent by `dialoga worker`.

A round first queues e-mail copies of widget replies left unread too long (for tickets with
an e-mail contact), then sends every due e-mail. Each is claimed with the outbox's lease
(row locks skipped on PostgreSQL, the write lock on SQLite), so that several workers never
send the same e-mail; it is marked sent only after the SMTP server accepted it.

Update notices by e-mail (no ticket) are written from their subscription: one whose
subscription was cancelled or erased meanwhile is not sent (failed, with the reason)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple, Union

from sqlalchemy import select

from bot.email.message import NoticeEmail, OutgoingEmail, Sender, compose
from bot.email.smtp import Outcome, SmtpServer, send
from desk.config import Settings
from desk.db import Database
from desk.models import OutboundKind, OutboundMessage, Ticket, UpdateNotice, UpdateSubscription
from desk.services import knowledge, outbox
from desk.services.update_notices import UnsubscribeLinks
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

    def claim_due(self, limit: int) -> List[Union[OutgoingEmail, NoticeEmail]]:
        return self._claim(limit)[0]

    def _claim(self, limit: int) -> Tuple[List[Union[OutgoingEmail, NoticeEmail]], List[int]]:
        """The claimed e-mails to send, and the ids of those dropped (a cancelled notice)."""
        with self.database.session() as session:
            rows = outbox.claim_due(session, EMAIL_CHANNEL, limit=limit, lease_seconds=LEASE_SECONDS)
            outgoing, dropped = [], []
            for row in rows:
                if row.ticket_id is None:
                    notice = self._notice(session, row)
                    if notice is None:
                        dropped.append(row.id)
                    else:
                        outgoing.append(notice)
                    continue
                outgoing.append(self._outgoing(session, row))
            return outgoing, dropped

    def _notice(self, session, row: OutboundMessage) -> Optional[NoticeEmail]:
        """An update notice, while its subscription still wants it by e-mail at this address."""
        found = session.execute(
            select(UpdateNotice, UpdateSubscription)
            .join(UpdateSubscription, UpdateSubscription.id == UpdateNotice.subscription_id)
            .where(UpdateNotice.outbound_message_id == row.id)).first()
        if row.kind != OutboundKind.UPDATE_NOTICE.value or found is None:
            outbox.mark_failed(session, row, "e-mail without a ticket or a subscription")
            return None
        notice, subscription = found
        if subscription.cancelled_at is not None or subscription.email != row.address:
            outbox.mark_failed(session, row, "subscription cancelled before delivery")
            return None
        entry = knowledge.find_entry(session, notice.topic)
        title = entry.title(row.language) if entry is not None else notice.topic
        return NoticeEmail(
            id=row.id, language=row.language, address=row.address, title=title, body=row.body,
            unsubscribe_url=UnsubscribeLinks(self.settings.secret_key).url_for(self.settings.public_url, subscription),
        )

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
            claimed, dropped = self._claim(1)
            done.failed.extend(dropped)
            if not claimed:
                if dropped:
                    continue
                break
            email = claimed[0]
            outcome = self.send(self.server, compose(email, self.sender))
            self.record(email.id, outcome)
            {"sent": done.sent, "retry": done.retried, "failed": done.failed}[outcome.status].append(email.id)
            if outcome.status != "sent":
                log.warning("outbox e-mail %s: %s (%s)", email.id, outcome.status, outcome.error)
        return done
