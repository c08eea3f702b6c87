"""Knowledge base: read an answer at reply time, edit with versions, revert."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.models import KnowledgeEntry, KnowledgeFact, KnowledgeVersion
from desk.models.base import utcnow
from desk.services import dated_facts, knowledge_sources
from desk.services.dated_facts import DatedFact
from desk.services.validation import InvalidFields, is_web_url

EDITABLE_FIELDS = (
    "title_it", "title_en", "answer_it", "answer_en", "source", "source_url",
    "verified_on", "confidence", "confidence_note", "unconfirmed", "unconfirmed_points",
    "sources", "facts", "verified_by",
)
# What an operator changes in the editor. verified_on / verified_by change only with the
# "Verificato" action (mark_verified): saving a text is not a check of the source.
FORM_FIELDS = tuple(name for name in EDITABLE_FIELDS if name not in ("verified_on", "verified_by"))


class UnknownTopic(LookupError):
    pass


class EditConflict(RuntimeError):
    """The edit was based on an older version: someone saved in between."""

    def __init__(self, topic: str, based_on: int, current: int, current_author: str):
        super().__init__(f"{topic}: edit based on version {based_on}, current is {current} by {current_author}")
        self.topic, self.based_on, self.current, self.current_author = topic, based_on, current, current_author


class InvalidEntry(InvalidFields):
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
    unconfirmed: bool  # the text carries a statement marked (*) as not yet confirmed
    version: int
    updating: Tuple[str, ...] = ()  # facts whose period ended: the answer says it is being updated


def rome_today() -> date:
    """Dates of facts and verification are Italian dates."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/Rome")).date()


def facts_of(entry: KnowledgeEntry) -> List[DatedFact]:
    return [fact_from_row(row) for row in entry.facts]


def fact_from_row(row: KnowledgeFact) -> DatedFact:
    return DatedFact(
        key=row.key, label_it=row.label_it, label_en=row.label_en, text_it=row.text_it, text_en=row.text_en,
        valid_from=row.valid_from, valid_until=row.valid_until, budget_law=row.budget_law,
        source_url=row.source_url, source_note=row.source_note,
    )


def render_answer(
    topic: str, language: str, title: str, template: str, facts: Sequence[DatedFact], today: date,
    source: str, source_url: str, verified_on: date, version: int,
) -> KnowledgeAnswer:
    rendered = dated_facts.render(template, facts, today, language)
    return KnowledgeAnswer(
        topic=topic, language=language, title=title, text=rendered.text, source=source, source_url=source_url,
        verified_on=verified_on, unconfirmed=rendered.unconfirmed, version=version, updating=rendered.ended,
    )


def find_entry(session: Session, topic: str) -> Optional[KnowledgeEntry]:
    return session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.topic == topic)).first()


def answer_for(session: Session, topic: str, language: str, today: Optional[date] = None) -> KnowledgeAnswer:
    """The answer as it reads on `today` (Rome's date when not given): dated facts whose
    period ended are said as ended and being updated."""
    entry = find_entry(session, topic)
    if entry is None:
        raise UnknownTopic(topic)
    return render_answer(entry.topic, language, entry.title(language), entry.answer(language).strip(),
                         facts_of(entry), today or rome_today(), entry.source, entry.source_url,
                         entry.verified_on, entry.version)


def titles_for(session: Session, topics: Sequence[str], language: str) -> Dict[str, str]:
    """The entries' titles in the language, by topic (topics without an entry are left out)."""
    if not topics:
        return {}
    entries = session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.topic.in_(list(topics))))
    return {entry.topic: entry.title(language) for entry in entries}


def list_entries(session: Session) -> List[KnowledgeEntry]:
    return list(session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.area, KnowledgeEntry.topic)))


def snapshot(entry: KnowledgeEntry) -> Dict[str, Any]:
    content = {name: getattr(entry, name) for name in EDITABLE_FIELDS if name != "facts"}
    content["verified_on"] = entry.verified_on.isoformat()
    content["unconfirmed_points"] = list(entry.unconfirmed_points or [])
    content["sources"] = [dict(source) for source in (entry.sources or [])]
    content["facts"] = [fact.as_dict() for fact in facts_of(entry)]
    return content


def _locked_entry(session: Session, topic: str) -> Optional[KnowledgeEntry]:
    """The entry, locked for this transaction (PostgreSQL) and read afresh even if the
    session already holds it: a waiting save must see the version that won."""
    return session.scalars(
        select(KnowledgeEntry).where(KnowledgeEntry.topic == topic).with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _apply(entry: KnowledgeEntry, changes: Dict[str, Any]) -> None:
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} is not an editable field of a knowledge entry")
        if name == "verified_on" and isinstance(value, str):
            value = date.fromisoformat(value)
        if name == "facts":
            _replace_facts(entry, value)
            continue
        if name == "sources":
            value = [dict(source) for source in value or []]
        setattr(entry, name, value)


def _replace_facts(entry: KnowledgeEntry, facts: Sequence[Any]) -> None:
    """Facts as given (DatedFact or their dicts), in order; rows of unchanged keys are kept."""
    wanted = [fact if isinstance(fact, DatedFact) else DatedFact.from_dict(fact) for fact in facts or []]
    rows = {row.key: row for row in entry.facts}
    kept = []
    for position, fact in enumerate(wanted):
        row = rows.get(fact.key) or KnowledgeFact(key=fact.key)
        row.position = position
        for name in ("label_it", "label_en", "text_it", "text_en", "valid_from", "valid_until", "budget_law",
                     "source_url", "source_note"):
            setattr(row, name, getattr(fact, name))
        kept.append(row)
    entry.facts = kept


def create_entry(session: Session, topic: str, area: str, content: Dict[str, Any], author: str) -> KnowledgeEntry:
    entry = KnowledgeEntry(topic=topic, area=area, version=1, updated_by=author, updated_at=utcnow())
    _apply(entry, content)
    session.add(entry)
    session.flush()
    session.add(KnowledgeVersion(entry=entry, version=1, content=snapshot(entry), author=author, note="created"))
    return entry


def update_entry(
    session: Session, topic: str, changes: Dict[str, Any], author: str, note: str = "", from_seed: bool = False,
    expected_version: Optional[int] = None, rules_changed: bool = False,
) -> KnowledgeEntry:
    """Apply changes as a new version. A change by anyone but the seed marks the
    entry as edited, so that later seeding leaves it alone.

    With expected_version, the change is refused (EditConflict) unless the entry is
    still at that version; the row is locked while checking (PostgreSQL) and the
    unique (entry, version) pair stops a race that slips through anyway."""
    entry = find_entry(session, topic) if expected_version is None else _locked_entry(session, topic)
    if entry is None:
        raise UnknownTopic(topic)
    if expected_version is not None and entry.version != expected_version:
        raise EditConflict(topic, expected_version, entry.version, entry.updated_by)
    _apply(entry, changes)
    entry.version += 1
    entry.updated_by = author
    entry.updated_at = utcnow()
    if not from_seed:
        entry.edited_in_desk = True
    session.add(KnowledgeVersion(entry=entry, version=entry.version, content=snapshot(entry), author=author, note=note,
                                 rules_changed=rules_changed))
    session.flush()
    return entry


def revert_entry(
    session: Session, topic: str, version: int, author: str, expected_version: Optional[int] = None,
    may_confirm: bool = True,
) -> KnowledgeEntry:
    """Restore an earlier version's content as a new version."""
    entry = find_entry(session, topic)
    if entry is None:
        raise UnknownTopic(topic)
    target = find_version(session, entry, version)
    if target is None:
        raise LookupError(f"{topic} has no version {version}")
    content = dict(target.content)
    if not may_confirm and entry.unconfirmed and not content.get("unconfirmed"):
        raise InvalidEntry({"unconfirmed": CONFIRM_NEEDS_SUPERVISOR})
    return update_entry(session, topic, content, author, note=f"reverted to version {version}",
                        expected_version=expected_version)


def find_version(session: Session, entry: KnowledgeEntry, version: int) -> Optional[KnowledgeVersion]:
    return session.scalars(
        select(KnowledgeVersion).where(KnowledgeVersion.entry_id == entry.id, KnowledgeVersion.version == version)
    ).first()


# ---- the desk's editor ---------------------------------------------------------------

RULES_CHANGED_NEEDS_SUPERVISOR = (
    "Solo un supervisore può pubblicare una modifica come «le regole sono cambiate»: avvisa chi segue l'argomento."
)
CONFIRM_NEEDS_SUPERVISOR = (
    "Solo un supervisore può togliere l'indicazione «da confermare»: chiedi a un supervisore di rileggere la scheda."
)
_REQUIRED_TEXT = ("title_it", "title_en", "answer_it", "answer_en", "source")
_CONFIDENCE_LEVELS = ("high", "medium", "low")


def validate_content(content: Dict[str, Any], today: date) -> Dict[str, str]:
    """Errors by field, in Italian for the desk; empty when the content can be saved."""
    errors: Dict[str, str] = {}
    for name in _REQUIRED_TEXT:
        if name in content and not str(content[name] or "").strip():
            errors[name] = "Il testo non può essere vuoto."
    url = content.get("source_url")
    if url and not is_web_url(url):
        errors["source_url"] = "L'indirizzo della fonte deve iniziare con http:// o https://."
    elif url and not knowledge_sources.is_deep_link(url):
        errors["source_url"] = "Indica la pagina che riporta il dato (circolare, articolo), non la home page del sito."
    if "verified_on" in content:
        verified = content["verified_on"]
        if not isinstance(verified, date):
            errors["verified_on"] = "Data di verifica non valida (AAAA-MM-GG)."
        elif verified > today:
            errors["verified_on"] = "La data di verifica non può essere nel futuro."
    if "confidence" in content and content["confidence"] not in _CONFIDENCE_LEVELS:
        errors["confidence"] = "Affidabilità non valida."
    if "facts" in content:
        facts = [fact if isinstance(fact, DatedFact) else DatedFact.from_dict(fact) for fact in content["facts"]]
        fact_errors = dated_facts.validate_facts(
            facts, [str(content.get(name) or "") for name in ("answer_it", "answer_en")])
        if fact_errors:
            errors["facts"] = " ".join(f"{key}: {message}" for key, message in fact_errors.items())
    source_problems = knowledge_sources.problems(content.get("sources") or [])
    if source_problems:
        errors["sources"] = "; ".join(source_problems)
    return errors


def edit_entry(
    session: Session, topic: str, changes: Dict[str, Any], author: str, based_on_version: int,
    today: date, note: str = "", may_confirm: bool = False, rules_changed: bool = False,
) -> KnowledgeEntry:
    """An operator's save from the desk: validated, refused if a colleague saved in
    between, and a new version only if something changed.

    Clearing the "unconfirmed" flag removes the caveat users read, so it needs a
    second pair of eyes (may_confirm: a supervisor or above)."""
    errors = validate_content(changes, today)
    if errors:
        raise InvalidEntry(errors)
    entry = _locked_entry(session, topic)
    if entry is None:
        raise UnknownTopic(topic)
    if "facts" not in changes:  # a text edit must still name only facts the entry has
        merged = dict(snapshot(entry), **changes)
        fact_errors = dated_facts.validate_facts(facts_of(entry), [merged["answer_it"], merged["answer_en"]])
        if fact_errors:
            raise InvalidEntry({"facts": " ".join(fact_errors.values())})
    if entry.unconfirmed and changes.get("unconfirmed") is False and not may_confirm:
        raise InvalidEntry({"unconfirmed": CONFIRM_NEEDS_SUPERVISOR})
    current = snapshot(entry)
    proposed = dict(current, **{name: value for name, value in changes.items()})
    proposed["verified_on"] = proposed["verified_on"].isoformat() if isinstance(proposed["verified_on"], date) \
        else proposed["verified_on"]
    if rules_changed and not may_confirm:
        raise InvalidEntry({"rules_changed": RULES_CHANGED_NEEDS_SUPERVISOR})
    if entry.version == based_on_version and proposed == current:
        return entry  # nothing changed: no empty version
    return update_entry(session, topic, changes, author, note=note, expected_version=based_on_version,
                        rules_changed=rules_changed)


def mark_verified(session: Session, topic: str, author: str, today: date, note: str = "") -> KnowledgeEntry:
    """"Verificato": an operator re-read the entry's sources today. The only way verified_on
    moves; each recorded source is stamped with who checked it and when."""
    entry = _locked_entry(session, topic)
    if entry is None:
        raise UnknownTopic(topic)
    how = f"ricontrollata nel desk da {author}"
    sources = [dict(source, how=how, checked_on=today.isoformat()) for source in (entry.sources or [])]
    return update_entry(session, topic, {"verified_on": today, "verified_by": author, "sources": sources}, author,
                        note=("Verificato: fonti ricontrollate. " + note).strip())


def staleness(entry: KnowledgeEntry, today: date, max_age_days: int, warn_days: int = 30) -> List[str]:
    """Why an entry needs re-checking (empty if it does not), in Italian for the desk."""
    reasons = []
    if entry.verified_on < today - timedelta(days=max_age_days):
        reasons.append(f"verificata più di {max_age_days} giorni fa")
    if entry.unconfirmed:
        reasons.append("contiene punti da confermare")
    facts = {entry.topic: facts_of(entry)}
    for row in dated_facts.ended(facts, today):
        reasons.append(f"scaduto il {row.fact.valid_until.strftime('%d/%m/%Y')}: {row.fact.label_it}")
    for row in dated_facts.expiring(facts, today, warn_days):
        reasons.append(f"in scadenza il {row.fact.valid_until.strftime('%d/%m/%Y')}: {row.fact.label_it}")
    return reasons


def facts_by_topic(session: Session) -> Dict[str, List[DatedFact]]:
    return {entry.topic: facts_of(entry) for entry in list_entries(session)}


def filter_entries(
    entries: Sequence[KnowledgeEntry], today: date, max_age_days: int, stale_only: bool = False,
    area: str = "", search: str = "", warn_days: int = 30,
) -> List[Tuple[KnowledgeEntry, List[str]]]:
    """The editor's list: each entry with its stale reasons, filtered."""
    needle = (search or "").strip().lower()
    rows = []
    for entry in entries:
        reasons = staleness(entry, today, max_age_days, warn_days)
        if stale_only and not reasons:
            continue
        if area and entry.area != area:
            continue
        if needle and needle not in " ".join(
            (entry.topic, entry.title_it, entry.title_en, entry.answer_it, entry.answer_en, entry.source)
        ).lower():
            continue
        rows.append((entry, reasons))
    return rows


def preview_answer(entry: KnowledgeEntry, content: Dict[str, Any], language: str, today: date) -> KnowledgeAnswer:
    """The answer as it would read on `today` with unsaved content (for the editor's preview)."""
    merged = dict(snapshot(entry), **content)
    verified = merged["verified_on"]
    facts = [fact if isinstance(fact, DatedFact) else DatedFact.from_dict(fact) for fact in merged["facts"]]
    return render_answer(
        entry.topic, language, merged["title_en" if language == "en" else "title_it"],
        str(merged["answer_en" if language == "en" else "answer_it"] or "").strip(), facts, today,
        merged["source"], merged["source_url"],
        verified if isinstance(verified, date) else date.fromisoformat(verified), entry.version,
    )


@dataclass(frozen=True)
class VersionChange:
    version: int
    author: str
    created_at: Any
    note: str
    diff: List[str]


def history(session: Session, topic: str) -> List[VersionChange]:
    """Every version of an entry, newest first, each with its diff from the one before."""
    entry = find_entry(session, topic)
    if entry is None:
        raise UnknownTopic(topic)
    versions = list(session.scalars(
        select(KnowledgeVersion).where(KnowledgeVersion.entry_id == entry.id).order_by(KnowledgeVersion.version)
    ))
    changes, previous = [], {}
    for version in versions:
        changes.append(VersionChange(version.version, version.author, version.created_at, version.note,
                                     diff_contents(previous, version.content)))
        previous = version.content
    return list(reversed(changes))


FIELD_LABELS = {
    "title_it": "Titolo (italiano)", "title_en": "Titolo (inglese)", "answer_it": "Risposta (italiano)",
    "answer_en": "Risposta (inglese)", "source": "Fonte", "source_url": "Indirizzo della fonte",
    "verified_on": "Verificata il", "confidence": "Affidabilità", "confidence_note": "Nota sull'affidabilità",
    "unconfirmed": "Da confermare", "unconfirmed_points": "Punti da confermare",
    "sources": "Fonti registrate", "facts": "Fatti datati", "verified_by": "Verificata da",
}


def diff_contents(old: Dict[str, Any], new: Dict[str, Any]) -> List[str]:
    """A unified diff, field by field, of two snapshots (plain text lines for the desk)."""
    lines: List[str] = []
    for name in EDITABLE_FIELDS:
        before, after = _as_lines(old.get(name)) if old else [], _as_lines(new.get(name))
        if before == after:
            continue
        label = FIELD_LABELS.get(name, name)
        lines.extend(difflib.unified_diff(before, after, fromfile=f"{label} (prima)", tofile=f"{label} (dopo)",
                                          lineterm="", n=1))
    return lines


def _as_lines(value: Any) -> List[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [_one_item(item) for item in value]
    if isinstance(value, bool):
        return ["sì" if value else "no"]
    return str(value).splitlines() or [""]


def _one_item(item: Any) -> str:
    if isinstance(item, dict):
        return " | ".join(f"{name}: {value}" for name, value in item.items() if value not in (None, ""))
    return str(item)
