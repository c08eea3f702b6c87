"""The outbox's e-mails, sent by `dialoga worker`.

A round first marks "unconfirmed" the e-mails a stopped worker left "sending" past their lease,
and queues e-mail copies of widget replies left unread too long (for tickets with an e-mail
contact), then sends every due e-mail, one at a time. Each is recorded as being sent
(outbox.claim_for_sending, committed) before the SMTP conversation starts, so no other worker
takes it and a worker that dies before recording the outcome never sends it again: never twice
automatically, as on Telegram. The outcome (bot/email/smtp.py) is "sent" after the server's
final 250, "failed" on a permanent refusal, a retry when the server did not take the message
(4xx, down, a connection lost before it answered 354 to DATA), and "unconfirmed" when the
content went out but the final reply never came.

Update notices by e-mail (no ticket) are written from their subscription: one whose
subscription was cancelled or erased meanwhile is not sent (failed, with the reason)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Union

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


@dataclass
class DeliveryRound:
    unread_copies: int = 0
    sent: List[int] = field(default_factory=list)
    retried: List[int] = field(default_factory=list)
    failed: List[int] = field(default_factory=list)
    unconfirmed: List[int] = field(default_factory=list)
    # Left "sending" by a worker that stopped, found at the start of the round.
    interrupted: List[int] = field(default_factory=list)


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

    def reconcile(self) -> List[int]:
        with self.database.session() as session:
            return outbox.reconcile_interrupted(session, EMAIL_CHANNEL)

    def take_next(self) -> Union[OutgoingEmail, NoticeEmail, int, None]:
        """The next due e-mail, recorded as being sent (committed before the SMTP conversation);
        the id of one dropped instead (a cancelled notice, failed); None when nothing is due."""
        with self.database.session() as session:
            row = outbox.claim_for_sending(session, EMAIL_CHANNEL, lease_seconds=self.server.send_lease())
            if row is None:
                return None
            if row.ticket_id is None:
                notice = self._notice(session, row)
                return row.id if notice is None else notice
            return self._outgoing(session, row)

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
        """Up to `limit` due e-mails, taken one at a time: a lease only ever covers one send."""
        done = DeliveryRound(interrupted=self.reconcile())
        if done.interrupted:
            log.warning("outbox e-mails %s were being sent by a worker that stopped: unconfirmed", done.interrupted)
        done.unread_copies = self.queue_unread_copies()
        for _ in range(limit):
            email = self.take_next()
            if email is None:
                break
            if isinstance(email, int):
                done.failed.append(email)
                continue
            outcome = self.send(self.server, compose(email, self.sender))
            self.record(email.id, outcome)
            {"sent": done.sent, "retry": done.retried, "failed": done.failed,
             "unconfirmed": done.unconfirmed}[outcome.status].append(email.id)
            if outcome.status != "sent":
                log.warning("outbox e-mail %s: %s (%s)", email.id, outcome.status, outcome.error)
        return done
