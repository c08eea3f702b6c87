"""Seed the knowledge base from data/knowledge/*.yml.

Idempotent: a new topic is created, an entry still as seeded follows the seed
files, and an entry edited in the desk is never overwritten."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Dict, Iterable, List

import yaml
from sqlalchemy.orm import Session

from desk.services import knowledge
from desk.services.dated_facts import DatedFact
from desk.topics import load_topics

log = logging.getLogger(__name__)


@dataclass
class SeedReport:
    created: List[str] = field(default_factory=list)
    updated: List[str] = field(default_factory=list)
    unchanged: List[str] = field(default_factory=list)
    kept_edited: List[str] = field(default_factory=list)


class SeedError(ValueError):
    pass


def read_seed_files(directory: Path) -> List[Dict[str, Any]]:
    entries: List[Dict[str, Any]] = []
    for path in sorted(directory.glob("*.yml")):
        if path.name == "topics.yml":
            continue
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle) or {}
        for raw in document.get("entries", []):
            entries.append(_normalise(raw, document.get("area", ""), path))
    return entries


def _normalise(raw: Dict[str, Any], area: str, path: Path) -> Dict[str, Any]:
    try:
        verified = raw["verified_on"]
        return {
            "topic": raw["topic"],
            "area": area,
            "content": {
                "title_it": raw["title"]["it"].strip(),
                "title_en": raw["title"]["en"].strip(),
                "answer_it": raw["answer"]["it"].strip(),
                "answer_en": raw["answer"]["en"].strip(),
                "source": raw["source"].strip(),
                "source_url": (raw.get("source_url") or "").strip(),
                "verified_on": verified if isinstance(verified, date) else date.fromisoformat(str(verified)),
                "confidence": raw.get("confidence", "high"),
                "confidence_note": (raw.get("confidence_note") or "").strip(),
                "unconfirmed": bool(raw.get("unconfirmed", False)),
                "unconfirmed_points": list(raw.get("unconfirmed_points") or []),
                "sources": [_source(item) for item in raw.get("sources") or []],
                "verified_by": str(raw.get("verified_by") or "seed").strip(),
                "facts": [_fact(item) for item in raw.get("facts") or []],
            },
        }
    except (KeyError, AttributeError, ValueError) as exc:
        raise SeedError(f"{path}: entry {raw.get('topic', '?')} is incomplete: {exc}") from exc


def _source(raw: Dict[str, Any]) -> Dict[str, Any]:
    checked = raw.get("checked_on")
    return {
        "url": str(raw["url"]).strip(),
        "states": str(raw.get("states") or "").strip(),
        "how": str(raw.get("how") or "").strip(),
        "checked_on": checked.isoformat() if isinstance(checked, date) else (str(checked) if checked else None),
    }


def _fact(raw: Dict[str, Any]) -> Dict[str, Any]:
    return DatedFact.from_dict({
        "key": raw["key"], "label_it": raw["label"]["it"], "label_en": raw["label"]["en"],
        "text_it": raw["text"]["it"], "text_en": raw["text"]["en"], "valid_from": raw.get("valid_from"),
        "valid_until": raw.get("valid_until"), "budget_law": raw.get("budget_law", False),
        "source_url": raw.get("source_url"), "source_note": raw.get("source_note"),
    }).as_dict()


def check_coverage(entries: Iterable[Dict[str, Any]]) -> None:
    expected = set(load_topics())
    seen: Dict[str, int] = {}
    for entry in entries:
        seen[entry["topic"]] = seen.get(entry["topic"], 0) + 1
    unknown = sorted(set(seen) - expected)
    missing = sorted(expected - set(seen))
    doubled = sorted(topic for topic, count in seen.items() if count > 1)
    if unknown or missing or doubled:
        raise SeedError(f"seed files do not match topics.yml: unknown={unknown} missing={missing} doubled={doubled}")


def seed_knowledge(session: Session, directory: Path) -> SeedReport:
    entries = read_seed_files(directory)
    check_coverage(entries)
    report = SeedReport()
    for seed in entries:
        topic, content = seed["topic"], seed["content"]
        entry = knowledge.find_entry(session, topic)
        if entry is None:
            knowledge.create_entry(session, topic, seed["area"], content, author="seed")
            report.created.append(topic)
        elif entry.edited_in_desk:
            report.kept_edited.append(topic)
        elif _differs(knowledge.snapshot(entry), content):
            knowledge.update_entry(session, topic, content, author="seed", note="seed files changed", from_seed=True)
            report.updated.append(topic)
        else:
            report.unchanged.append(topic)
    log.info(
        "knowledge seed: %d created, %d updated, %d unchanged, %d kept (edited in desk)",
        len(report.created), len(report.updated), len(report.unchanged), len(report.kept_edited),
    )
    return report


def _differs(current: Dict[str, Any], seed_content: Dict[str, Any]) -> bool:
    comparable = dict(seed_content, verified_on=seed_content["verified_on"].isoformat())
    return any(current[name] != comparable[name] for name in comparable)
