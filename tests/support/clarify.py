"""Messages that make the trained model hesitate between a few topics (two topics'
vocabulary in one question, or one word several topics share), for the clarification's
end-to-end tests. The tests use the first one that gets a clarification from the model in
models/, so a retrained classifier with other rankings does not break them; if none does,
the clarification is broken (or the candidates need refreshing) and the tests say so."""
from __future__ import annotations

from typing import Callable, Dict, List, Sequence, Tuple

AMBIGUOUS_IT = (
    "bonus",
    "welfare",
    "contributo",
    "congedo parentale o congedo di paternità?",
    "fondo",
    "figli",
    "smart working o orario flessibile",
    "fondo artigiani",
)
AMBIGUOUS_EN = (
    "I would like some information about welfare",
    "fund for artisans",
    "what can the fund for artisans pay for me",
    "I need help for my children",
    "what is smart working and flexible hours",
)
OUT_OF_SCOPE_IT = "quando posso andare in pensione?"
NONE_OF_THESE = {"it": "Nessuna di queste: parla con una persona", "en": "None of these: talk to a person"}


def first_clarified(
    ask: Callable[[str], Tuple[Dict, List[Dict]]], candidates: Sequence[str]
) -> Tuple[str, Dict, List[Dict]]:
    """(message, custom, buttons) for the first candidate answered with a clarification;
    `ask(message)` sends it in a new conversation and returns (custom, buttons)."""
    seen = []
    for message in candidates:
        custom, buttons = ask(message)
        if custom.get("clarify"):
            return message, custom, buttons
        seen.append((message, custom))
    raise AssertionError(f"no candidate got a clarification: {seen}")
