"""Update notices: users ask to be told when a topic's rules change ("Avvisami se cambia");
when a supervisor publishes an edit marked "the rules changed", each subscriber gets a short
notice through the outbox, at most one a day per user.

Subscriptions are personal data, kept in their own tables keyed by channel + address
(`update_subscriptions`, `update_notices`): `erase` removes everything about one user, for the
privacy features to call. The rules (notice text, delivery time) are pure functions."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Optional

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from desk.models import KnowledgeEntry, UpdateNotice, UpdateSubscription
from desk.models.base import utcnow
from desk.services import knowledge, outbox

NOTICE_GAP = timedelta(days=1)
NOTICE_LINES = 3
EMAIL_CHANNEL = "email"  # delivered by the e-mail channel's own deliverer

NOTICE_TEXTS = {
    "it": "Sono cambiate le regole di un argomento che segui: {title}\n\n{lines}\n\nFonte: {source}\n\n"
          "Per la risposta completa chiedimi di nuovo «{title}». Per smettere di ricevere avvisi scrivi /avvisi.",
    "en": "The rules of a topic you follow have changed: {title}\n\n{lines}\n\nSource: {source}\n\n"
          "For the full answer ask me again about \"{title}\". To stop these notices write /avvisi.",
}


class InvalidEmail(ValueError):
    pass


# ---- rules ---------------------------------------------------------------------------

def notice_text(title: str, answer_text: str, source: str, source_url: str, language: str) -> str:
    """The notice: the topic, the new answer's first lines and its source."""
    lines = [line for line in answer_text.splitlines() if line.strip()][:NOTICE_LINES]
    where = source + (f" — {source_url}" if source_url else "")
    return NOTICE_TEXTS.get(language, NOTICE_TEXTS["it"]).format(title=title, lines="\n".join(lines), source=where)


def next_delivery(last_notice_at: Optional[datetime], now: datetime) -> datetime:
    """At most one notice a day per user: the next one waits a day after the last."""
    if last_notice_at is None:
        return now
    return max(now, last_notice_at + NOTICE_GAP)


def checked_email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidEmail(str(error)) from error


# ---- subscriptions -------------------------------------------------------------------

def subscribe(session: Session, channel: str, address: str, topic: str, language: str,
              email: Optional[str] = None, now: Optional[datetime] = None) -> UpdateSubscription:
    """Idempotent: asking twice keeps one subscription (a cancelled one comes back)."""
    now = now or utcnow()
    subscription = session.scalars(select(UpdateSubscription).where(
        UpdateSubscription.channel == channel, UpdateSubscription.address == address,
        UpdateSubscription.topic == topic)).first()
    if subscription is None:
        subscription = UpdateSubscription(channel=channel, address=address, topic=topic, created_at=now)
        session.add(subscription)
    subscription.language = language
    subscription.email = checked_email(email) if email else subscription.email
    subscription.consented_at = now
    subscription.cancelled_at = None
    session.flush()
    return subscription


def active(session: Session, channel: str, address: str) -> List[UpdateSubscription]:
    return list(session.scalars(select(UpdateSubscription).where(
        UpdateSubscription.channel == channel, UpdateSubscription.address == address,
        UpdateSubscription.cancelled_at.is_(None)).order_by(UpdateSubscription.topic)))


def cancel(session: Session, channel: str, address: str, topic: Optional[str] = None,
           now: Optional[datetime] = None) -> int:
    """Cancel one topic (or all); returns how many were cancelled."""
    cancelled = 0
    for subscription in active(session, channel, address):
        if topic is None or subscription.topic == topic:
            subscription.cancelled_at = now or utcnow()
            cancelled += 1
    session.flush()
    return cancelled


def erase(session: Session, channel: str, address: str) -> None:
    """Everything about one user's notices, for the right to erasure."""
    ids = select(UpdateSubscription.id).where(UpdateSubscription.channel == channel,
                                              UpdateSubscription.address == address)
    session.execute(delete(UpdateNotice).where(UpdateNotice.subscription_id.in_(ids))
                    .execution_options(synchronize_session="fetch"))
    session.execute(delete(UpdateSubscription).where(UpdateSubscription.channel == channel,
                                                     UpdateSubscription.address == address)
                    .execution_options(synchronize_session="fetch"))


# ---- notices -------------------------------------------------------------------------

def _last_notice_at(session: Session, channel: str, address: str) -> Optional[datetime]:
    return session.scalar(select(func.max(UpdateNotice.deliver_after)).where(
        UpdateNotice.channel == channel, UpdateNotice.address == address))


def publish_edit(session: Session, topic: str, changes: Dict[str, Any], author: str, based_on_version: int,
                 today: date, rules_changed: bool = False, **options: Any) -> KnowledgeEntry:
    """An operator's save (knowledge.edit_entry) and, when it is marked "the rules changed" and
    changed the entry, the notices to the topic's subscribers, in the same transaction."""
    saved = knowledge.edit_entry(session, topic, changes, author, based_on_version, today,
                                 rules_changed=rules_changed, **options)
    if rules_changed and saved.version != based_on_version:
        notify_subscribers(session, saved)
    return saved


def notify_subscribers(session: Session, entry: KnowledgeEntry, now: Optional[datetime] = None) -> List[UpdateNotice]:
    """Queue a notice for every active subscriber of the entry's topic, in the same transaction
    as the published edit. A notice goes to the chat it was asked in, or by e-mail when the
    user gave one; a user who had a notice in the last day gets this one a day after it."""

    now = now or utcnow()
    notices = []
    subscriptions = session.scalars(select(UpdateSubscription).where(
        UpdateSubscription.topic == entry.topic, UpdateSubscription.cancelled_at.is_(None))).all()
    for subscription in subscriptions:
        answer = knowledge.answer_for(session, entry.topic, subscription.language)
        body = notice_text(answer.title, answer.text, answer.source, answer.source_url, subscription.language)
        channel, address = ((EMAIL_CHANNEL, subscription.email) if subscription.email
                            else (subscription.channel, subscription.address))
        deliver_at = next_delivery(_last_notice_at(session, subscription.channel, subscription.address), now)
        message = outbox.enqueue_notice(session, channel, address, subscription.language, body, deliver_at, now=now)
        notice = UpdateNotice(subscription_id=subscription.id, topic=entry.topic, knowledge_version=entry.version,
                              channel=subscription.channel, address=subscription.address,
                              outbound_message_id=message.id, created_at=now, deliver_after=deliver_at)
        session.add(notice)
        session.flush()
        notices.append(notice)
    return notices


@dataclass(frozen=True)
class TopicCounts:
    topic: str
    subscriptions: int
    notices: int


def counts_per_topic(session: Session, since: Optional[datetime] = None, until: Optional[datetime] = None
                     ) -> List[TopicCounts]:
    """Active subscriptions now, and notices queued in [since, until), per topic."""
    subscriptions: Dict[str, int] = dict(session.execute(
        select(UpdateSubscription.topic, func.count()).where(UpdateSubscription.cancelled_at.is_(None))
        .group_by(UpdateSubscription.topic)).all())
    query = select(UpdateNotice.topic, func.count()).group_by(UpdateNotice.topic)
    if since is not None:
        query = query.where(UpdateNotice.created_at >= since)
    if until is not None:
        query = query.where(UpdateNotice.created_at < until)
    notices: Dict[str, int] = dict(session.execute(query).all())
    topics = sorted(set(subscriptions) | set(notices))
    return [TopicCounts(topic, subscriptions.get(topic, 0), notices.get(topic, 0)) for topic in topics]
