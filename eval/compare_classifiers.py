"""Compare intent classifiers offline on the development set (eval/heldout), without Rasa.

    .venv/bin/python -m eval.compare_classifiers

Trains each candidate on data/nlu, classifies every development case and applies the
same decision as the assistant (answer / clarify / offer a person, `classifiers.decision`),
then prints first-turn accuracy, wrong-topic rate, out-of-scope recall and two-turn accuracy.
This is where the classifier was chosen (README, "Intent classifier"); the sealed set is never
used here."""
from __future__ import annotations

import argparse
import sys
import time
from typing import Callable, Dict, List, Sequence

import numpy as np

from classifiers.decision import Thresholds, decide
from classifiers.ensemble import EnsembleModel, training_examples
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


def evaluate(predict: Callable[[Sequence[str]], List[List[Dict]]], cases, thresholds: Thresholds) -> Dict[str, float]:
    rankings = predict([case["text"] for case in cases])
    in_scope = correct = wrong = two_turn = 0
    out_scope = escalated = 0
    for case, ranking in zip(cases, rankings):
        decision = decide(ranking, thresholds)
        if case["expect"] == "escalate":
            out_scope += 1
            escalated += decision.kind == "offer"
            continue
        in_scope += 1
        if decision.kind == "answer":
            correct += decision.topics[0] == case["expect"]
            wrong += decision.topics[0] != case["expect"]
            two_turn += decision.topics[0] == case["expect"]
        elif decision.kind == "clarify":
            two_turn += case["expect"] in decision.topics
    return {
        "accuracy": correct / in_scope, "wrong_topic": wrong / in_scope,
        "two_turn": two_turn / in_scope, "oos_recall": escalated / out_scope,
    }


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", default="0,0.5,1", help="comma-separated weights of the embedding model")
    args = parser.parse_args(argv or None)
    texts, labels = training_examples()
    cases = load_cases()
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
