"""Helpers for conversations through the REST channel."""
from __future__ import annotations

import uuid

import yaml

from desk.config import PROJECT_ROOT


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def training_example(topic: str, language: str) -> str:
    for path in sorted((PROJECT_ROOT / "data" / "nlu" / language).glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if block.get("intent") == topic:
                return block["examples"].splitlines()[0].lstrip("- ").strip()
    raise LookupError(topic)
