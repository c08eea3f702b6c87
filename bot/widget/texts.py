"""What the widget gateway itself says to users, in Italian and English."""
from __future__ import annotations

from typing import Dict

MAX_TEXT_LENGTH = 2000

TEXTS: Dict[str, Dict[str, str]] = {
    "rate_limited": {
        "it": "Stai scrivendo molto velocemente: aspetta qualche secondo e riprova.",
        "en": "You are writing very fast: please wait a few seconds and try again.",
    },
    "session_expired": {
        "it": "La conversazione è scaduta: ne inizio una nuova.",
        "en": "This conversation has expired: I am starting a new one.",
    },
    "origin_refused": {
        "it": "Questo sito non è autorizzato a usare la chat dello sportello.",
        "en": "This site is not allowed to use the desk's chat.",
    },
    "bad_request": {"it": "Richiesta non valida.", "en": "Invalid request."},
    "request_too_large": {
        "it": "La richiesta è troppo grande: scrivi un messaggio più breve.",
        "en": "The request is too large: please write a shorter message.",
    },
    "empty_text": {"it": "Scrivi un messaggio prima di inviarlo.", "en": "Please write a message first."},
    "too_long": {
        "it": f"Il messaggio è troppo lungo: scrivilo in meno di {MAX_TEXT_LENGTH} caratteri.",
        "en": f"The message is too long: please keep it under {MAX_TEXT_LENGTH} characters.",
    },
    "database_unavailable": {
        "it": "Lo sportello non riesce a leggere i messaggi in questo momento: riprovo tra poco.",
        "en": "The desk cannot read its messages right now: I will try again shortly.",
    },
    "bad_email": {
        "it": "Questo indirizzo e-mail non sembra valido: controllalo e riprova.",
        "en": "This e-mail address does not look valid: please check it and try again.",
    },
    "consent_needed": {
        "it": "Per ricevere gli avvisi per e-mail serve il tuo consenso: spunta la casella.",
        "en": "To get the notices by e-mail we need your consent: please tick the box.",
    },
    "no_subscription": {
        "it": "Non hai avvisi attivi in questa conversazione: premi prima «Avvisami se cambia» sotto una risposta.",
        "en": "You have no active notices in this conversation: first press \"Notify me if it changes\" under an answer.",
    },
    "notices_by_email": {
        "it": "Fatto: gli avvisi ({count}) arriveranno per e-mail all'indirizzo che hai indicato, al massimo uno al giorno. Ogni e-mail ha un link per annullare l'iscrizione.",
        "en": "Done: the notices ({count}) will come by e-mail to the address you gave, at most one a day. Every e-mail has a link to unsubscribe.",
    },
    "hours_open": {"it": "Operatori in servizio ora ({hours})", "en": "Operators available now ({hours})"},
    "hours_closed": {
        "it": "Operatori non in servizio: riapriamo {when}",
        "en": "Operators are away: back {when}",
    },
    "hours_closed_intake": {
        "it": ("Gli operatori in questo momento non sono in servizio (orario: {hours}). Puoi lasciare comunque "
               "la richiesta: ti risponderemo qui dalla riapertura, {when}."),
        "en": ("Our operators are away right now (office hours: {hours}). You can still leave your request: "
               "we will answer you here once we are back, {when}."),
    },
}


def say(key: str, language: str, **values: str) -> str:
    variants = TEXTS[key]
    return variants.get(language, variants["it"]).format(**values)
