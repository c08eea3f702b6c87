"""What to do with a message the intent classifier is unsure about: answer a topic, ask
which of a few topics is meant (a clarification), or say it cannot answer and offer a person.

A pure function of the classifier's intent ranking and the thresholds below: no database,
no Rasa. The thresholds live here and only here (`Thresholds`); each can be overridden by
an environment variable (`DIALOGA_CLARIFY_*`, see README "Clarification") so that they can
be tuned without a code change.

The intent classifier (classifiers/intent_classifier.py) applies the answer rule first: a
topic, or a guided check, ranked first without the confidence to act on it becomes
`nlu_fallback` (`needs_fallback`); Rasa's FallbackClassifier (config.yml) does the same for the
other intents. `decide` then chooses between a clarification and the offer of a person, and never
answers a topic the answer rule did not accept. `first_turn` is the whole chain, for the
evaluation tools. The default thresholds were chosen out of fold on the training data
(eval/calibration.py, README "Clarification"), not on the development set."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any, Collection, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from desk.services.checks import CHECKS

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
# Never more than this many topic buttons (the contract's limit).
CONTRACT_MAX_TOPICS = 3


@dataclass(frozen=True)
class Thresholds:
    """Every number the decision uses (confidences are the classifier's probabilities, 0..1).
    Chosen with `python -m eval.calibration --grid`: out-of-fold wrong-topic answers about 1.5%,
    two-turn accuracy as high as the out-of-scope recall allows."""

    # Answer directly only when the most likely topic has at least this confidence...
    answer_min_confidence: float = 0.35
    # ...and leads the next intent by at least this much.
    answer_min_margin: float = 0.3
    # A topic is offered in a clarification only with at least this confidence.
    candidate_min_confidence: float = 0.05
    # At most this many topics are offered (capped at the contract's 3).
    max_candidates: int = 3
    # The offered topics together must carry at least this much confidence; otherwise the
    # message is too far from every topic and the user is offered a person instead.
    min_combined_confidence: float = 0.15
    # An unsure message whose out-of-scope reading has at least this share of the most likely
    # topic's confidence is offered a person, not a clarification (a question outside the
    # topics that merely shares words with one).
    out_of_scope_ratio: float = 0.4

    ENV_PREFIX = "DIALOGA_CLARIFY_"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Thresholds":
        """The defaults above, each overridable by DIALOGA_CLARIFY_<NAME IN CAPITALS>,
        e.g. DIALOGA_CLARIFY_CANDIDATE_MIN_CONFIDENCE=0.1."""
        values = {}
        for item in fields(cls):
            raw = environ.get(cls.ENV_PREFIX + item.name.upper())
            if raw not in (None, ""):
                values[item.name] = int(raw) if item.type in (int, "int") else float(raw)
        return cls(**values)

    @property
    def topic_limit(self) -> int:
        return max(1, min(self.max_candidates, CONTRACT_MAX_TOPICS))


@dataclass(frozen=True)
class Answer:
    topic: str


@dataclass(frozen=True)
class Clarify:
    topics: Tuple[str, ...]  # most likely first, 1 to 3


@dataclass(frozen=True)
class Offer:
    """Cannot answer: say so and offer a person."""


Decision = Union[Answer, Clarify, Offer]


def ranked(ranking: Iterable[Mapping[str, Any]]) -> List[Tuple[str, float]]:
    """(intent, confidence) pairs, most likely first, each intent once, without Rasa's
    nlu_fallback entry."""
    best: dict = {}
    for item in ranking or []:
        name, confidence = item.get("name"), float(item.get("confidence") or 0.0)
        if name and name != FALLBACK_INTENT and confidence > best.get(name, -1.0):
            best[str(name)] = confidence
    return sorted(best.items(), key=lambda pair: -pair[1])


def is_guided_check(intent: str) -> bool:
    """check_<id> starts a guided check about a topic (check_ticket_status is not one)."""
    return intent.startswith("check_") and intent != "check_ticket_status"


def topic_of_check(intent: str) -> Optional[str]:
    """The topic a guided check's intent calculates (check_fringe_benefit -> fringe_benefit_soglie)."""
    module = CHECKS.get(intent[len("check_"):]) if is_guided_check(intent) else None
    return module.TOPIC if module is not None else None


def settled(ranking: Sequence[Mapping[str, Any]], topics: Collection[str], thresholds: Thresholds) -> List[Dict[str, Any]]:
    """The ranking with a topic and its own guided check taken as one subject when they are the
    two most likely intents ("what is the nursery bonus" sits between explaining it and working
    it out): they share their confidence, which goes to the check only when the check leads by
    the answer margin, and to the topic otherwise (its answer offers the check's button). Any
    other ranking comes back as `ranked` reads it (most likely first, without nlu_fallback)."""
    pairs = ranked(ranking)
    if len(pairs) >= 2:
        (first, p_first), (second, p_second) = pairs[0], pairs[1]
        check, topic = (first, second) if is_guided_check(first) else (second, first)
        if topic in topics and topic_of_check(check) == topic:
            keep = check if check == first and p_first - p_second >= thresholds.answer_min_margin else topic
            pairs = [(keep, p_first + p_second)] + pairs[2:]
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def confident(pairs: Sequence[Tuple[str, float]], thresholds: Thresholds) -> bool:
    """The most likely intent is sure enough to act on without asking."""
    if not pairs:
        return False
    runner_up = pairs[1][1] if len(pairs) > 1 else 0.0
    return pairs[0][1] >= thresholds.answer_min_confidence and pairs[0][1] - runner_up >= thresholds.answer_min_margin


def decide(ranking: Sequence[Mapping[str, Any]], topics: Collection[str], thresholds: Thresholds = Thresholds()) -> Decision:
    """Answer(topic) | Clarify(topics) | Offer() for an intent ranking (Rasa's
    `intent_ranking`: [{"name", "confidence"}, ...]); `topics` are the topic intents.

    A guided check ranked first but unsure competes with the topics: the topics are offered."""
    pairs = ranked(ranking)
    if not pairs or (pairs[0][0] not in topics and not is_guided_check(pairs[0][0])):
        return Offer()  # out of scope (or a non-topic intent) is the most likely reading
    if pairs[0][0] in topics and confident(pairs, thresholds):
        return Answer(pairs[0][0])
    candidates = [
        (intent, confidence) for intent, confidence in pairs
        if intent in topics and confidence >= thresholds.candidate_min_confidence
    ][:thresholds.topic_limit]
    if not candidates or sum(confidence for _, confidence in candidates) < thresholds.min_combined_confidence:
        return Offer()
    out_of_scope = dict(pairs).get(OUT_OF_SCOPE_INTENT, 0.0)
    if out_of_scope >= thresholds.out_of_scope_ratio * candidates[0][1]:
        return Offer()
    return Clarify(tuple(intent for intent, _ in candidates))


def needs_fallback(ranking: Sequence[Mapping[str, Any]], topics: Collection[str], thresholds: Thresholds) -> bool:
    """Whether the intent classifier should hand a message to the fallback (`nlu_fallback`):
    a topic or a guided check ranked first without the confidence to answer it directly.
    Other intents (greetings, out of scope...) are left to Rasa's FallbackClassifier."""
    pairs = ranked(ranking)
    if not pairs or confident(pairs, thresholds):
        return False
    if pairs[0][0] in topics:
        return True
    # An unsure guided check gives way only to topics worth offering (each topic's answer has the
    # button that starts its check); otherwise the check's rule decides, as for other intents.
    return is_guided_check(pairs[0][0]) and isinstance(decide(ranking, topics, thresholds), Clarify)


def first_turn(ranking: Sequence[Mapping[str, Any]], topics: Collection[str], thresholds: Thresholds,
               fallback: Tuple[float, float] = (0.35, 0.1)) -> Union[Decision, str]:
    """What the assistant does with a first message, from the classifier's ranking: the intent
    classifier's `needs_fallback`, Rasa's FallbackClassifier (`fallback` = its threshold and
    ambiguity threshold, config.yml), then `decide`. Returns a Decision, or the name of a
    non-topic intent the assistant acts on (a greeting, a guided check...); out of scope is Offer()."""
    ranking = settled(ranking, topics, thresholds)
    pairs = ranked(ranking)
    if not pairs:
        return Offer()
    if needs_fallback(ranking, topics, thresholds):
        return decide(ranking, topics, thresholds)
    top, confidence = pairs[0]
    runner_up = pairs[1][1] if len(pairs) > 1 else 0.0
    if confidence < fallback[0] or confidence - runner_up < fallback[1]:
        return decide(ranking, topics, thresholds)
    if top in topics:
        return Answer(top)
    return Offer() if top == OUT_OF_SCOPE_INTENT else top
