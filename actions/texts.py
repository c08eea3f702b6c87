"""What the actions say, in Italian and English. Knowledge itself comes from the database."""
from __future__ import annotations

from typing import Dict

TEXTS: Dict[str, Dict[str, str]] = {
    "source_line": {"it": "Fonte: {source}", "en": "Source: {source}"},
    "verified_line": {"it": "Verificato il {date}.", "en": "Last verified on {date}."},
    "unconfirmed_note": {
        "it": "Alcuni dettagli di questa scheda sono in verifica: un operatore dello sportello può confermarli.",
        "en": "Some details of this entry are being checked: a desk operator can confirm them for you.",
    },
    "was_it_useful": {"it": "Ti è stata utile?", "en": "Was this helpful?"},
    "button_helpful": {"it": "👍 Sì", "en": "👍 Yes"},
    "button_not_helpful": {"it": "👎 No", "en": "👎 No"},
    "button_human": {"it": "Parla con una persona", "en": "Talk to a person"},
    "button_yes_human": {"it": "Sì, scrivete a un operatore", "en": "Yes, ask an operator"},
    "button_no": {"it": "No, grazie", "en": "No, thanks"},
    "cannot_answer": {
        "it": (
            "Mi dispiace, a questa domanda non so rispondere con un'informazione verificata. "
            "Posso aiutarti su conciliazione vita-lavoro: smart working e orari, congedi e permessi, "
            "welfare aziendale, fondi artigiani (ELBA, San.Arti., FSBA), bonus e servizi per le famiglie.\n"
            "Vuoi che la tua domanda passi a un operatore dello sportello?"
        ),
        "en": (
            "Sorry, I can't answer this with verified information. "
            "I can help with work-life balance: smart working and hours, leave and permits, "
            "corporate welfare, artisan funds (ELBA, San.Arti., FSBA), family benefits and services.\n"
            "Would you like a desk operator to answer your question?"
        ),
    },
    "foreign_language": {
        "it": (
            "Posso rispondere solo in italiano o in inglese. / I can only answer in Italian or English.\n"
            "Vuoi che un operatore dello sportello ti contatti? / Would you like a desk operator to contact you?"
        ),
        "en": (
            "I can only answer in Italian or English. / Posso rispondere solo in italiano o in inglese.\n"
            "Would you like a desk operator to contact you? / Vuoi che un operatore ti contatti?"
        ),
    },
    "not_helpful": {
        "it": "Grazie del riscontro, ci aiuta a migliorare. Vuoi che un operatore dello sportello ti risponda di persona?",
        "en": "Thanks for the feedback, it helps us improve. Would you like a desk operator to answer you in person?",
    },
    "helpful": {
        "it": "Grazie del riscontro! Se hai un'altra domanda, scrivila pure.",
        "en": "Thanks for the feedback! If you have another question, just ask.",
    },
    "knowledge_unavailable": {
        "it": (
            "In questo momento non riesco a consultare la base di conoscenza, quindi preferisco non risponderti a memoria. "
            "Vuoi che la tua domanda passi a un operatore dello sportello?"
        ),
        "en": (
            "I can't reach the knowledge base right now, so I'd rather not answer from memory. "
            "Would you like a desk operator to answer your question?"
        ),
    },
    "intake_start": {
        "it": "Va bene: la tua richiesta passa a un operatore dello sportello, che ti risponderà in orario d'ufficio.",
        "en": "All right: your request goes to a desk operator, who will answer you during office hours.",
    },
}


def say(key: str, language: str, **values: str) -> str:
    variants = TEXTS[key]
    return variants.get(language, variants["it"]).format(**values)
