"""Update notices: users ask to be told when a topic's rules change ("Avvisami se cambia");
when a supervisor publishes an edit marked "the rules changed", each subscriber gets a short
notice through the outbox, at most one a day per user.

Subscriptions are personal data, kept in their own tables keyed by channel + address
(`update_subscriptions`, `update_notices`): `erase` removes everything about one user, for the
privacy features to call. The rules (notice text, delivery time) are pure functions.

A widget user may give an e-mail address, with explicit consent, to get the notices by e-mail
(`set_email`): each e-mail carries an unsubscribe link signed with the desk's secret
(`UnsubscribeLinks`, itsdangerous) that cancels that subscription. Cancelling, by any means,
forgets the address at once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Optional

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from desk.models import KnowledgeEntry, OutboundMessage, UpdateNotice, UpdateSubscription
from desk.models.base import utcnow
from desk.services import knowledge, outbox

NOTICE_GAP = timedelta(days=1)
NOTICE_LINES = 3
EMAIL_CHANNEL = "email"  # delivered by the e-mail channel's own deliverer
UNSUBSCRIBE_SALT = "dialoga-update-unsubscribe"
UNSUBSCRIBE_PATH = "/avvisi/annulla/"

NOTICE_TEXTS = {
    "it": "Sono cambiate le regole di un argomento che segui: {title}\n\n{lines}\n\nFonte: {source}\n\n"
          "Per la risposta completa chiedimi di nuovo «{title}». Per smettere di ricevere avvisi scrivi /avvisi.",
    "en": "The rules of a topic you follow have changed: {title}\n\n{lines}\n\nSource: {source}\n\n"
          "For the full answer ask me again about \"{title}\". To stop these notices write /avvisi.",
}

# By e-mail: the template adds the greeting, the unsubscribe link and why the user gets it.
EMAIL_NOTICE_TEXTS = {
    "it": "{lines}\n\nFonte: {source}",
    "en": "{lines}\n\nSource: {source}",
}


class InvalidEmail(ValueError):
    pass


# ---- rules ---------------------------------------------------------------------------

def notice_text(title: str, answer_text: str, source: str, source_url: str, language: str,
                by_email: bool = False) -> str:
    """The notice: the topic, the new answer's first lines and its source."""
    lines = [line for line in answer_text.splitlines() if line.strip()][:NOTICE_LINES]
    where = source + (f" — {source_url}" if source_url else "")
    texts = EMAIL_NOTICE_TEXTS if by_email else NOTICE_TEXTS
    return texts.get(language, texts["it"]).format(title=title, lines="\n".join(lines), source=where)


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


def set_email(session: Session, channel: str, address: str, email: str, consent: bool,
              now: Optional[datetime] = None) -> int:
    """The user's e-mail for the notices of every active subscription of this chat, given with
    explicit consent (without it nothing is stored). Returns how many subscriptions it covers."""
    if not consent:
        return 0
    address_checked = checked_email(email)
    subscriptions = active(session, channel, address)
    for subscription in subscriptions:
        subscription.email = address_checked
        subscription.consented_at = now or utcnow()
    session.flush()
    return len(subscriptions)


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
            cancel_subscription(subscription, now)
            cancelled += 1
    session.flush()
    return cancelled


def cancel_subscription(subscription: UpdateSubscription, now: Optional[datetime] = None) -> None:
    """Cancelled: no more notices, and the e-mail address (if any) is forgotten at once."""
    subscription.cancelled_at = subscription.cancelled_at or now or utcnow()
    subscription.email = None


@dataclass(frozen=True)
class UnsubscribeLinks:
    """The link in every notice e-mail that cancels its subscription: the subscription's id and
    e-mail signed with the desk's secret (a salt of its own). It does not expire, since notices
    may come years later, and it can only cancel: a token that is forged, or names a subscription
    that is gone or has another address, does nothing."""

    secret_key: str

    @property
    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret_key, salt=UNSUBSCRIBE_SALT)

    def token_for(self, subscription: UpdateSubscription) -> str:
        return self._serializer.dumps([subscription.id, subscription.email])

    def url_for(self, public_url: str, subscription: UpdateSubscription) -> str:
        return f"{public_url.rstrip('/')}{UNSUBSCRIBE_PATH}{self.token_for(subscription)}"

    def subscription_for(self, session: Session, token: str) -> Optional[UpdateSubscription]:
        try:
            subscription_id, email = self._serializer.loads(token)
        except (BadSignature, ValueError, TypeError):
            return None
        subscription = session.get(UpdateSubscription, subscription_id) if isinstance(subscription_id, int) else None
        if subscription is None or not email or subscription.email != email:
            return None
        return subscription


def chats_of_email(session: Session, email: str) -> List[tuple]:
    """The (channel, address) of the subscriptions that send notices to this e-mail address."""
    return [tuple(row) for row in session.execute(
        select(UpdateSubscription.channel, UpdateSubscription.address).distinct().where(
            func.lower(UpdateSubscription.email) == email.strip().lower())).all()]


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
    """The last notice to this recipient: a chat, or an e-mail address (which several widget
    visits may share), as the outbox addressed it."""
    return session.scalar(select(func.max(UpdateNotice.deliver_after))
                          .join(OutboundMessage, OutboundMessage.id == UpdateNotice.outbound_message_id)
                          .where(OutboundMessage.channel == channel, OutboundMessage.address == address))


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
    reached = set()  # one notice per recipient for one change (an e-mail may follow several visits)
    subscriptions = session.scalars(select(UpdateSubscription).where(
        UpdateSubscription.topic == entry.topic, UpdateSubscription.cancelled_at.is_(None))
        .order_by(UpdateSubscription.id)).all()
    for subscription in subscriptions:
        channel, address = ((EMAIL_CHANNEL, subscription.email) if subscription.email
                            else (subscription.channel, subscription.address))
        if (channel, address.lower()) in reached:
            continue
        reached.add((channel, address.lower()))
        answer = knowledge.answer_for(session, entry.topic, subscription.language)
        body = notice_text(answer.title, answer.text, answer.source, answer.source_url, subscription.language,
                           by_email=channel == EMAIL_CHANNEL)
        deliver_at = next_delivery(_last_notice_at(session, channel, address), now)
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
