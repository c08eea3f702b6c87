"""Helpers for conversations through the REST channel."""
from __future__ import annotations

import uuid

import yaml

from desk.config import PROJECT_ROOT


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def training_example(topic: str, language: str, min_words: int = 8) -> str:
    """The first training example of a topic that is a whole sentence (a few
    words like "nidi gratis lombardy" do not show which language the user writes)."""
    for path in sorted((PROJECT_ROOT / "data" / "nlu" / language).glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if block.get("intent") == topic:
                examples = [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]
                return next((text for text in examples if len(text.split()) >= min_words), examples[0])
    raise LookupError(topic)


def open_worker_ticket(assistant, sender: str, name: str, email: str, question: str) -> str:
    """Fill the ticket form through the REST channel as a worker who asks for a person;
    returns the reference the assistant gives."""
    from tests.support.stack import custom_of, text_of

    assert custom_of(assistant.say(sender, "vorrei parlare con un operatore")).get("asks") == "role"
    for message in ("lavoratrice", name, email, question):
        replies = assistant.say(sender, message)
    assert custom_of(replies).get("asks") == "consent", text_of(replies)
    return custom_of(assistant.say(sender, "/affirm"))["ticket"]["ref"]
