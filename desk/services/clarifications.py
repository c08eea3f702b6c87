"""Clarifications: the assistant asked which of a few topics the user meant (see
desk/services/understanding.py for when). Each is recorded with the topics offered, then
with the user's choice on their next turn; a chosen topic waits for an operator in the
learning loop, who confirms it (the message becomes a training example of that topic
through the labelling path) or rejects it. Reports count them."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from desk.models import Clarification, ClarificationChoice, ClarificationReview
from desk.models.base import utcnow
from desk.services import analytics
from desk.services.periods import Period

CLARIFIED = "clarified"  # the outcome of the clarified turn
PERSON_INTENT = "request_human"


def record_offer(
    session: Session,
    conversation_id: str,
    text: str,
    language: str,
    offered: Sequence[str],
    channel: str = "rest",
    intent: Optional[str] = None,
    confidence: Optional[float] = None,
) -> Clarification:
    """The clarified message (a turn with outcome "clarified") and the topics offered."""
    turn = analytics.record_turn(
        session, conversation_id, CLARIFIED, text, language, channel=channel, intent=intent, confidence=confidence,
    )
    session.flush()
    clarification = Clarification(
        turn_id=turn.id, conversation_id=conversation_id, channel=channel, language=language, offered=list(offered),
    )
    session.add(clarification)
    return clarification


def choice_of(offered: Sequence[str], intent: Optional[str]) -> Tuple[ClarificationChoice, Optional[str]]:
    """What the user's next turn chose: an offered topic (button or words), a person, or neither."""
    if intent in offered:
        return ClarificationChoice.TOPIC, intent
    if intent == PERSON_INTENT:
        return ClarificationChoice.PERSON, None
    return ClarificationChoice.OTHER, None


def record_choice(
    session: Session, conversation_id: str, offered: Sequence[str], intent: Optional[str]
) -> Optional[Clarification]:
    """Record the choice on the conversation's latest clarification still waiting for one."""
    clarification = session.scalars(
        select(Clarification)
        .where(Clarification.conversation_id == conversation_id, Clarification.choice.is_(None))
        .order_by(Clarification.created_at.desc(), Clarification.id.desc())
        .limit(1)
    ).first()
    if clarification is None:
        return None
    choice, topic = choice_of(clarification.offered or offered, intent)
    clarification.choice, clarification.chosen_topic, clarification.chosen_at = choice.value, topic, utcnow()
    return clarification


# --- the learning loop's review ----------------------------------------------------------

def awaiting_review(session: Session, period: Period, limit: int = 100) -> List[Clarification]:
    """Messages whose user chose a topic, not yet confirmed or rejected by an operator."""
    start, end = period.bounds()
    query = (
        select(Clarification)
        .where(Clarification.choice == ClarificationChoice.TOPIC.value, Clarification.review.is_(None),
               Clarification.created_at >= start, Clarification.created_at < end)
        .order_by(Clarification.created_at.desc(), Clarification.id.desc())
        .limit(limit)
    )
    if period.channel:
        query = query.where(Clarification.channel == period.channel)
    if period.language:
        query = query.where(Clarification.language == period.language)
    return list(session.scalars(query))


def pending_choice(session: Session, clarification_id: int) -> Optional[Clarification]:
    clarification = session.get(Clarification, clarification_id)
    if clarification is None or clarification.choice != ClarificationChoice.TOPIC.value or clarification.review:
        return None
    return clarification


def review(session: Session, clarification: Clarification, verdict: ClarificationReview, actor: str) -> None:
    clarification.review, clarification.reviewed_by, clarification.reviewed_at = verdict.value, actor, utcnow()


# --- reports -----------------------------------------------------------------------------

NO_CHOICE = "none"  # the conversation ended without an answer to the clarification
CHOICE_ORDER = (ClarificationChoice.TOPIC.value, ClarificationChoice.PERSON.value,
                ClarificationChoice.OTHER.value, NO_CHOICE)


@dataclass(frozen=True)
class OfferedTopic:
    topic: str
    offered: int  # clarifications that offered it
    first: int  # of which as the most likely topic
    chosen: int  # clarifications where the user chose it


@dataclass(frozen=True)
class ClarificationSummary:
    total: int
    turns: int  # all user turns recorded in the period, for the share
    choices: Dict[str, int]  # CHOICE_ORDER -> count
    topics: List[OfferedTopic]  # most offered first


def _period_rows(session: Session, period: Period) -> List[Clarification]:
    start, end = period.bounds()
    conditions = [Clarification.created_at >= start, Clarification.created_at < end]
    if period.channel:
        conditions.append(Clarification.channel == period.channel)
    if period.language:
        conditions.append(Clarification.language == period.language)
    return list(session.scalars(select(Clarification).where(and_(*conditions))))


def summary(session: Session, period: Period, turn_count: int) -> ClarificationSummary:
    rows = _period_rows(session, period)
    choices = Counter(row.choice or NO_CHOICE for row in rows)
    offered: Counter = Counter()
    first: Counter = Counter()
    chosen: Counter = Counter()
    for row in rows:
        topics = list(row.offered or [])
        offered.update(topics)
        if topics:
            first[topics[0]] += 1
        if row.chosen_topic:
            chosen[row.chosen_topic] += 1
    topics = [OfferedTopic(topic, count, first[topic], chosen[topic]) for topic, count in offered.items()]
    return ClarificationSummary(
        total=len(rows), turns=turn_count, choices={choice: choices.get(choice, 0) for choice in CHOICE_ORDER},
        topics=sorted(topics, key=lambda item: (-item.offered, -item.chosen, item.topic)),
    )

