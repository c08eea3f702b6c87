"""The topic catalogue (data/knowledge/topics.yml, a copy of the shared contract)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List

import yaml

from desk.config import PROJECT_ROOT

TOPICS_FILE = PROJECT_ROOT / "data" / "knowledge" / "topics.yml"


@dataclass(frozen=True)
class Topic:
    id: str
    area: str
    ask: str


@lru_cache(maxsize=4)
def load_topics(path: Path = TOPICS_FILE) -> Dict[str, Topic]:
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    return {item["id"]: Topic(item["id"], item["area"], item["ask"]) for item in document["topics"]}


def topic_ids(path: Path = TOPICS_FILE) -> List[str]:
    return list(load_topics(path))
