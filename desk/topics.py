"""The topic catalogue (data/knowledge/topics.yml, a copy of the shared contract)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List

import yaml

from desk.config import PROJECT_ROOT
from desk.services.broad_terms import BroadTerms

TOPICS_FILE = PROJECT_ROOT / "data" / "knowledge" / "topics.yml"
BROAD_TERMS_FILE = PROJECT_ROOT / "data" / "understanding" / "broad_terms.yml"


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


def load_broad_terms(path: Path = BROAD_TERMS_FILE, topics_path: Path = TOPICS_FILE) -> BroadTerms:
    """The families of topics a bare term names (desk.services.understanding.BroadTerms); every
    topic must be in the catalogue."""
    with open(path, encoding="utf-8") as handle:
        terms = BroadTerms.from_document(yaml.safe_load(handle))
    unknown = {topic for family in terms.families.values() for topic in family} - set(load_topics(topics_path))
    if unknown:
        raise ValueError(f"{path}: topics not in the catalogue: {sorted(unknown)}")
    return terms
