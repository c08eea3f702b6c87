"""Directory of local service points: list and filter, create and edit with validation,
the points the assistant names for a topic, and idempotent seeding from YAML."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.models import SERVICE_POINT_KINDS, ServicePoint, ServicePointVersion
from desk.models.base import utcnow
from desk.services import areas
from desk.services.validation import InvalidFields, is_web_url
from desk.text import printable
from desk.topics import load_topics

log = logging.getLogger(__name__)

EDITABLE_FIELDS = (
    "name", "kind", "address", "municipality", "opening_hours", "phone", "email", "website",
    "topics", "notes", "source", "to_complete", "active",
    "source_url", "checked_on", "areas", "serves_everywhere", "latitude", "longitude",
)
CONTACT_FIELDS = ("address", "opening_hours", "phone", "email")
_TEXT_LIMITS = {"name": 200, "address": 300, "municipality": 120, "phone": 120, "email": 200, "website": 500,
                "source_url": 500}
# How many points the assistant names after an answer: enough to choose, short enough to read.
MAX_POINTS_IN_ANSWER = 3


class InvalidServicePoint(InvalidFields):
    pass


@dataclass(frozen=True)
class ServicePointCard:
    """What the chat says about a point: detached from the session."""

    name: str
    kind: str
    address: str
    municipality: str
    opening_hours: str
    phone: str
    email: str
    website: str

    @classmethod
    def of(cls, point: ServicePoint) -> "ServicePointCard":
        return cls(point.name, point.kind, point.address, point.municipality, point.opening_hours,
                   point.phone, point.email, point.website)


def missing_contacts(point: ServicePoint) -> List[str]:
    """Which of address, hours, phone and e-mail no official page has given yet."""
    return [name for name in CONTACT_FIELDS if not getattr(point, name)]


def serves_area(point: ServicePoint, comune_name: str, municipi: Sequence[int] = ()) -> bool:
    """Online, regional or national services serve every comune; a local point the comuni
    (or Milan municipi, "Milano – Municipio N") listed in its areas. For a user in Milan whose
    CAP names municipi, a point of other municipi only does not serve them."""
    if point.serves_everywhere:
        return True
    wanted = comune_name.strip().lower()
    for area in point.areas or []:
        municipio = _MUNICIPIO.match(area)
        if municipio:
            if wanted == areas.MILANO.lower() and (not municipi or int(municipio.group(1)) in municipi):
                return True
        elif area.strip().lower() == wanted:
            return True
    return point.municipality.strip().lower() == wanted and not (municipi and any(
        _MUNICIPIO.match(area) for area in point.areas or []))


def points_for_area(session: Session, comune_name: str, topic: Optional[str] = None,
                    limit: Optional[int] = None, municipi: Sequence[int] = ()) -> List[ServicePoint]:
    """The active points for a user's comune (optionally for one topic, and in Milan for the
    municipi of the user's CAP): local ones first, then those serving everywhere; complete ones
    before those still to complete."""
    points = [point for point in list_points(session, topic=topic, include_inactive=False)
              if serves_area(point, comune_name, municipi)]
    points.sort(key=lambda point: (point.serves_everywhere, point.to_complete, -_contact_count(point),
                                   point.name.lower()))
    return points[:limit] if limit else points


@dataclass
class DirectorySeedReport:
    created: List[str] = field(default_factory=list)
    updated: List[str] = field(default_factory=list)
    unchanged: List[str] = field(default_factory=list)
    kept_edited: List[str] = field(default_factory=list)
    kept_deleted: List[str] = field(default_factory=list)


class DirectorySeedError(ValueError):
    pass


# ---- reading -------------------------------------------------------------------------

def get(session: Session, point_id: int) -> Optional[ServicePoint]:
    point = session.get(ServicePoint, point_id)
    return None if point is None or point.deleted_at is not None else point


def list_points(
    session: Session, topic: Optional[str] = None, kind: Optional[str] = None, search: str = "",
    include_inactive: bool = True,
) -> List[ServicePoint]:
    """The directory, filtered; a small table, so topics (a JSON list) are matched in Python
    the same way on SQLite and PostgreSQL."""
    query = select(ServicePoint).where(ServicePoint.deleted_at.is_(None)).order_by(ServicePoint.name)
    if kind:
        query = query.where(ServicePoint.kind == kind)
    if not include_inactive:
        query = query.where(ServicePoint.active.is_(True))
    points = list(session.scalars(query))
    if topic:
        points = [point for point in points if topic in (point.topics or [])]
    needle = (search or "").strip().lower()
    if needle:
        points = [point for point in points if needle in _haystack(point)]
    return points


def _haystack(point: ServicePoint) -> str:
    return " ".join((point.name, point.address, point.municipality, point.notes, point.email, point.website)).lower()


def points_for_topic(session: Session, topic: str, limit: int = MAX_POINTS_IN_ANSWER) -> List[ServicePointCard]:
    """The active points that serve a topic, the most useful first: complete ones, then
    those with more ways to reach them."""
    points = list_points(session, topic=topic, include_inactive=False)
    points.sort(key=lambda point: (point.to_complete, -_contact_count(point), point.name.lower()))
    return [ServicePointCard.of(point) for point in points[:limit]]


def _contact_count(point: ServicePoint) -> int:
    return sum(1 for value in (point.address, point.opening_hours, point.phone, point.email, point.website) if value)


# ---- writing -------------------------------------------------------------------------

def clean(content: Dict[str, Any]) -> Dict[str, Any]:
    """Normalise submitted values: trimmed single-line text, topics as a list of ids."""
    cleaned: Dict[str, Any] = {}
    for name, value in content.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} is not an editable field of a service point")
        if name in ("to_complete", "active", "serves_everywhere"):
            cleaned[name] = bool(value)
        elif name == "topics":
            cleaned[name] = sorted({str(item).strip() for item in (value or []) if str(item).strip()})
        elif name == "areas":
            cleaned[name] = [_area_name(item) for item in (value or []) if str(item).strip()]
        elif name == "checked_on":
            try:
                cleaned[name] = _as_date(value)
            except ValueError:
                cleaned[name] = str(value)  # validate() says what is wrong
        elif name in ("latitude", "longitude"):
            try:
                cleaned[name] = float(str(value).replace(",", ".")) if value not in (None, "") else None
            except ValueError:
                cleaned[name] = str(value)
        elif name in ("opening_hours", "notes", "source"):
            cleaned[name] = printable(str(value or "")).strip()
        else:
            cleaned[name] = " ".join(printable(str(value or "")).split())
    return cleaned


_MUNICIPIO = re.compile(r"^milano\s*[-–—]?\s*municipio\s+(\d+)$", re.IGNORECASE)
MILAN_MUNICIPI = 9


def _area_name(value: Any) -> str:
    """A comune's name, or a Milan municipio written the one way: "Milano – Municipio N"."""
    text = " ".join(printable(str(value)).split())
    municipio = _MUNICIPIO.match(text)
    return f"Milano – Municipio {int(municipio.group(1))}" if municipio else text


def unknown_areas(values: List[str]) -> List[str]:
    known = {name.lower() for name in areas.names()}
    wrong = []
    for value in values:
        municipio = _MUNICIPIO.match(value)
        if municipio:
            if not 1 <= int(municipio.group(1)) <= MILAN_MUNICIPI:
                wrong.append(value)
        elif value.lower() not in known:
            wrong.append(value)
    return wrong


def _as_date(value: Any):
    from datetime import date

    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def snapshot(point: ServicePoint) -> Dict[str, Any]:
    content = {name: getattr(point, name) for name in EDITABLE_FIELDS}
    content["checked_on"] = point.checked_on.isoformat() if point.checked_on else None
    content["topics"] = list(point.topics or [])
    content["areas"] = list(point.areas or [])
    return content


def _record_version(session: Session, point: ServicePoint, author: str, note: str = "") -> None:
    session.add(ServicePointVersion(point_id=point.id, version=point.version, content=snapshot(point),
                                    author=author, note=note, created_at=utcnow()))


def versions(session: Session, point: ServicePoint) -> List[ServicePointVersion]:
    return list(session.scalars(select(ServicePointVersion).where(ServicePointVersion.point_id == point.id)
                                .order_by(ServicePointVersion.version.desc())))


def validate(content: Dict[str, Any]) -> Dict[str, str]:
    """Errors by field, in Italian for the desk; empty when the content is acceptable."""
    errors: Dict[str, str] = {}
    if "name" in content and not content["name"]:
        errors["name"] = "Il nome è obbligatorio."
    if "kind" in content and content["kind"] not in SERVICE_POINT_KINDS:
        errors["kind"] = "Tipo non valido."
    for name, limit in _TEXT_LIMITS.items():
        if len(content.get(name) or "") > limit:
            errors[name] = f"Al massimo {limit} caratteri."
    if content.get("email") and "email" not in errors:
        try:
            validate_email(content["email"], check_deliverability=False)
        except EmailNotValidError:
            errors["email"] = "Indirizzo email non valido."
    if content.get("website") and "website" not in errors and not is_web_url(content["website"]):
        errors["website"] = "Il sito deve essere un indirizzo http:// o https://."
    if content.get("source_url") and "source_url" not in errors and not is_web_url(content["source_url"]):
        errors["source_url"] = "La fonte deve essere un indirizzo http:// o https://."
    checked_on = content.get("checked_on")
    if checked_on is not None and not isinstance(checked_on, date):
        errors["checked_on"] = "Data non valida (aaaa-mm-gg)."
    elif checked_on is not None and checked_on > utcnow().date() + timedelta(days=1):
        errors["checked_on"] = "La data di verifica non può essere futura."
    for name, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
        value = content.get(name)
        if value is not None and not (isinstance(value, float) and low <= value <= high):
            errors[name] = f"Un numero tra {low} e {high} (gradi decimali, es. 45.4642)."
    if ("latitude" in content or "longitude" in content) and (content.get("latitude") is None) != (
            content.get("longitude") is None) and not (errors.get("latitude") or errors.get("longitude")):
        errors["longitude" if content.get("longitude") is None else "latitude"] = "Servono sia la latitudine sia la longitudine."
    wrong_areas = unknown_areas(content.get("areas") or [])
    if wrong_areas:
        errors["areas"] = ("Aree sconosciute: " + ", ".join(wrong_areas) +
                           ". Scrivi il nome di un comune dell'area ATS Milano o «Milano – Municipio N» (1–9).")
    unknown = sorted(set(content.get("topics") or []) - set(load_topics()))
    if unknown:
        errors["topics"] = "Argomenti sconosciuti: " + ", ".join(unknown)
    return errors


def create_point(session: Session, content: Dict[str, Any], author: str, seed_key: Optional[str] = None) -> ServicePoint:
    content = clean(content)
    errors = validate({"name": "", "kind": "other", **content})
    if errors:
        raise InvalidServicePoint(errors)
    now = utcnow()
    point = ServicePoint(seed_key=seed_key, created_at=now, updated_at=now, updated_by=author,
                         edited_in_desk=seed_key is None, version=1, **_defaults())
    for name, value in content.items():
        setattr(point, name, value)
    session.add(point)
    session.flush()
    _record_version(session, point, author, "creato")
    session.flush()
    return point


def _defaults() -> Dict[str, Any]:
    return {"kind": "other", "address": "", "municipality": "", "opening_hours": "", "phone": "", "email": "",
            "website": "", "topics": [], "notes": "", "source": "", "to_complete": False, "active": True,
            "source_url": "", "checked_on": None, "areas": [], "serves_everywhere": False, "latitude": None,
            "longitude": None}


def update_point(session: Session, point: ServicePoint, changes: Dict[str, Any], author: str,
                 from_seed: bool = False) -> ServicePoint:
    changes = clean(changes)
    errors = validate(changes)
    if errors:
        raise InvalidServicePoint(errors)
    if all(getattr(point, name) == value for name, value in changes.items()):
        return point  # nothing changed: no empty version
    for name, value in changes.items():
        setattr(point, name, value)
    point.updated_at = utcnow()
    point.updated_by = author
    point.version = (point.version or 1) + 1
    if not from_seed:
        point.edited_in_desk = True
    _record_version(session, point, author, "seed" if from_seed else "")
    session.flush()
    return point


def delete_point(session: Session, point: ServicePoint, author: str) -> None:
    """Gone from the desk and the chat; the row stays as a tombstone so that seeding
    does not bring a seeded point back."""
    point.deleted_at = utcnow()
    point.active = False
    point.updated_at = point.deleted_at
    point.updated_by = author
    point.edited_in_desk = True
    point.version = (point.version or 1) + 1
    _record_version(session, point, author, "eliminato")
    session.flush()


# ---- seeding -------------------------------------------------------------------------

def read_seed_file(path: Path) -> List[Dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle) or {}
    seeds = []
    keys = set()
    for raw in document.get("service_points", []):
        key = raw.get("key")
        if not key or key in keys:
            raise DirectorySeedError(f"{path}: every service point needs a unique key (got {key!r})")
        keys.add(key)
        content = clean({name: raw[name] for name in EDITABLE_FIELDS if name in raw})
        errors = validate({"name": "", **content})
        if errors:
            raise DirectorySeedError(f"{path}: service point {key}: {errors}")
        seeds.append({"key": key, "content": {**_defaults(), **content}})
    return seeds


def seed_directory(session: Session, path: Path) -> DirectorySeedReport:
    """Idempotent, like the knowledge seed: a new key is created, a point nobody edited
    follows the file, a point edited or deleted in the desk is left alone."""
    report = DirectorySeedReport()
    if not path.exists():
        log.warning("no directory seed file at %s", path)
        return report
    existing = {point.seed_key: point for point in session.scalars(
        select(ServicePoint).where(ServicePoint.seed_key.is_not(None)))}
    for seed in read_seed_file(path):
        key, content = seed["key"], seed["content"]
        point = existing.get(key)
        if point is None:
            create_point(session, content, author="seed", seed_key=key)
            report.created.append(key)
        elif point.deleted_at is not None:
            report.kept_deleted.append(key)
        elif point.edited_in_desk:
            report.kept_edited.append(key)
        elif any(getattr(point, name) != value for name, value in content.items()):
            update_point(session, point, content, author="seed", from_seed=True)
            report.updated.append(key)
        else:
            report.unchanged.append(key)
    log.info("directory seed: %d created, %d updated, %d unchanged, %d kept (edited), %d kept deleted",
             len(report.created), len(report.updated), len(report.unchanged), len(report.kept_edited),
             len(report.kept_deleted))
    return report

