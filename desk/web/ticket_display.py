"""How tickets read in the desk: Italian labels, local times, the business calendar."""
from __future__ import annotations

from datetime import datetime
from typing import Dict, Iterable, Optional

from flask import Blueprint, current_app

from desk.models import DeliveryStatus, TicketEventKind, TicketStatus
from desk.services.business_hours import BusinessCalendar

STATUS_LABELS = {
    TicketStatus.OPEN.value: "Aperto",
    TicketStatus.IN_PROGRESS.value: "In lavorazione",
    TicketStatus.WAITING_ON_USER.value: "In attesa dell'utente",
    TicketStatus.RESOLVED.value: "Risolto",
    TicketStatus.CLOSED.value: "Chiuso",
}
# What the button that moves a ticket to each status says.
STATUS_ACTIONS = {
    TicketStatus.OPEN.value: "Riapri",
    TicketStatus.IN_PROGRESS.value: "In lavorazione",
    TicketStatus.WAITING_ON_USER.value: "In attesa dell'utente",
    TicketStatus.RESOLVED.value: "Risolvi",
    TicketStatus.CLOSED.value: "Chiudi",
}
CHANNEL_LABELS = {"telegram": "Telegram", "widget": "Sito (widget)", "rest": "API REST", "email": "e-mail"}
ROLE_LABELS = {"worker": "Lavoratore/lavoratrice", "owner": "Titolare d'impresa", "consultant": "Consulente", "other": "Altro"}
LANGUAGE_LABELS = {"it": "italiano", "en": "inglese"}
CONTACT_KIND_LABELS = {"email": "e-mail", "phone": "telefono", "channel": "rispondere in chat"}
EVENT_LABELS = {
    TicketEventKind.CREATED.value: "Ticket aperto",
    TicketEventKind.STATUS_CHANGED.value: "Cambio di stato",
    TicketEventKind.ASSIGNED.value: "Assegnazione",
    TicketEventKind.REPLY.value: "Risposta all'utente",
    TicketEventKind.NOTE.value: "Nota interna",
    TicketEventKind.FOLLOW_UP.value: "Messaggio dell'utente",
    TicketEventKind.ATTACHMENT.value: "Allegato",
    TicketEventKind.CONTACT_CHANGED.value: "Cambio di contatto",
}
# What each kind of outbox message is, in the ticket's list of e-mails.
OUTBOUND_KIND_LABELS = {"reply": "risposta", "resolved": "avviso di risoluzione", "link": "link alla pagina di seguito"}
DELIVERY_LABELS = {
    DeliveryStatus.QUEUED.value: "in coda",
    DeliveryStatus.SENT.value: "inviato",
    DeliveryStatus.FAILED.value: "non consegnato",
    DeliveryStatus.SENDING.value: "in invio",
    DeliveryStatus.UNCONFIRMED.value: "consegna non confermata: verificare con l'utente",
}
AREA_LABELS = {
    "lavoro_flessibile": "Lavoro flessibile",
    "congedi": "Congedi",
    "welfare_aziendale": "Welfare aziendale",
    "fondi_artigiani": "Fondi bilaterali artigiani",
    "incentivi_pubblici": "Incentivi pubblici",
    "servizi_famiglie": "Servizi per le famiglie",
    "sportello": "Lo sportello",
}
ACTOR_LABELS = {"user": "Utente", "assistant": "Assistente", "system": "Sistema"}
_WEEKDAYS = ("lun", "mar", "mer", "gio", "ven", "sab", "dom")


def business_calendar() -> BusinessCalendar:
    """The desk's calendar, read from the environment once per application."""
    return current_app.extensions.setdefault("dialoga.calendar", BusinessCalendar.from_env())


def local_time(moment: Optional[datetime], with_weekday: bool = True) -> str:
    """A stored (naive UTC) time as an operator in Milan reads it: "lun 23/11/2026 09:00"."""
    if moment is None:
        return ""
    local = business_calendar().to_local(moment)
    text = f"{local:%d/%m/%Y %H:%M}"
    return f"{_WEEKDAYS[local.weekday()]} {text}" if with_weekday else text


def people_names(users: Iterable) -> Dict[str, str]:
    """Operators' display names by login, for assignees and event actors."""
    return {user.email: user.display_name for user in users}


def actor_name(actor: Optional[str], names: Dict[str, str]) -> str:
    if not actor:
        return "—"
    return ACTOR_LABELS.get(actor) or names.get(actor, actor)


def _label(mapping: Dict[str, str]):
    return lambda value: mapping.get(value.value if hasattr(value, "value") else value, value or "—")


def register_filters(blueprint: Blueprint) -> None:
    """Template filters for every page that shows tickets."""
    for name, mapping in (
        ("status_label", STATUS_LABELS), ("status_action", STATUS_ACTIONS), ("channel_label", CHANNEL_LABELS),
        ("role_label", ROLE_LABELS), ("language_label", LANGUAGE_LABELS), ("contact_kind_label", CONTACT_KIND_LABELS),
        ("event_label", EVENT_LABELS), ("delivery_label", DELIVERY_LABELS), ("area_label", AREA_LABELS),
        ("outbound_kind_label", OUTBOUND_KIND_LABELS),
    ):
        blueprint.add_app_template_filter(_label(mapping), name)
    blueprint.add_app_template_filter(local_time, "local_time")
    blueprint.add_app_template_filter(actor_name, "actor_name")
