"""The checks' parameters: read from the seed file or the database, seeded idempotently,
edited by supervisors in the desk with a version per change."""
from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.models import CheckParameter, CheckParameterVersion
from desk.models.base import utcnow
from desk.services.checks.result import Parameter, ParameterSet
from desk.services.validation import InvalidFields, is_web_url
from desk.topics import load_topics

log = logging.getLogger(__name__)

SEED_FILE = Path("checks") / "parameters.yml"  # under the knowledge directory
EDITABLE_FIELDS = ("label", "value", "unit", "valid_from", "valid_until", "topic", "source", "source_url",
                   "verified_on", "unconfirmed")
UNITS = ("months", "years", "days", "hours", "percent", "eur", "times", "count", "month", "date")
FIELD_LABELS = {
    "label": "Descrizione", "value": "Valore", "unit": "Unità", "valid_from": "Valido dal",
    "valid_until": "Valido fino al", "topic": "Argomento", "source": "Fonte", "source_url": "Indirizzo della fonte",
    "verified_on": "Verificato il", "unconfirmed": "Da confermare",
}


class InvalidParameter(InvalidFields):
    pass


class ParameterConflict(RuntimeError):
    def __init__(self, current: int, author: str):
        super().__init__(f"parameter is at version {current} by {author}")
        self.current, self.author = current, author


class SeedError(ValueError):
    pass


# ---- reading ------------------------------------------------------------------------

def _as_date(value: Any) -> Optional[date]:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def read_seed(path: Path) -> List[Dict[str, Any]]:
    """The seed file's parameters as content dicts (the editable fields plus the key)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    defaults = document.get("defaults") or {}
    contents = []
    for raw in document.get("parameters", []):
        raw = dict(defaults, **raw)
        try:
            content = {
                "key": str(raw["key"]),
                "label": str(raw.get("label", "")).strip(),
                "value": str(raw["value"]),
                "unit": str(raw["unit"]),
                "valid_from": _as_date(raw["valid_from"]),
                "valid_until": _as_date(raw.get("valid_until")),
                "topic": str(raw["topic"]),
                "source": str(raw["source"]).strip(),
                "source_url": str(raw.get("source_url") or "").strip(),
                "verified_on": _as_date(raw["verified_on"]),
                "unconfirmed": bool(raw.get("unconfirmed", False)),
            }
        except (KeyError, ValueError) as exc:
            raise SeedError(f"{path}: parameter {raw.get('key', '?')} is incomplete: {exc}") from exc
        errors = validate_content(content)
        if errors:
            raise SeedError(f"{path}: parameter {content['key']}: {errors}")
        contents.append(content)
    return contents


def _parameter(content: Dict[str, Any]) -> Parameter:
    return Parameter(
        key=content["key"], value=content["value"], unit=content["unit"], valid_from=content["valid_from"],
        valid_until=content["valid_until"], topic=content["topic"], source=content["source"],
        source_url=content["source_url"], verified_on=content["verified_on"], unconfirmed=content["unconfirmed"],
    )


def parameters_from_seed(path: Path) -> ParameterSet:
    return ParameterSet(_parameter(content) for content in read_seed(path))


def parameters_from_database(session: Session) -> ParameterSet:
    rows = session.scalars(select(CheckParameter).order_by(CheckParameter.key, CheckParameter.valid_from))
    return ParameterSet(_parameter(dict(content(row), key=row.key)) for row in rows)


def content(row: CheckParameter) -> Dict[str, Any]:
    return {name: getattr(row, name) for name in EDITABLE_FIELDS}


def snapshot(row: CheckParameter) -> Dict[str, Any]:
    """The editable fields as JSON (a version's content)."""
    return {name: (value.isoformat() if isinstance(value, date) else value) for name, value in content(row).items()}


def list_parameters(session: Session) -> List[CheckParameter]:
    return list(session.scalars(select(CheckParameter).order_by(CheckParameter.key, CheckParameter.valid_from)))


def find(session: Session, parameter_id: int) -> Optional[CheckParameter]:
    return session.get(CheckParameter, parameter_id)


# ---- validation ---------------------------------------------------------------------

def validate_content(values: Dict[str, Any], today: Optional[date] = None) -> Dict[str, str]:
    """Errors by field, in Italian for the desk; empty when the values can be saved."""
    errors: Dict[str, str] = {}
    unit = values.get("unit")
    if unit not in UNITS:
        errors["unit"] = "Unità non valida."
    value = str(values.get("value") or "").strip()
    if unit == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            errors["value"] = "Per l'unità «date» il valore è una data AAAA-MM-GG."
    else:
        try:
            number = Decimal(value)
            if not number.is_finite() or number < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors["value"] = "Il valore deve essere un numero (con il punto per i decimali, es. 258.23)."
    for name in ("valid_from", "verified_on"):
        if not isinstance(values.get(name), date):
            errors[name] = "Data non valida (AAAA-MM-GG)."
    until = values.get("valid_until")
    if until is not None and not isinstance(until, date):
        errors["valid_until"] = "Data non valida (AAAA-MM-GG), oppure lasciala vuota."
    elif until is not None and isinstance(values.get("valid_from"), date) and until < values["valid_from"]:
        errors["valid_until"] = "La fine del periodo non può precedere l'inizio."
    if today and isinstance(values.get("verified_on"), date) and values["verified_on"] > today:
        errors["verified_on"] = "La data di verifica non può essere nel futuro."
    if not str(values.get("source") or "").strip():
        errors["source"] = "Indica la fonte (legge, circolare)."
    if values.get("source_url") and not is_web_url(values["source_url"]):
        errors["source_url"] = "L'indirizzo della fonte deve iniziare con http:// o https://."
    if str(values.get("topic") or "").strip() not in load_topics():
        errors["topic"] = "L'argomento deve essere uno dei 42 della base di conoscenza (es. congedo_parentale)."
    return errors


def _overlapping(session: Session, key: str, valid_from: date, valid_until: Optional[date],
                 except_id: Optional[int] = None) -> Optional[CheckParameter]:
    """Another period of the same key that shares a day with this one."""
    for other in session.scalars(select(CheckParameter).where(CheckParameter.key == key)):
        if other.id == except_id:
            continue
        starts_before_other_ends = other.valid_until is None or valid_from <= other.valid_until
        ends_after_other_starts = valid_until is None or other.valid_from <= valid_until
        if starts_before_other_ends and ends_after_other_starts:
            return other
    return None


# ---- seeding ------------------------------------------------------------------------

@dataclass
class ParameterSeedReport:
    created: List[str] = field(default_factory=list)
    updated: List[str] = field(default_factory=list)
    unchanged: List[str] = field(default_factory=list)
    kept_edited: List[str] = field(default_factory=list)


def seed_parameters(session: Session, path: Path) -> ParameterSeedReport:
    """Create missing parameters (by key and start of period), follow the seed file for
    those nobody edited, never overwrite one edited in the desk."""
    report = ParameterSeedReport()
    for seed in read_seed(path):
        label = f"{seed['key']}@{seed['valid_from'].isoformat()}"
        row = session.scalars(select(CheckParameter).where(
            CheckParameter.key == seed["key"], CheckParameter.valid_from == seed["valid_from"])).first()
        values = {name: seed[name] for name in EDITABLE_FIELDS}
        if row is None:
            row = CheckParameter(key=seed["key"], version=1, updated_by="seed", updated_at=utcnow(), **values)
            session.add(row)
            session.flush()
            session.add(CheckParameterVersion(parameter=row, version=1, content=snapshot(row), author="seed",
                                              note="created"))
            report.created.append(label)
        elif row.edited_in_desk:
            report.kept_edited.append(label)
        elif content(row) != values:
            _save(row, values, author="seed", note="seed file changed", session=session)
            report.updated.append(label)
        else:
            report.unchanged.append(label)
    session.flush()
    log.info("check parameters seed: %d created, %d updated, %d unchanged, %d kept (edited in desk)",
             len(report.created), len(report.updated), len(report.unchanged), len(report.kept_edited))
    return report


# ---- editing ------------------------------------------------------------------------

def _save(row: CheckParameter, values: Dict[str, Any], author: str, note: str, session: Session) -> None:
    for name, value in values.items():
        setattr(row, name, value)
    row.version += 1
    row.updated_by = author
    row.updated_at = utcnow()
    session.add(CheckParameterVersion(parameter=row, version=row.version, content=snapshot(row), author=author,
                                      note=note))
    session.flush()


def edit_parameter(session: Session, parameter_id: int, values: Dict[str, Any], author: str, based_on_version: int,
                   today: date, note: str = "") -> CheckParameter:
    """A supervisor's save: validated, refused if someone saved in between or if the
    period overlaps another period of the same rule; a new version only if something changed."""
    errors = validate_content(values, today)
    row = session.scalars(select(CheckParameter).where(CheckParameter.id == parameter_id).with_for_update()
                          .execution_options(populate_existing=True)).first()
    if row is None:
        raise LookupError(parameter_id)
    if not errors:
        other = _overlapping(session, row.key, values["valid_from"], values["valid_until"], except_id=row.id)
        if other is not None:
            errors["valid_from"] = (f"Il periodo si sovrappone a quello dal {other.valid_from.isoformat()} "
                                    "dello stesso parametro.")
    if errors:
        raise InvalidParameter(errors)
    if row.version != based_on_version:
        raise ParameterConflict(row.version, row.updated_by)
    if content(row) == {name: values[name] for name in EDITABLE_FIELDS}:
        return row
    row.edited_in_desk = True
    _save(row, {name: values[name] for name in EDITABLE_FIELDS}, author, note, session)
    return row


def add_period(session: Session, key: str, values: Dict[str, Any], author: str, today: date,
               note: str = "") -> CheckParameter:
    """A new period of an existing rule (e.g. next year's ceiling)."""
    if session.scalars(select(CheckParameter).where(CheckParameter.key == key)).first() is None:
        raise LookupError(key)
    errors = validate_content(values, today)
    if not errors and _overlapping(session, key, values["valid_from"], values["valid_until"]) is not None:
        errors["valid_from"] = "Il periodo si sovrappone a un altro periodo dello stesso parametro."
    if errors:
        raise InvalidParameter(errors)
    row = CheckParameter(key=key, version=1, updated_by=author, updated_at=utcnow(), edited_in_desk=True,
                         **{name: values[name] for name in EDITABLE_FIELDS})
    session.add(row)
    session.flush()
    session.add(CheckParameterVersion(parameter=row, version=1, content=snapshot(row), author=author,
                                      note=note or "new period"))
    session.flush()
    return row


@dataclass(frozen=True)
class VersionChange:
    version: int
    author: str
    created_at: Any
    note: str
    diff: List[str]


def history(session: Session, parameter_id: int) -> List[VersionChange]:
    """Every version, newest first, each with its diff from the one before."""
    versions = list(session.scalars(select(CheckParameterVersion).where(
        CheckParameterVersion.parameter_id == parameter_id).order_by(CheckParameterVersion.version)))
    changes, previous = [], {}
    for version in versions:
        lines: List[str] = []
        for name in EDITABLE_FIELDS:
            before = [] if not previous else [str(previous.get(name))]
            after = [str(version.content.get(name))]
            if before != after:
                label = FIELD_LABELS[name]
                lines += difflib.unified_diff(before, after, fromfile=f"{label} (prima)", tofile=f"{label} (dopo)",
                                              lineterm="", n=0)
        changes.append(VersionChange(version.version, version.author, version.created_at, version.note, lines))
        previous = version.content
    return list(reversed(changes))
