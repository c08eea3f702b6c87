"""What the desk's e-mails say, in Italian and English."""
from __future__ import annotations

from typing import Dict

TEXTS: Dict[str, Dict[str, str]] = {
    "subject_reply": {
        "it": "[{ref}] Risposta alla tua richiesta allo sportello Dialoga con noi",
        "en": "[{ref}] Reply to your request to the Dialoga con noi desk",
    },
    "subject_resolved": {
        "it": "[{ref}] La tua richiesta è stata risolta",
        "en": "[{ref}] Your request has been resolved",
    },
    "subject_link": {
        "it": "[{ref}] Il link per seguire la tua richiesta",
        "en": "[{ref}] The link to follow your request",
    },
    "subject_update_notice": {
        "it": "Sono cambiate le regole: {title}",
        "en": "The rules have changed: {title}",
    },
    "intro_update_notice": {
        "it": "sono cambiate le regole di un argomento che segui, «{title}». Ecco l'inizio della nuova risposta:",
        "en": "the rules of a topic you follow, \"{title}\", have changed. This is how the new answer begins:",
    },
    "unsubscribe": {
        "it": "Per la risposta completa chiedi di nuovo allo sportello virtuale. Non vuoi più ricevere avvisi su questo argomento? Annulla l'iscrizione (il tuo indirizzo viene cancellato):",
        "en": "For the full answer ask the virtual desk again. Don't want notices on this topic any more? Unsubscribe (your address is deleted):",
    },
    "unsubscribe_button": {"it": "Annulla l'iscrizione", "en": "Unsubscribe"},
    "why_update_notice": {
        "it": "Ricevi questa e-mail perché hai chiesto allo sportello virtuale «Dialoga con noi» di avvisarti per e-mail se cambiano le regole di «{title}», dando il tuo consenso. Al massimo un avviso al giorno.",
        "en": "You are receiving this e-mail because you asked the \"Dialoga con noi\" virtual desk, with your consent, to tell you by e-mail when the rules on \"{title}\" change. At most one notice a day.",
    },
    "greeting": {"it": "Buongiorno {name},", "en": "Hello {name},"},
    "greeting_anonymous": {"it": "Buongiorno,", "en": "Hello,"},
    "intro_reply": {
        "it": "un operatore dello sportello ha risposto alla tua richiesta {ref}:",
        "en": "a desk operator has answered your request {ref}:",
    },
    "intro_resolved": {
        "it": "la tua richiesta {ref} è stata risolta dall'operatore.",
        "en": "your request {ref} has been resolved by the operator.",
    },
    "intro_link": {
        "it": "hai chiesto il link per seguire la tua richiesta {ref}.",
        "en": "you asked for the link to follow your request {ref}.",
    },
    "follow_up": {
        "it": "Per leggere tutta la conversazione, rispondere all'operatore o chiudere la richiesta, apri la tua pagina personale (il link vale {days} giorni, non inoltrarlo):",
        "en": "To read the whole conversation, answer the operator or close the request, open your personal page (the link is valid for {days} days, do not forward it):",
    },
    "follow_up_button": {"it": "Apri la tua richiesta", "en": "Open your request"},
    "signature": {
        "it": "Sportello Conciliazione lavoro-famiglia «Dialoga con noi» — progetto Conciliazione in pratica (CIP)",
        "en": "Work-life balance desk \"Dialoga con noi\" — project Conciliazione in pratica (CIP)",
    },
    "why": {
        "it": "Ricevi questa e-mail perché hai lasciato questo indirizzo per la richiesta {ref} allo sportello virtuale «Dialoga con noi».",
        "en": "You are receiving this e-mail because you left this address for request {ref} at the \"Dialoga con noi\" virtual desk.",
    },
    "stop": {
        "it": "Non vuoi più ricevere questi avvisi? Chiudi la richiesta dalla tua pagina, oppure rispondi a questa e-mail chiedendo di non scriverti più.",
        "en": "Don't want these notices any more? Close the request from your page, or reply to this e-mail asking us to stop writing to you.",
    },
}


def say(key: str, language: str, **values: object) -> str:
    variants = TEXTS[key]
    return variants.get(language, variants["it"]).format(**values)
