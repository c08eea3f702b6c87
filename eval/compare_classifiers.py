"""Compare intent classifiers offline on the development set (eval/heldout), without Rasa.

    .venv/bin/python -m eval.compare_classifiers

Trains each candidate on data/nlu, classifies every development case and applies the
same decision as the assistant (`desk.services.understanding.first_turn`: the answer rule, Rasa's
FallbackClassifier with config.yml's thresholds for other intents, then clarify / offer a person);
then prints first-turn accuracy, wrong-topic rate, out-of-scope recall and two-turn accuracy.
This is where the classifier was chosen (README, "Intent classifier"); the sealed set is never
used here."""
from __future__ import annotations

import argparse
import sys
import time
from typing import Callable, Dict, List, Sequence

import numpy as np

import yaml

from classifiers.ensemble import EnsembleModel, embed, training_examples
from desk.config import PROJECT_ROOT
from desk.services.understanding import Answer, Clarify, Decision, Offer, Thresholds, first_turn
from desk.topics import topic_ids
from eval.run import load_cases


PREAMBLES = {
    "it": [
        "Buongiorno, gestisco una ditta di traslochi con 12 addetti a Sesto San Giovanni e da anni lavoriamo "
        "soprattutto con privati e piccoli uffici.",
        "Salve, sono la titolare di un salone di parrucchiera in provincia di Milano, siamo in cinque tra "
        "dipendenti e apprendiste e il lavoro non manca.",
        "Buonasera, lavoro da sei anni come operaio in una falegnameria artigiana di Monza, contratto a tempo "
        "indeterminato, e ho due figli piccoli.",
    ],
    "en": [
        "Hello, I have been working for four years in a small bakery near Milan, full time, and my family "
        "lives here with me.",
        "Good morning, I run a small plumbing company with eight employees in the Milan area and we are "
        "members of the local artisans' association.",
    ],
}
CLOSINGS = {"it": "Grazie mille in anticipo per la risposta, cordiali saluti.",
            "en": "Thank you very much in advance for your help, best regards."}


def lengthen(case: Dict, index: int) -> Dict:
    """A development case as a long message: a description of the firm or family first, then the question."""
    language = case["lang"] if case["lang"] in PREAMBLES else "it"
    preambles = PREAMBLES[language]
    text = f"{preambles[index % len(preambles)]} {case['text']} {CLOSINGS[language]}"
    return {**case, "text": text}


def fallback_thresholds() -> Dict[str, float]:
    """Rasa's FallbackClassifier settings in config.yml: below them a message is uncertain."""
    pipeline = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    fallback = next(step for step in pipeline if step["name"] == "FallbackClassifier")
    return {"threshold": fallback["threshold"], "ambiguity": fallback["ambiguity_threshold"]}


def assistant_decision(ranking: List[Dict], thresholds: Thresholds, fallback: Dict[str, float]) -> Decision:
    """What the assistant does with a first message (`first_turn`: the answer rule, the
    FallbackClassifier for other intents, then the decision); a non-topic intent counts as an offer."""
    decision = first_turn(ranking, set(topic_ids()), thresholds, (fallback["threshold"], fallback["ambiguity"]))
    return decision if isinstance(decision, (Answer, Clarify, Offer)) else Offer()


def evaluate(predict: Callable[[Sequence[str]], List[List[Dict]]], cases, thresholds: Thresholds) -> Dict[str, float]:
    fallback = fallback_thresholds()
    rankings = predict([case["text"] for case in cases])
    in_scope = correct = wrong = two_turn = 0
    out_scope = escalated = 0
    for case, ranking in zip(cases, rankings):
        decision = assistant_decision(ranking, thresholds, fallback)
        if case["expect"] == "escalate":
            out_scope += 1
            escalated += isinstance(decision, Offer)
            continue
        in_scope += 1
        if isinstance(decision, Answer):
            correct += decision.topic == case["expect"]
            wrong += decision.topic != case["expect"]
            two_turn += decision.topic == case["expect"]
        elif isinstance(decision, Clarify):
            two_turn += case["expect"] in decision.topics
    return {
        "accuracy": correct / in_scope, "wrong_topic": wrong / in_scope,
        "two_turn": two_turn / in_scope, "oos_recall": escalated / out_scope,
    }


class KnowledgeMatch:
    """The alternative of matching a message's embedding against the knowledge-base entries' own
    text (title and answer, Italian and English), with no training examples: the most similar
    entry wins; a message similar to none (below `floor`) counts as out of scope."""

    def __init__(self, floor: float = 0.35, temperature: float = 0.05) -> None:
        entries = []
        for path in sorted((PROJECT_ROOT / "data" / "knowledge").glob("*.yml")):
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            for entry in document.get("entries") or []:
                for language in ("it", "en"):
                    entries.append((entry["topic"], f"{entry['title'][language]}. {entry['answer'][language]}"))
        self.topics = [topic for topic, _ in entries]
        self.vectors = embed([text for _, text in entries])
        self.floor, self.temperature = floor, temperature

    def rank(self, texts: Sequence[str]) -> List[List[Dict]]:
        similarity = embed(list(texts)) @ self.vectors.T
        rankings = []
        for row in similarity:
            best: Dict[str, float] = {}
            for topic, value in zip(self.topics, row):
                best[topic] = max(best.get(topic, -1.0), float(value))
            best["out_of_scope"] = self.floor
            names = list(best)
            scores = np.exp(np.array([best[name] for name in names]) / self.temperature)
            scores /= scores.sum()
            order = np.argsort(-scores)[:10]
            rankings.append([{"name": names[i], "confidence": float(scores[i])} for i in order])
        return rankings


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", default="0,0.5,1", help="comma-separated weights of the embedding model")
    parser.add_argument("--knowledge-match", action="store_true",
                        help="also try matching embeddings against the knowledge-base entries' own text")
    args = parser.parse_args(argv or None)
    texts, labels = training_examples()
    # Messages in a third language are the language detector's, not the classifier's.
    cases = [case for case in load_cases() if case["lang"] in ("it", "en")]
    print(f"{len(texts)} training examples, {len(cases)} development cases")
    thresholds = Thresholds()
    for weight in [float(w) for w in args.weights.split(",")]:
        started = time.monotonic()
        model = EnsembleModel.train(texts, labels, embedding_weight=weight)
        trained = time.monotonic() - started
        for name, subset in (("dev", cases), ("dev, long", [lengthen(c, i) for i, c in enumerate(cases)])):
            figures = evaluate(model.rank, subset, thresholds)
            print(f"embedding weight {weight:.2f} {name:>9}: "
                  + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()) + f" (trained in {trained:.0f} s)")
    if args.knowledge_match:
        matcher = KnowledgeMatch()
        for name, subset in (("dev", cases), ("dev, long", [lengthen(c, i) for i, c in enumerate(cases)])):
            figures = evaluate(matcher.rank, subset, thresholds)
            print(f"knowledge-base match {name:>9}: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
