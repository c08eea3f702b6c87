"""The learning loop: what the assistant could not answer, grouped by similarity, and what
operators make of each group — training examples for a topic (data/nlu/<lang>/learned.yml,
read by the next training), a knowledge-base draft, or nothing (handled, ignored).

A decision is stored per distinct normalised message text, so a decided message never
comes back; a new wording of the same question does, as new material."""
from __future__ import annotations

import difflib
import fcntl
import hashlib
import os
import re
import tempfile
import unicodedata
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

import yaml
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk.models import AssistantTurn, Clarification, ClarificationChoice, DraftStatus, KnowledgeDraft, LearningDecision, LearningDecisionKind
from desk.models.base import utcnow
from desk.services.periods import Period
from desk.text import user_text
from desk.topics import load_topics

# Outcomes of turns the assistant could not answer itself.
UNANSWERED_OUTCOMES = ("unanswered", "escalated")
# A clarified turn (the assistant asked which topic was meant) counts as unanswered unless the
# user then chose one of the topics: that choice waits for review in its own list instead.
CLARIFIED_OUTCOME = "clarified"
LABELLABLE_OUTCOMES = UNANSWERED_OUTCOMES + (CLARIFIED_OUTCOME,)
# Turns that steer the conversation rather than ask something: "sì", "voglio un operatore",
# "annulla", a reference... They are recorded as escalated or unanswered but teach nothing.
CONTROL_INTENTS = frozenset({
    "greet", "goodbye", "thank", "help", "request_human", "affirm", "deny", "cancel",
    "feedback_helpful", "feedback_not_helpful", "check_ticket_status", "ticket_follow_up",
    "correct", "contact_here", "back_to_bot",
})
# Average-linkage cosine distance between character n-gram profiles under which messages
# count as the same question (tuned on reworded questions, see tests/test_learning.py).
DISTANCE_THRESHOLD = 0.6
MAX_MESSAGES_CLUSTERED = 1500
EXAMPLES_SHOWN = 5
LEARNED_FILE_NAME = "learned.yml"
LEARNED_HEADER = (
    "# Examples labelled by operators in the desk's learning loop (Domande senza risposta).\n"
    "# Written by desk/services/learning.py; the next training picks them up with the rest of data/nlu.\n"
)
MAX_EXAMPLE_LENGTH = 300

# Function words and question frames ("come funziona la ...", "how do I ...") carry no topic:
# left out of the similarity, so that "come funziona la naspi" and "come funziona il tfr"
# stay apart while "pensione anticipata come funziona" joins "come funziona la pensione anticipata".
FUNCTION_WORDS = frozenset("""
a ad al alla alle allo ai agli all anche avere c che chi ci come con cosa cui da dal dalla dei del della delle dello di
dove e ed fa fare faccio funziona gli ha hanno ho i il in io la le lo ma mi mio mia ne nel nella non o per perche posso
puo qual quale quali quando quanto quanti quante se si sono su sul sulla ti tu un una uno vorrei
the an and are can could do does for from how i in is it me my of on or please should that to what when where which
who why will with would you your
""".split())

_NOT_WORD = re.compile(r"[^\w]+|_")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces: "Perché?" and "perche" match."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", bare.lower())).strip()


def clustering_text(normalised: str) -> str:
    """The words that say what a message is about (all of them if none is left)."""
    content = [word for word in normalised.split() if word not in FUNCTION_WORDS]
    return " ".join(content) or normalised


def text_key(text: str) -> str:
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


@dataclass
class UnansweredMessage:
    """One distinct (normalised) message text, however many times it was sent."""

    key: str
    normalised: str
    text: str  # the latest original wording
    turn_id: int  # the latest turn with this text: the message's handle in forms
    language: str  # the latest turn's language
    count: int = 0
    last_seen: Optional[datetime] = None
    channels: Counter = field(default_factory=Counter)
    languages: Counter = field(default_factory=Counter)


@dataclass
class MessageGroup:
    messages: List[UnansweredMessage]  # most frequent first

    @property
    def count(self) -> int:
        return sum(message.count for message in self.messages)

    @property
    def last_seen(self) -> datetime:
        return max(message.last_seen for message in self.messages)

    @property
    def title(self) -> str:
        return self.messages[0].text

    @property
    def examples(self) -> List[UnansweredMessage]:
        return self.messages[:EXAMPLES_SHOWN]

    @property
    def turn_ids(self) -> List[int]:
        return [message.turn_id for message in self.messages]

    @property
    def languages(self) -> Counter:
        total: Counter = Counter()
        for message in self.messages:
            total.update(message.languages)
        return total


def is_learnable(turn) -> bool:
    """Whether a turn (or a row with its text and intent) asked something worth learning."""
    text = (turn.text or "").strip()
    return bool(text) and not text.startswith("/") and turn.intent not in CONTROL_INTENTS and bool(normalise(text))


def unanswered_messages(session: Session, period: Period, skip_decided: bool = True) -> List[UnansweredMessage]:
    """Distinct messages the assistant could not answer in the period, most frequent first."""
    start, end = period.bounds()
    query = (
        select(AssistantTurn.id, AssistantTurn.text, AssistantTurn.intent, AssistantTurn.language,
               AssistantTurn.channel, AssistantTurn.created_at)
        .outerjoin(Clarification, Clarification.turn_id == AssistantTurn.id)
        .where(or_(AssistantTurn.outcome.in_(UNANSWERED_OUTCOMES),
                   and_(AssistantTurn.outcome == CLARIFIED_OUTCOME,
                        or_(Clarification.choice.is_(None), Clarification.choice != ClarificationChoice.TOPIC.value))),
               AssistantTurn.created_at >= start, AssistantTurn.created_at < end)
        .order_by(AssistantTurn.created_at, AssistantTurn.id)
    )
    if period.channel:
        query = query.where(AssistantTurn.channel == period.channel)
    if period.language:
        query = query.where(AssistantTurn.language == period.language)
    messages: Dict[str, UnansweredMessage] = {}
    for turn in session.execute(query):
        if not is_learnable(turn):
            continue
        normalised = normalise(turn.text)
        key = text_key(turn.text)
        message = messages.get(key)
        if message is None:
            message = messages[key] = UnansweredMessage(key, normalised, turn.text, turn.id, turn.language)
        message.text, message.turn_id, message.language = turn.text, turn.id, turn.language  # the latest wins
        message.count += 1
        message.last_seen = turn.created_at
        message.channels[turn.channel] += 1
        message.languages[turn.language] += 1
    if skip_decided and messages:
        for decided in decided_keys(session, list(messages)):
            messages.pop(decided, None)
    return sorted(messages.values(), key=lambda m: (-m.count, -m.last_seen.timestamp(), m.normalised))


def decided_keys(session: Session, keys: Sequence[str]) -> Set[str]:
    found: Set[str] = set()
    for start in range(0, len(keys), 500):  # keep IN lists a reasonable size
        chunk = list(keys[start:start + 500])
        found.update(session.scalars(select(LearningDecision.text_key).where(LearningDecision.text_key.in_(chunk))))
    return found


def cluster_labels(texts: Sequence[str], threshold: float = DISTANCE_THRESHOLD) -> List[int]:
    """Cluster numbers for already-normalised texts: TF-IDF over character n-grams inside
    words (robust to typos and missing accents), average-linkage agglomerative clustering on
    cosine distance cut at `threshold`. Deterministic for the same input."""
    if len(texts) < 2:
        return [0] * len(texts)
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_distances

    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=False, sublinear_tf=True).fit_transform(texts)
    distances = cosine_distances(vectors)
    # scikit-learn 1.2 renamed `affinity` to `metric`.
    metric_parameter = "metric" if "metric" in AgglomerativeClustering().get_params() else "affinity"
    clustering = AgglomerativeClustering(
        n_clusters=None, linkage="average", distance_threshold=threshold, **{metric_parameter: "precomputed"}
    )
    return [int(label) for label in clustering.fit_predict(distances)]


def group_messages(messages: Sequence[UnansweredMessage], threshold: float = DISTANCE_THRESHOLD) -> List[MessageGroup]:
    """Similar messages together, the largest groups first."""
    kept = sorted(messages, key=lambda m: (-m.count, m.normalised))[:MAX_MESSAGES_CLUSTERED]
    ordered = sorted(kept, key=lambda m: m.normalised)
    labels = cluster_labels([clustering_text(message.normalised) for message in ordered], threshold)
    by_label: Dict[int, List[UnansweredMessage]] = {}
    for label, message in zip(labels, ordered):
        by_label.setdefault(label, []).append(message)
    groups = [
        MessageGroup(sorted(members, key=lambda m: (-m.count, -m.last_seen.timestamp(), m.normalised)))
        for members in by_label.values()
    ]
    return sorted(groups, key=lambda g: (-g.count, -g.last_seen.timestamp(), g.messages[0].normalised))


def unanswered_groups(session: Session, period: Period) -> List[MessageGroup]:
    return group_messages(unanswered_messages(session, period))


# --- decisions ---------------------------------------------------------------------------

class NothingToDecide(ValueError):
    """The form named no message the loop still offers."""


def messages_for_turns(session: Session, turn_ids: Iterable[int]) -> List[AssistantTurn]:
    """The turns behind a group's form, checked: only unanswered (or clarified), learnable turns count."""
    ids = sorted({int(turn_id) for turn_id in turn_ids})
    if not ids:
        return []
    turns = session.scalars(select(AssistantTurn).where(AssistantTurn.id.in_(ids)).order_by(AssistantTurn.id)).all()
    return [turn for turn in turns if turn.outcome in LABELLABLE_OUTCOMES and is_learnable(turn)]


def record_decision(
    session: Session,
    turns: Sequence[AssistantTurn],
    decision: LearningDecisionKind,
    actor: str,
    topic: Optional[str] = None,
    draft: Optional[KnowledgeDraft] = None,
) -> int:
    """Remember the decision for each distinct text; a text decided before keeps its first
    decision (idempotent, also when two operators decide at once). Returns how many are new."""
    by_key = {text_key(turn.text): turn for turn in turns}
    already = decided_keys(session, list(by_key))
    added = 0
    for key, turn in by_key.items():
        if key in already:
            continue
        try:
            with session.begin_nested():
                session.add(LearningDecision(
                    text_key=key, sample_text=turn.text[:MAX_EXAMPLE_LENGTH * 2], decision=decision.value,
                    topic=topic, draft_id=draft.id if draft is not None else None, decided_by=actor,
                ))
                session.flush()
            added += 1
        except IntegrityError:
            continue  # decided by someone else meanwhile
    return added


def dismiss(session: Session, turn_ids: Iterable[int], decision: LearningDecisionKind, actor: str) -> int:
    if decision not in (LearningDecisionKind.HANDLED, LearningDecisionKind.IGNORED):
        raise ValueError(f"dismissing takes handled or ignored, not {decision.value}")
    turns = messages_for_turns(session, turn_ids)
    if not turns:
        raise NothingToDecide("no message to decide")
    return record_decision(session, turns, decision, actor)


# --- knowledge-base drafts --------------------------------------------------------------

def create_draft(
    session: Session, title: str, turn_ids: Iterable[int], example_ids: Iterable[int], actor: str, note: str = ""
) -> KnowledgeDraft:
    """A draft entry from a group: the chosen messages are its question examples, and the
    whole group leaves the list."""
    turns = messages_for_turns(session, turn_ids)
    if not turns:
        raise NothingToDecide("no message to draft from")
    chosen_ids = {int(turn_id) for turn_id in example_ids}
    examples = _distinct_texts(turn for turn in turns if turn.id in chosen_ids) or _distinct_texts(turns)
    languages = Counter(turn.language for turn in turns)
    now = utcnow()
    draft = KnowledgeDraft(
        title=(title or "").strip()[:300] or examples[0][:300],
        language=languages.most_common(1)[0][0],
        question_examples=examples,
        note=(note or "").strip()[:4000],
        status=DraftStatus.DRAFT.value,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    record_decision(session, turns, LearningDecisionKind.DRAFTED, actor, draft=draft)
    return draft


def list_drafts(session: Session, include_closed: bool = False) -> List[KnowledgeDraft]:
    query = select(KnowledgeDraft).order_by(KnowledgeDraft.created_at.desc(), KnowledgeDraft.id.desc())
    if not include_closed:
        query = query.where(KnowledgeDraft.status == DraftStatus.DRAFT.value)
    return list(session.scalars(query))


def set_draft_status(session: Session, draft_id: int, status: DraftStatus) -> Optional[KnowledgeDraft]:
    draft = session.get(KnowledgeDraft, draft_id)
    if draft is None:
        return None
    draft.status = status.value
    draft.updated_at = utcnow()
    return draft


def _distinct_texts(turns: Iterable[AssistantTurn]) -> List[str]:
    seen: Set[str] = set()
    texts = []
    for turn in turns:
        example = training_example(turn.text)
        if example and example.lower() not in seen:
            seen.add(example.lower())
            texts.append(example)
    return texts


# --- training examples (data/nlu/<lang>/learned.yml) -----------------------------------

class UnknownTopic(ValueError):
    pass


class LearnedFileChanged(RuntimeError):
    """The file changed between the diff the operator saw and the confirmation."""


def training_example(text: str) -> str:
    """One line of training data: no line breaks, no Rasa entity markup ([text](entity))."""
    line = _SPACES.sub(" ", user_text(text).replace("[", "(").replace("]", ")")).strip()
    return line[:MAX_EXAMPLE_LENGTH]


def learned_path(nlu_dir: Path, language: str) -> Path:
    return Path(nlu_dir) / language / LEARNED_FILE_NAME


def read_learned(path: Path) -> Dict[str, List[str]]:
    """Examples by intent in a learned.yml (empty when the file does not exist yet)."""
    if not path.exists():
        return {}
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples: Dict[str, List[str]] = {}
    for block in document.get("nlu") or []:
        if "intent" in block:
            examples.setdefault(block["intent"], []).extend(_examples_of(block.get("examples") or ""))
    return examples


def render_learned(examples: Dict[str, List[str]]) -> str:
    """Rasa 3.x NLU YAML, intents in alphabetical order, examples as a literal block."""
    lines = [LEARNED_HEADER.rstrip("\n"), 'version: "3.1"']
    intents = [intent for intent in sorted(examples) if examples[intent]]
    if not intents:
        lines.append("nlu: []")
    else:
        lines.append("nlu:")
        for intent in intents:
            lines += [f"- intent: {intent}", "  examples: |"]
            lines += [f"    - {example}" for example in examples[intent]]
    return "\n".join(lines) + "\n"


def known_examples(nlu_dir: Path) -> Set[str]:
    """Every example already in the training data (lower case), whatever its intent or
    language: an example given to two intents would confuse the model."""
    known: Set[str] = set()
    for path in sorted(Path(nlu_dir).glob("*/*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in document.get("nlu") or []:
            if "intent" in block:
                known.update(example.lower() for example in _examples_of(block.get("examples") or ""))
    return known


@dataclass
class FileChange:
    language: str
    path: Path
    before: str
    after: str
    added: List[str]

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.before.encode("utf-8")).hexdigest()

    @property
    def diff(self) -> str:
        name = f"{self.language}/{LEARNED_FILE_NAME}"
        return "".join(difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
            fromfile=f"a/{name}", tofile=f"b/{name}",
        ))


@dataclass
class LabellingPlan:
    topic: str
    changes: List[FileChange]  # only files that change
    skipped: List[str]  # examples already in the training data
    turns: List[AssistantTurn]  # the whole group, to remember the decision

    @property
    def digests(self) -> Dict[str, str]:
        return {change.language: change.digest for change in self.changes}


def plan_labelling(
    session: Session, nlu_dir: Path, topic: str, group_ids: Iterable[int], example_ids: Iterable[int]
) -> LabellingPlan:
    """What labelling a group as `topic` would write: the chosen messages, each in its
    language's learned.yml, minus what the training data already holds."""
    if topic not in load_topics():
        raise UnknownTopic(topic)
    turns = messages_for_turns(session, group_ids)
    chosen = {int(turn_id) for turn_id in example_ids}
    examples_by_language: Dict[str, List[str]] = {}
    known = known_examples(nlu_dir)
    skipped: List[str] = []
    for turn in turns:
        if turn.id not in chosen:
            continue
        example = training_example(turn.text)
        if not example:
            continue
        if example.lower() in known:
            skipped.append(example)
            continue
        known.add(example.lower())
        examples_by_language.setdefault(turn.language, []).append(example)
    changes = []
    for language, new_examples in sorted(examples_by_language.items()):
        path = learned_path(nlu_dir, language)
        before = path.read_text(encoding="utf-8") if path.exists() else ""
        merged = read_learned(path)
        merged[topic] = merged.get(topic, []) + new_examples
        changes.append(FileChange(language, path, before, render_learned(merged), new_examples))
    return LabellingPlan(topic=topic, changes=changes, skipped=skipped, turns=turns)


def apply_labelling(
    session: Session, nlu_dir: Path, topic: str, group_ids: Iterable[int], example_ids: Iterable[int],
    expected_digests: Dict[str, str], actor: str,
) -> LabellingPlan:
    """Write the plan the operator reviewed, provided the files are still as they saw them,
    and remember the group as labelled."""
    group_ids, example_ids = list(group_ids), list(example_ids)
    with _files_locked(nlu_dir):  # two desk workers must not both pass the check, then write
        plan = plan_labelling(session, nlu_dir, topic, group_ids, example_ids)
        if not plan.turns:
            raise NothingToDecide("no message to label")
        if plan.digests != {language: digest for language, digest in expected_digests.items() if digest}:
            raise LearnedFileChanged("the training data changed since the diff was shown")
        record_decision(session, plan.turns, LearningDecisionKind.LABELLED, actor, topic=topic)
        session.flush()  # the decision is in place before the file is: a failing write rolls it back
        for change in plan.changes:
            _write_atomically(change.path, change.after)
    return plan


def learned_examples_matching(nlu_dir: Path, texts: Iterable[str]) -> List[Tuple[str, str, str]]:
    """(language, intent, example) of every labelled example written from one of these texts."""
    wanted = {training_example(text).casefold() for text in texts if text and text.strip()}
    found = []
    for path in sorted(Path(nlu_dir).glob(f"*/{LEARNED_FILE_NAME}")):
        for intent, examples in read_learned(path).items():
            found += [(path.parent.name, intent, example) for example in examples if example.casefold() in wanted]
    return found


def remove_learned_examples(nlu_dir: Path, texts: Iterable[str]) -> int:
    """Take the examples written from these texts out of learned.yml (a person's erasure);
    returns how many went. The next training no longer learns from them."""
    texts = list(texts)
    removed = 0
    with _files_locked(nlu_dir):
        for language in sorted({language for language, _, _ in learned_examples_matching(nlu_dir, texts)}):
            path = learned_path(nlu_dir, language)
            wanted = {training_example(text).casefold() for text in texts if text and text.strip()}
            examples = read_learned(path)
            kept = {intent: [e for e in items if e.casefold() not in wanted] for intent, items in examples.items()}
            removed += sum(len(items) for items in examples.values()) - sum(len(items) for items in kept.values())
            _write_atomically(path, render_learned(kept))
    return removed


@contextmanager
def _files_locked(nlu_dir: Path) -> Iterator[None]:
    Path(nlu_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(nlu_dir) / ".learned.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_learned_files(nlu_dir: Path, languages: Sequence[str] = ("it", "en")) -> None:
    """An empty, valid learned.yml per language (Rasa accepts `nlu: []`)."""
    for language in languages:
        path = learned_path(nlu_dir, language)
        if not path.exists():
            _write_atomically(path, render_learned({}))


def _examples_of(block: str) -> List[str]:
    return [line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")]


def _write_atomically(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".learned-", suffix=".yml", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def parse_digests(values: Iterable[str]) -> Dict[str, str]:
    """Form values "it:<sha256>" back into {language: digest}."""
    digests = {}
    for value in values:
        language, _, digest = (value or "").partition(":")
        if language and re.fullmatch(r"[0-9a-f]{64}", digest):
            digests[language] = digest
    return digests


def topics_for_choice() -> List[Tuple[str, str]]:
    """(topic id, what it is about) for the labelling form."""
    return [(topic.id, topic.ask) for topic in load_topics().values()]
