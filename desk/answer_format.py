"""How a knowledge answer reads in the chat. Shared by the answer action and the desk's
preview, so that operators see exactly what users will get."""
from __future__ import annotations

from typing import Dict, Iterable, Sequence

from desk.text import printable

ANSWER_TEXTS: Dict[str, Dict[str, str]] = {
    "source_line": {"it": "Fonte: {source}", "en": "Source: {source}"},
    "verified_line": {"it": "Verificato il {date}.", "en": "Last verified on {date}."},
    "unconfirmed_note": {
        "it": "(*) Punto ancora da confermare: un operatore dello sportello può verificarlo per te.",
        "en": "(*) Not yet confirmed: a desk operator can check it for you.",
    },
    "updating_note": {
        "it": "Questa scheda è in aggiornamento per le scadenze e gli importi indicati come chiusi. "
              "Vuoi che ti risponda un operatore? Usa il pulsante «Parla con una persona».",
        "en": "This entry is being updated for the deadlines and amounts marked as ended. "
              "Would you like an operator to answer? Use the \"Talk to a person\" button.",
    },
    "was_it_useful": {"it": "Ti è stata utile?", "en": "Was this helpful?"},
    "where_to_go": {"it": "Dove rivolgersi:", "en": "Where to go:"},
    "point_hours": {"it": "orari: {hours}", "en": "hours: {hours}"},
    "point_phone": {"it": "tel. {phone}", "en": "phone {phone}"},
}

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July",
              "August", "September", "October", "November", "December")


def answer_text(key: str, language: str, **values: str) -> str:
    variants = ANSWER_TEXTS[key]
    return variants.get(language, variants["it"]).format(**values)


def format_date(value, language: str) -> str:
    if language == "en":
        return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"
    return value.strftime("%d/%m/%Y")


def one_line(value: str) -> str:
    """Operator-entered text inside a chat line: no control characters, no line breaks
    that could pass for lines of their own."""
    return " ".join(printable(value or "").split())


def compose_answer(answer, service_points: Sequence = ()) -> str:
    """answer: a KnowledgeAnswer; service_points: ServicePointCard-like objects (see
    desk.services.directory), at most a few, already chosen for the topic."""
    language = answer.language
    source = answer.source + (f" — {answer.source_url}" if answer.source_url else "")
    parts = [answer.title, answer.text, answer_text("source_line", language, source=source)
             + "\n" + answer_text("verified_line", language, date=format_date(answer.verified_on, language))]
    if answer.unconfirmed:
        parts.append(answer_text("unconfirmed_note", language))
    if getattr(answer, "updating", ()):
        parts.append(answer_text("updating_note", language))
    if service_points:
        parts.append(where_to_go(service_points, language))
    parts.append(answer_text("was_it_useful", language))
    return "\n\n".join(parts)


def where_to_go(service_points: Iterable, language: str) -> str:
    lines = [answer_text("where_to_go", language)]
    for point in service_points:
        lines.append("• " + point_line(point, language))
    return "\n".join(lines)


def point_line(point, language: str) -> str:
    place = ", ".join(one_line(value) for value in (point.address, point.municipality) if one_line(value))
    details = [
        place,
        answer_text("point_hours", language, hours=one_line(point.opening_hours)) if one_line(point.opening_hours) else "",
        answer_text("point_phone", language, phone=one_line(point.phone)) if one_line(point.phone) else "",
        one_line(point.email),
        one_line(point.website),
    ]
    details = [detail for detail in details if detail]
    name = one_line(point.name)
    return name + (" — " + "; ".join(details) if details else "")
