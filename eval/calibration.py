"""How sure is the intent model when it is right, and when it is wrong? Measured out of fold on
the training data (data/nlu), never on the development set (its misses were paraphrased into
training, so it is overconfident) nor on the sealed set.

    .venv/bin/python -m eval.calibration                 # out-of-fold figures at today's thresholds
    .venv/bin/python -m eval.calibration --grid          # ...and a grid of answer thresholds
    .venv/bin/python -m eval.calibration --weights       # ...and a grid of the model's mixing weights

Every training example is classified by a model trained on the other folds. Folds are grouped
so that paraphrases of one question never sit on both sides: within an intent, examples whose
sentence embeddings (multilingual, so translations too) or character n-grams are close belong to
one group (connected components), and StratifiedGroupKFold keeps each group in one fold.

Each example is then scored by what the assistant would do with it (the same decision as in
production: `desk.services.understanding.first_turn`): a topic example answered with its topic
(right), with another topic (wrong topic), clarified with its topic among the buttons, or offered
a person; an out-of-scope example must be offered a person. The rankings are cached in
.cache/calibration/ (keyed by the training data and the model's settings), so trying thresholds
is instant after the first run (about 4 minutes of CPU; 14 to 18 minutes on a busy shared machine)."""
from __future__ import annotations

import argparse
import hashlib
import itertools
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from desk.config import PROJECT_ROOT

CACHE = PROJECT_ROOT / ".cache" / "calibration"
NLU = PROJECT_ROOT / "data" / "nlu"
SIMILAR_MEANING = 0.80  # cosine of USE embeddings
SIMILAR_FORM = 0.60  # cosine of character n-gram TF-IDF


def training_examples_by_file(nlu_dir: Path = NLU) -> Tuple[List[str], List[str], List[str]]:
    """(texts, intents, files) of the training data, read with Rasa's own loader."""
    from rasa.shared.nlu.training_data.loading import load_data

    texts, intents, files = [], [], []
    for path in sorted(nlu_dir.rglob("*.yml")):
        data = load_data(str(path))
        for example in data.intent_examples:
            if example.get("intent") and example.get("text"):
                texts.append(example.get("text"))
                intents.append(example.get("intent"))
                files.append(str(path.relative_to(nlu_dir)))
    return texts, intents, files


def paraphrase_groups(texts: Sequence[str], intents: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    """A group id per example: connected components of close examples of the same intent."""
    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction.text import TfidfVectorizer

    from classifiers.ensemble import normalise

    chars = TfidfVectorizer(preprocessor=normalise, analyzer="char_wb", ngram_range=(3, 5)).fit_transform(texts)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    groups = np.zeros(len(texts), dtype=int)
    next_group = 0
    intents = np.asarray(intents)
    for intent in sorted(set(intents)):
        rows = np.flatnonzero(intents == intent)
        close = (unit[rows] @ unit[rows].T >= SIMILAR_MEANING) | ((chars[rows] @ chars[rows].T).toarray() >= SIMILAR_FORM)
        count, labels = connected_components(close, directed=False)
        groups[rows] = labels + next_group
        next_group += count
    return groups


def _cached_embedding():
    """The sentence encoder with a memory of the vectors it computed (kept in .cache/calibration):
    they do not depend on the fold. Returns (embed, save)."""
    from classifiers import ensemble

    memo: Dict[str, np.ndarray] = {}
    saved = CACHE / "embeddings.npz"
    if saved.exists():
        stored = np.load(saved, allow_pickle=True)
        memo.update(zip(stored["texts"], stored["vectors"]))
    plain_embed = ensemble.embed

    def embed(batch):
        missing = [t for t in dict.fromkeys(batch) if t not in memo]
        if missing:
            memo.update(zip(missing, plain_embed(missing)))
        return np.stack([memo[t] for t in batch]) if len(batch) else plain_embed(batch)

    def save():
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(saved, texts=np.array(list(memo), dtype=object), vectors=np.stack(list(memo.values())))

    return embed, save


Examples = Tuple[List[str], List[str], List[str]]  # texts, intents, files


def _folds(examples: Examples, folds: int, seed: int, each_fold) -> Dict[str, np.ndarray]:
    """Train a model per fold (paraphrase groups kept together) and call each_fold(model, test rows,
    texts, labels). Returns texts, intents, files, groups and labels."""
    from sklearn.model_selection import StratifiedGroupKFold

    from classifiers import ensemble
    from classifiers.intent_classifier import EnsembleIntentClassifier

    texts, intents, files = examples
    settings = EnsembleIntentClassifier.get_default_config()
    embed, save = _cached_embedding()
    plain_embed, ensemble.embed = ensemble.embed, embed  # every fold reuses the sentence embeddings
    try:
        groups = paraphrase_groups(texts, intents, embed(texts))
        labels = sorted(set(intents))
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        for number, (train, test) in enumerate(splitter.split(texts, intents, groups), 1):
            model = ensemble.EnsembleModel.train(
                [texts[i] for i in train], [intents[i] for i in train],
                embedding_weight=settings["embedding_weight"], surface_C=settings["surface_C"],
                meaning_C=settings["meaning_C"], question_weight=settings["question_weight"],
                random_state=settings["random_state"])
            each_fold(model, test, texts, labels)
            print(f"fold {number}/{folds}: {len(test)} examples", file=sys.stderr)
    finally:
        ensemble.embed = plain_embed
    save()
    return {"texts": np.array(texts, dtype=object), "intents": np.array(intents), "files": np.array(files),
            "groups": groups, "labels": np.array(labels)}


def _cache_key(examples: Examples, *parts) -> str:
    from classifiers import ensemble
    from classifiers.intent_classifier import EnsembleIntentClassifier

    texts, intents, _ = examples
    settings = EnsembleIntentClassifier.get_default_config()
    return hashlib.sha256(repr((texts, intents, parts, sorted(settings.items()),
                               Path(ensemble.__file__).read_bytes())).encode()).hexdigest()[:16]


def out_of_fold(folds: int = 5, seed: int = 0) -> Dict[str, np.ndarray]:
    """Rankings of every training example by a model that never saw it nor its paraphrases.
    Returns texts, intents, groups, labels and probabilities (rows: examples, columns: labels)."""
    examples = training_examples_by_file()
    cached = CACHE / f"oof-{_cache_key(examples, folds, seed)}.npz"
    if cached.exists():
        return dict(np.load(cached, allow_pickle=True))
    rows: Dict[int, np.ndarray] = {}

    def each_fold(model, test, texts, labels):
        columns = [labels.index(label) for label in model.labels]
        for i, row in zip(test, model.probabilities([texts[i] for i in test])):
            rows[i] = np.zeros(len(labels))
            rows[i][columns] = row

    result = _folds(examples, folds, seed, each_fold)
    result["probabilities"] = np.stack([rows[i] for i in range(len(result["texts"]))])
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(cached, **result)
    return result


def out_of_fold_views(folds: int = 5, seed: int = 0) -> Dict[str, np.ndarray]:
    """Like out_of_fold, but the two halves of the model apart (surface, meaning), for every example
    and for every sentence of the examples of two sentences or more: the mixing weights can then be
    tried without training again (`weighted`)."""
    from classifiers import ensemble

    examples = training_examples_by_file()
    cached = CACHE / f"views-{_cache_key(examples, folds, seed)}.npz"
    if cached.exists():
        return dict(np.load(cached, allow_pickle=True))
    whole: Dict[int, Tuple[np.ndarray, np.ndarray]] = {}
    sentences: List[Tuple[int, np.ndarray, np.ndarray]] = []

    def each_fold(model, test, texts, labels):
        columns = [labels.index(label) for label in model.labels]

        def views(batch):
            surface = np.zeros((len(batch), len(labels)))
            meaning = np.zeros((len(batch), len(labels)))
            surface[:, columns] = model.surface.predict_proba(batch)
            meaning[:, columns] = model.meaning.predict_proba(ensemble.embed(batch))
            return surface, meaning

        surface, meaning = views([texts[i] for i in test])
        whole.update((i, (surface[k], meaning[k])) for k, i in enumerate(test))
        parts = [(i, sentence) for i in test for sentence in ensemble.sentences_of(texts[i])]
        if parts:
            surface, meaning = views([sentence for _, sentence in parts])
            sentences.extend((i, surface[k], meaning[k]) for k, (i, _) in enumerate(parts))

    result = _folds(examples, folds, seed, each_fold)
    count = len(result["texts"])
    result.update(surface=np.stack([whole[i][0] for i in range(count)]),
                  meaning=np.stack([whole[i][1] for i in range(count)]),
                  sentence_owner=np.array([i for i, _, _ in sentences], dtype=int),
                  sentence_surface=np.stack([s for _, s, _ in sentences]),
                  sentence_meaning=np.stack([m for _, _, m in sentences]))
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(cached, **result)
    return result


def weighted(views: Dict[str, np.ndarray], embedding_weight: float, question_weight: float,
             long_words: int) -> Dict[str, np.ndarray]:
    """The out-of-fold probabilities the model would give with these mixing weights (the same
    arithmetic as classifiers.ensemble.EnsembleModel.probabilities)."""
    from classifiers import ensemble

    long_message = np.array([len(str(text).split()) > long_words for text in views["texts"]])
    keep = long_message[views["sentence_owner"]] if len(views["sentence_owner"]) else np.zeros(0, dtype=bool)
    probabilities = ensemble.read_by_questions(
        ensemble.mixed(views["surface"], views["meaning"], embedding_weight),
        ensemble.mixed(views["sentence_surface"][keep], views["sentence_meaning"][keep], embedding_weight),
        views["sentence_owner"][keep], ensemble.informative_columns(views["labels"]), question_weight)
    return {**views, "probabilities": probabilities}


def rankings_of(labels: Sequence[str], probabilities: np.ndarray) -> List[List[Dict[str, float]]]:
    rankings = []
    for row in probabilities:
        order = np.argsort(-row)[:10]
        rankings.append([{"name": str(labels[i]), "confidence": float(row[i])} for i in order])
    return rankings


def score(oof: Dict[str, np.ndarray], thresholds) -> Dict[str, float]:
    """The assistant's first-turn outcome for every example, summed up."""
    from desk.services.understanding import Answer, Clarify, first_turn
    from desk.topics import topic_ids

    topics = set(topic_ids())
    counts: Counter = Counter()
    for intent, text, ranking in zip(oof["intents"], oof["texts"], rankings_of(oof["labels"], oof["probabilities"])):
        decision = first_turn(ranking, topics, thresholds)
        band = "long" if len(str(text).split()) > 40 else "short"
        if intent == "out_of_scope":
            counts["oos"] += 1
            counts["oos offered"] += not isinstance(decision, (Answer, Clarify))
            continue
        if intent not in topics:
            continue
        for prefix in ("", band + " "):
            counts[prefix + "in"] += 1
            counts[prefix + "right"] += isinstance(decision, Answer) and decision.topic == intent
            counts[prefix + "wrong"] += isinstance(decision, Answer) and decision.topic != intent
            counts[prefix + "clarified"] += isinstance(decision, Clarify)
            counts[prefix + "two-turn"] += (isinstance(decision, Answer) and decision.topic == intent) or (
                isinstance(decision, Clarify) and intent in decision.topics)
    figures = {
        "accuracy": counts["right"] / counts["in"], "wrong_topic": counts["wrong"] / counts["in"],
        "clarified": counts["clarified"] / counts["in"], "two_turn": counts["two-turn"] / counts["in"],
        "oos_recall": counts["oos offered"] / max(counts["oos"], 1),
    }
    for band in ("short", "long"):
        if counts[band + " in"]:
            figures[band + "_two_turn"] = counts[band + " two-turn"] / counts[band + " in"]
            figures[band + "_wrong"] = counts[band + " wrong"] / counts[band + " in"]
    return figures


def line(figures: Dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.3f}" for name, value in figures.items())


def main(argv: Sequence[str] = ()) -> int:
    from desk.services.understanding import Thresholds

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--grid", action="store_true", help="also try a grid of answer thresholds")
    parser.add_argument("--weights", action="store_true",
                        help="also try a grid of the model's mixing weights (embedding, question, long message)")
    args = parser.parse_args(argv or None)
    oof = out_of_fold(args.folds)
    topic_examples = sum(1 for intent in oof["intents"] if intent != "out_of_scope")
    print(f"{len(oof['texts'])} training examples ({topic_examples} not out of scope) in "
          f"{len(set(oof['groups']))} paraphrase groups, {args.folds} folds")
    thresholds = Thresholds.from_env()
    print(f"{thresholds}\n  {line(score(oof, thresholds))}")
    if args.grid:
        print("\nanswer_min_confidence, answer_min_margin: figures")
        for confidence, margin in itertools.product((0.35, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8),
                                                    (0.1, 0.2, 0.3, 0.4, 0.5)):
            trial = Thresholds(**{**thresholds.__dict__, "answer_min_confidence": confidence,
                                  "answer_min_margin": margin})
            print(f"{confidence:.2f}, {margin:.2f}: {line(score(oof, trial))}")
    if args.weights:
        views = out_of_fold_views(args.folds)
        print("\nembedding_weight, question_weight, long message words: figures at today's thresholds")
        for embedding_weight, question_weight, long_words in itertools.product(
                (0.3, 0.4, 0.5, 0.6, 0.7), (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0), (15, 25, 40)):
            figures = score(weighted(views, embedding_weight, question_weight, long_words), thresholds)
            print(f"{embedding_weight:.1f}, {question_weight:.1f}, {long_words}: {line(figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
