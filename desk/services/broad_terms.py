"""Messages that only name a family of topics ("congedo", "permessi", "bonus").

A single word shares letters with every training example that contains it, so the classifier
picks one topic of the family with a confidence it has no reason for. Such a message is asked
about instead: which of the family's topics is meant (data/understanding/broad_terms.yml).
Pure functions; the file is read by desk.topics.load_broad_terms."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from desk.text import plain_words

@dataclass(frozen=True)
class BroadTerms:
    """Messages that only name a family of topics ("congedo", "permessi", "bonus"): they are
    clarified among the family's topics instead of answered (data/understanding/broad_terms.yml)."""

    families: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)  # term -> its topics
    fillers: frozenset = frozenset()

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "BroadTerms":
        fillers = frozenset(document.get("fillers") or ())
        families: Dict[str, Tuple[str, ...]] = {}
        for family in document.get("families") or ():
            for term in family["terms"]:
                key = " ".join(word for word in plain_words(str(term)) if word not in fillers)
                families[key] = tuple(family["topics"])
        return cls(families, fillers)

    def family_of(self, text: str) -> Optional[Tuple[str, ...]]:
        """The topics a message names only as a family, or None when it says more than that."""
        words = [word for word in plain_words(text) if word not in self.fillers]
        return self.families.get(" ".join(words)) if words else None


def spread(ranking: Sequence[Mapping[str, Any]], family: Sequence[str], limit: int) -> List[Dict[str, Any]]:
    """The ranking of a message that names only a family: the family's topics the classifier finds
    most likely (at most the clarification's limit), with equal confidence, so that `decide`
    (desk/services/understanding.py) asks which one is meant rather than answering the one a
    single word happened to favour."""
    confidence = {item.get("name"): float(item.get("confidence") or 0.0) for item in ranking or []}
    chosen = sorted(family, key=lambda topic: -confidence.get(topic, 0.0))[:limit]
    return [{"name": topic, "confidence": 1.0 / len(chosen)} for topic in chosen]
