"""What the assistant does with an intent ranking: answer, ask which topic, or offer a person."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from desk.topics import topic_ids


@dataclass(frozen=True)
class Thresholds:
    answer: float = 0.35
    ambiguity: float = 0.1
    candidate: float = 0.1
    clarify_top: float = 0.2
    max_options: int = 3


@dataclass(frozen=True)
class Decision:
    kind: str  # answer | clarify | offer | other
    topics: Tuple[str, ...] = ()


def decide(ranking: Sequence[Dict], thresholds: Thresholds) -> Decision:
    topics = set(topic_ids())
    if not ranking:
        return Decision("offer")
    top = ranking[0]
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    if top["name"] not in topics:
        if top["name"] == "out_of_scope" or top["confidence"] >= thresholds.answer:
            return Decision("offer" if top["name"] == "out_of_scope" else "other")
    elif top["confidence"] >= thresholds.answer and top["confidence"] - second >= thresholds.ambiguity:
        return Decision("answer", (top["name"],))
    if ranking[0]["name"] == "out_of_scope":
        return Decision("offer")
    options = [r["name"] for r in ranking if r["name"] in topics and r["confidence"] >= thresholds.candidate]
    if options and ranking[0]["confidence"] >= thresholds.clarify_top:
        return Decision("clarify", tuple(options[: thresholds.max_options]))
    return Decision("offer")
