"""What the gateway itself says, in Italian and English (the assistant says the rest)."""
from __future__ import annotations

from typing import Optional

_TEXTS = {
    "start": {
        "it": (
            "Ciao! Sono l'assistente virtuale dello Sportello Conciliazione lavoro-famiglia "
            "\"Dialoga con noi\".\n\n"
            "Posso rispondere a domande su smart working e orari flessibili, congedi e permessi, "
            "welfare aziendale, fondi artigiani (ELBA, San.Arti., FSBA), bonus nido e servizi per le famiglie, "
            "sempre con la fonte e la data di verifica.\n\n"
            "Non posso dare consulenza legale o fiscale sul tuo caso, né rispondere su pensioni, licenziamenti "
            "o tasse: per questo, e per tutto ciò che non so, ti passo a un operatore dello sportello.\n\n"
            "Comandi: /aiuto cosa so fare · /calcola calcola il tuo caso (congedi, permessi 104, fringe benefit, bonus nido) · "
            "/operatore parla con una persona · /stato DC-XXXXXX "
            "a che punto è una richiesta · /bot torna all'assistente mentre un operatore ti segue.\n\n"
            "Capisco solo messaggi scritti. Come trattiamo i tuoi dati: {privacy_url}"
        ),
        "en": (
            "Hello! I'm the virtual assistant of the work-life balance desk \"Dialoga con noi\".\n\n"
            "I can answer questions on smart working and flexible hours, leave and permits, corporate welfare, "
            "artisan funds (ELBA, San.Arti., FSBA), nursery bonuses and family services, always with the source "
            "and the date it was checked.\n\n"
            "I cannot give legal or tax advice on your case, nor answer on pensions, dismissals or taxes: for "
            "that, and for anything I don't know, I hand you over to a desk operator.\n\n"
            "Commands: /aiuto what I can do · /calcola work out your case (leave, L. 104 permits, fringe benefits, "
            "nursery bonus) · /operatore talk to a person · /stato DC-XXXXXX "
            "where a request stands · /bot back to the assistant while an operator is handling you.\n\n"
            "I only understand written messages. How we handle your data: {privacy_url}"
        ),
    },
    "button_human": {"it": "Parla con una persona", "en": "Talk to a person"},
    "status_needs_ref": {
        "it": "Scrivi il riferimento della richiesta dopo il comando, per esempio: /stato DC-7K4M2Q",
        "en": "Write the request's reference after the command, for example: /stato DC-7K4M2Q",
    },
    "text_only": {
        "it": "Mi dispiace, capisco solo messaggi scritti: scrivimi la tua domanda a parole.",
        "en": "Sorry, I only understand written messages: please type your question.",
    },
    "attached": {
        "it": "Ho allegato «{name}» alla tua richiesta {ref}: l'operatore lo vedrà.",
        "en": "I attached \"{name}\" to your request {ref}: the operator will see it.",
    },
    "too_large": {
        "it": "Il file è troppo grande per allegarlo alla richiesta {ref}: il limite è {limit}. "
              "Puoi inviarne uno più piccolo o descrivere il contenuto per iscritto.",
        "en": "The file is too large to attach to your request {ref}: the limit is {limit}. "
              "You can send a smaller one or describe it in writing.",
    },
    "attach_failed": {
        "it": "Non sono riuscito ad allegare il file alla richiesta {ref}. Riprova tra qualche minuto.",
        "en": "I could not attach the file to your request {ref}. Please try again in a few minutes.",
    },
    "button_expired": {
        "it": "Questo pulsante non è più valido: scrivimi pure la risposta.",
        "en": "This button is no longer valid: please type your answer.",
    },
    "operator_reply": {
        "it": "Risposta dell'operatore sulla richiesta {ref}:\n\n{body}",
        "en": "The operator's reply on your request {ref}:\n\n{body}",
    },
}


def language_from(code: Optional[str]) -> str:
    """The Telegram client's language (e.g. "en-GB") as one of ours; Italian otherwise."""
    return "en" if (code or "").lower().startswith("en") else "it"


def language_hint(code: Optional[str]) -> Optional[str]:
    """The client's language as a hint for the assistant, only when it is one we speak."""
    code = (code or "").lower()
    return next((language for language in ("it", "en") if code.startswith(language)), None)


def say(key: str, language: str, **values) -> str:
    texts = _TEXTS[key]
    return texts.get(language, texts["it"]).format(**values)


def size_in_words(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    return f"{max(1, size // 1024)} KB"
