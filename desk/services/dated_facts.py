"""Dated facts: the time-bound statements of a knowledge answer (a deadline, a yearly
amount, a call) with the period each holds for.

An answer's text names a fact by a marker, `[[key]]`. At answer time the marker becomes
the fact's text while the fact holds, and a plain "this has ended, it is being updated"
line once its period is over, so that the assistant never presents a passed deadline as
open nor last year's amount as this year's. Pure functions: `today` is always given.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

MARKER = re.compile(r"\[\[([a-z0-9_]+)\]\]")
# A statement marked in the text as not yet confirmed; the answer then carries the note.
UNCONFIRMED_MARK = "(*)"

_MONTHS_IT = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
              "settembre", "ottobre", "novembre", "dicembre")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July",
              "August", "September", "October", "November", "December")

ENDED_TEXT = {
    "it": "{label}: il periodo si è chiuso il {date}. Le regole successive sono in aggiornamento: "
          "un operatore dello sportello può dirti cosa vale oggi.",
    "en": "{label}: this period ended on {date}. The rules that follow are being updated: "
          "a desk operator can tell you what applies today.",
}


class FactState(str, Enum):
    UPCOMING = "upcoming"  # valid_from is still ahead: not said yet
    CURRENT = "current"
    ENDED = "ended"  # valid_until has passed: said as ended, being updated


@dataclass(frozen=True)
class DatedFact:
    key: str
    label_it: str
    label_en: str
    text_it: str
    text_en: str
    valid_from: Optional[date] = None
    valid_until: Optional[date] = None  # the last day the fact holds; None: until changed
    budget_law: bool = False  # depends on the yearly budget law: reviewed at year end
    source_url: str = ""
    source_note: str = ""

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_it

    def text(self, language: str) -> str:
        return self.text_en if language == "en" else self.text_it

    def as_dict(self) -> Dict[str, Any]:
        return {
            "key": self.key, "label_it": self.label_it, "label_en": self.label_en,
            "text_it": self.text_it, "text_en": self.text_en,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "budget_law": self.budget_law, "source_url": self.source_url, "source_note": self.source_note,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "DatedFact":
        return cls(
            key=str(raw["key"]).strip(), label_it=str(raw.get("label_it") or "").strip(),
            label_en=str(raw.get("label_en") or "").strip(), text_it=str(raw.get("text_it") or "").strip(),
            text_en=str(raw.get("text_en") or "").strip(), valid_from=_as_date(raw.get("valid_from")),
            valid_until=_as_date(raw.get("valid_until")), budget_law=bool(raw.get("budget_law", False)),
            source_url=str(raw.get("source_url") or "").strip(),
            source_note=str(raw.get("source_note") or "").strip(),
        )


def _as_date(value: Any) -> Optional[date]:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def state(fact: DatedFact, today: date) -> FactState:
    """Inclusive at both ends: a fact valid until 30 April holds all of 30 April."""
    if fact.valid_from is not None and today < fact.valid_from:
        return FactState.UPCOMING
    if fact.valid_until is not None and today > fact.valid_until:
        return FactState.ENDED
    return FactState.CURRENT


def format_day(value: date, language: str) -> str:
    if language == "en":
        return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"
    return f"{value.day} {_MONTHS_IT[value.month - 1]} {value.year}"


def ended_text(fact: DatedFact, language: str) -> str:
    template = ENDED_TEXT.get(language, ENDED_TEXT["it"])
    return template.format(label=fact.label(language), date=format_day(fact.valid_until, language))


@dataclass(frozen=True)
class RenderedAnswer:
    text: str
    ended: Tuple[str, ...]  # keys of the facts said as ended (the answer is being updated)
    unconfirmed: bool  # the text contains a statement marked as not yet confirmed


def render(template: str, facts: Iterable[DatedFact], today: date, language: str) -> RenderedAnswer:
    """The answer text for `today`: each marker replaced by its fact's text (current), by
    the ended line (ended) or by nothing (upcoming, unknown). Lines left empty go."""
    by_key = {fact.key: fact for fact in facts}
    ended: List[str] = []

    def replace(match: "re.Match[str]") -> str:
        fact = by_key.get(match.group(1))
        if fact is None:
            return ""
        current = state(fact, today)
        if current is FactState.CURRENT:
            return fact.text(language)
        if current is FactState.ENDED:
            ended.append(fact.key)
            return ended_text(fact, language)
        return ""

    text = MARKER.sub(replace, template)
    lines = [line for line in text.splitlines() if line.strip() not in ("", "•")]
    text = "\n".join(lines).strip()
    return RenderedAnswer(text=text, ended=tuple(ended), unconfirmed=UNCONFIRMED_MARK in text)


def markers_in(template: str) -> List[str]:
    return MARKER.findall(template or "")


# ---- the desk's lists ----------------------------------------------------------------

@dataclass(frozen=True)
class FactDue:
    topic: str
    fact: DatedFact
    days_left: int  # negative once ended


def expiring(facts_by_topic: Mapping[str, Sequence[DatedFact]], today: date, within_days: int) -> List[FactDue]:
    """Facts that end within `within_days` days from today (today included), soonest first."""
    horizon = today + timedelta(days=within_days)
    rows = [FactDue(topic, fact, (fact.valid_until - today).days)
            for topic, facts in facts_by_topic.items() for fact in facts
            if fact.valid_until is not None and today <= fact.valid_until <= horizon]
    return sorted(rows, key=lambda row: (row.fact.valid_until, row.topic, row.fact.key))


def ended(facts_by_topic: Mapping[str, Sequence[DatedFact]], today: date) -> List[FactDue]:
    """Facts whose period is over: the answer says they are being updated. Longest ended first."""
    rows = [FactDue(topic, fact, (fact.valid_until - today).days)
            for topic, facts in facts_by_topic.items() for fact in facts
            if state(fact, today) is FactState.ENDED]
    return sorted(rows, key=lambda row: (row.fact.valid_until, row.topic, row.fact.key))


def budget_law_review(facts_by_topic: Mapping[str, Sequence[DatedFact]], today: date) -> List[FactDue]:
    """Facts that depend on the yearly budget law and still hold or ended this year: to be
    re-read against the new law at year end (the law is published by 31 December)."""
    rows = [FactDue(topic, fact, (fact.valid_until - today).days if fact.valid_until else 10 ** 6)
            for topic, facts in facts_by_topic.items() for fact in facts
            if fact.budget_law and (fact.valid_until is None or fact.valid_until.year >= today.year)]
    return sorted(rows, key=lambda row: (row.fact.valid_until or date.max, row.topic, row.fact.key))


def validate_facts(facts: Sequence[DatedFact], templates: Sequence[str]) -> Dict[str, str]:
    """Errors by fact key (or "facts"), in Italian for the desk."""
    errors: Dict[str, str] = {}
    seen = set()
    for fact in facts:
        if not re.fullmatch(r"[a-z0-9_]+", fact.key or ""):
            errors[fact.key or "facts"] = "La chiave usa solo lettere minuscole, cifre e _."
        elif fact.key in seen:
            errors[fact.key] = "Chiave ripetuta."
        seen.add(fact.key)
        if not (fact.text_it and fact.text_en and fact.label_it and fact.label_en):
            errors[fact.key] = "Testo ed etichetta servono in italiano e in inglese."
        if fact.valid_from and fact.valid_until and fact.valid_until < fact.valid_from:
            errors[fact.key] = "La fine del periodo viene prima dell'inizio."
    used = {key for template in templates for key in markers_in(template)}
    missing = sorted(used - seen)
    if missing:
        errors["facts"] = "Il testo richiama fatti che non esistono: " + ", ".join(missing)
    return errors
