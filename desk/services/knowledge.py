"""Knowledge base: read an answer at reply time, edit with versions, revert."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.models import KnowledgeEntry, KnowledgeVersion
from desk.models.base import utcnow

EDITABLE_FIELDS = (
    "title_it", "title_en", "answer_it", "answer_en", "source", "source_url",
    "verified_on", "confidence", "confidence_note", "unconfirmed", "unconfirmed_points",
)


class UnknownTopic(LookupError):
    pass


@dataclass(frozen=True)
class KnowledgeAnswer:
    topic: str
    language: str
    title: str
    text: str
    source: str
    source_url: str
    verified_on: date
    unconfirmed: bool
    version: int


def find_entry(session: Session, topic: str) -> Optional[KnowledgeEntry]:
    return session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.topic == topic)).first()


def answer_for(session: Session, topic: str, language: str) -> KnowledgeAnswer:
    entry = find_entry(session, topic)
    if entry is None:
        raise UnknownTopic(topic)
    return KnowledgeAnswer(
        topic=entry.topic,
        language=language,
        title=entry.title(language),
        text=entry.answer(language).strip(),
        source=entry.source,
        source_url=entry.source_url,
        verified_on=entry.verified_on,
        unconfirmed=entry.unconfirmed,
        version=entry.version,
    )


def list_entries(session: Session) -> List[KnowledgeEntry]:
    return list(session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.area, KnowledgeEntry.topic)))


def snapshot(entry: KnowledgeEntry) -> Dict[str, Any]:
    content = {name: getattr(entry, name) for name in EDITABLE_FIELDS}
    content["verified_on"] = entry.verified_on.isoformat()
    content["unconfirmed_points"] = list(entry.unconfirmed_points or [])
    return content


def _apply(entry: KnowledgeEntry, changes: Dict[str, Any]) -> None:
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} is not an editable field of a knowledge entry")
        if name == "verified_on" and isinstance(value, str):
            value = date.fromisoformat(value)
        setattr(entry, name, value)


def create_entry(session: Session, topic: str, area: str, content: Dict[str, Any], author: str) -> KnowledgeEntry:
    entry = KnowledgeEntry(topic=topic, area=area, version=1, updated_by=author, updated_at=utcnow())
    _apply(entry, content)
    session.add(entry)
    session.flush()
    session.add(KnowledgeVersion(entry=entry, version=1, content=snapshot(entry), author=author, note="created"))
    return entry


def update_entry(
    session: Session, topic: str, changes: Dict[str, Any], author: str, note: str = "", from_seed: bool = False
) -> KnowledgeEntry:
    """Apply changes as a new version. A change by anyone but the seed marks the
    entry as edited, so that later seeding leaves it alone."""
    entry = find_entry(session, topic)
    if entry is None:
        raise UnknownTopic(topic)
    _apply(entry, changes)
    entry.version += 1
    entry.updated_by = author
    entry.updated_at = utcnow()
    if not from_seed:
        entry.edited_in_desk = True
    session.add(KnowledgeVersion(entry=entry, version=entry.version, content=snapshot(entry), author=author, note=note))
    session.flush()
    return entry


def revert_entry(session: Session, topic: str, version: int, author: str) -> KnowledgeEntry:
    entry = find_entry(session, topic)
    if entry is None:
        raise UnknownTopic(topic)
    target = session.scalars(
        select(KnowledgeVersion).where(KnowledgeVersion.entry_id == entry.id, KnowledgeVersion.version == version)
    ).first()
    if target is None:
        raise LookupError(f"{topic} has no version {version}")
    return update_entry(session, topic, dict(target.content), author, note=f"reverted to version {version}")
