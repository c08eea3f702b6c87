"""What the actions say, in Italian and English. Knowledge itself comes from the database."""
from __future__ import annotations

from typing import Dict

from desk.answer_format import ANSWER_TEXTS

TEXTS: Dict[str, Dict[str, str]] = {
    "button_helpful": {"it": "👍 Sì", "en": "👍 Yes"},
    "button_not_helpful": {"it": "👎 No", "en": "👎 No"},
    "button_human": {"it": "Parla con una persona", "en": "Talk to a person"},
    "button_yes_human": {"it": "Sì, scrivete a un operatore", "en": "Yes, ask an operator"},
    "button_no": {"it": "No, grazie", "en": "No, thanks"},
    "clarify": {
        "it": "Non sono sicuro di aver capito bene. Di quale di questi argomenti vuoi sapere?",
        "en": "I'm not sure I understood. Which of these topics do you mean?",
    },
    "clarify_one": {
        "it": "Non sono sicuro di aver capito bene. Vuoi sapere di questo argomento?",
        "en": "I'm not sure I understood. Is this the topic you mean?",
    },
    "button_none_of_these": {
        "it": "Nessuna di queste: parla con una persona",
        "en": "None of these: talk to a person",
    },
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
}


def say(key: str, language: str, **values: str) -> str:
    variants = TEXTS[key]
    return variants.get(language, variants["it"]).format(**values)

INTAKE_TEXTS: Dict[str, Dict[str, str]] = {
    "ask_role": {
        "it": "Per passare la tua richiesta a un operatore mi servono pochi dati; puoi scrivere «annulla» in qualsiasi momento.\nTu sei:",
        "en": "To pass your request to an operator I need a few details; you can write \"cancel\" at any time.\nYou are:",
    },
    "role_worker": {"it": "Lavoratore/lavoratrice", "en": "A worker"},
    "role_owner": {"it": "Titolare d'impresa", "en": "A firm owner"},
    "role_consultant": {"it": "Consulente", "en": "A consultant"},
    "role_other": {"it": "Altro", "en": "Other"},
    "role_invalid": {"it": "Non ho capito: scegli una delle opzioni qui sotto.", "en": "Sorry, please choose one of the options below."},
    "ask_name": {"it": "Come ti chiami? (nome e cognome)", "en": "What is your name? (first and last name)"},
    "name_invalid": {"it": "Mi scrivi nome e cognome, per favore?", "en": "Could you write your first and last name, please?"},
    "ask_contact": {
        "it": "Come possiamo risponderti? Scrivi un indirizzo email o un numero di telefono.",
        "en": "How can we answer you? Write an e-mail address or a phone number.",
    },
    "ask_contact_here": {
        "it": "Come possiamo risponderti? Scrivi un indirizzo email o un numero di telefono, oppure ti rispondiamo qui in chat.",
        "en": "How can we answer you? Write an e-mail address or a phone number, or we can answer you right here in the chat.",
    },
    "button_contact_here": {"it": "Rispondetemi qui", "en": "Answer me here"},
    "contact_invalid": {
        "it": "Questo contatto non sembra valido. Riscrivilo, per esempio nome@esempio.it oppure 333 123 4567.",
        "en": "That contact does not look valid. Please write it again, e.g. name@example.com or +39 333 123 4567.",
    },
    "ask_company_name": {"it": "Come si chiama la tua impresa?", "en": "What is the name of your firm?"},
    "ask_company_size": {"it": "Quante persone lavorano nell'impresa?", "en": "How many people work in the firm?"},
    "size_invalid": {"it": "Scegli una delle fasce qui sotto, per favore.", "en": "Please choose one of the ranges below."},
    "ask_company_artisan": {"it": "È un'impresa artigiana?", "en": "Is it an artisan firm (impresa artigiana)?"},
    "yes": {"it": "Sì", "en": "Yes"},
    "no": {"it": "No", "en": "No"},
    "yes_no_invalid": {"it": "Rispondi sì o no, per favore.", "en": "Please answer yes or no."},
    "ask_question_draft": {
        "it": "La domanda che passo all'operatore è:\n«{draft}»\nVa bene così? Rispondi «sì», oppure riscrivila come preferisci.",
        "en": "The question I will pass to the operator is:\n\"{draft}\"\nIs that right? Answer \"yes\", or write it again as you prefer.",
    },
    "button_question_ok": {"it": "Sì, va bene", "en": "Yes, that's right"},
    "ask_question": {
        "it": "Scrivi la tua domanda per l'operatore, con i dettagli utili. Non servono dati sulla salute: se non sono necessari, non scriverli.",
        "en": "Write your question for the operator, with the useful details. Please leave out health details unless they are needed.",
    },
    "question_invalid": {
        "it": "La domanda è troppo breve: scrivi qualche dettaglio in più, per favore.",
        "en": "That is a bit short: please add a few more details.",
    },
    "ask_consent": {
        "it": (
            "Riepilogo della richiesta:\n{summary}\n\n"
            "Informativa breve: lo sportello conserva questi dati e la conversazione solo per rispondere alla tua richiesta "
            "e per il tempo indicato nell'informativa completa; puoi chiederne la cancellazione in ogni momento. "
            "Informativa completa: {privacy_url}\n\n"
            "Acconsenti al trattamento dei tuoi dati per ricevere la risposta?"
        ),
        "en": (
            "Summary of your request:\n{summary}\n\n"
            "Short notice: the desk keeps these details and the conversation only to answer your request, "
            "for the period stated in the full notice; you can ask for them to be deleted at any time. "
            "Full privacy notice: {privacy_url}\n\n"
            "Do you consent to the processing of your data so that we can answer you?"
        ),
    },
    "button_consent_yes": {"it": "Acconsento e invio", "en": "I consent, send it"},
    "button_consent_no": {"it": "Non acconsento", "en": "I do not consent"},
    "button_correct": {"it": "Correggi: {field}", "en": "Correct: {field}"},
    "consent_invalid": {
        "it": "Per inviare la richiesta serve il tuo consenso: rispondi «acconsento» oppure «non acconsento».",
        "en": "To send the request I need your consent: answer \"I consent\" or \"I do not consent\".",
    },
    "consent_refused": {
        "it": "Va bene: non ho registrato nessuna richiesta né alcun dato personale.\nPuoi comunque rivolgerti allo sportello in altri modi:\n\n{contacts}",
        "en": "All right: I have not registered any request or personal data.\nYou can still reach the desk in other ways:\n\n{contacts}",
    },
    "contacts_unavailable": {
        "it": "I contatti dello sportello sono sul sito del progetto CIP: http://cip.cittametropolitana.milano.it",
        "en": "The desk's contacts are on the CIP project's website: http://cip.cittametropolitana.milano.it",
    },
    "ticket_opened": {
        "it": (
            "Fatto! La tua richiesta è registrata con il codice {ref}. Conservalo: se lo scrivi qui ti dico a che punto è.\n"
            "Un operatore ti risponderà {how} entro {due} (orario d'ufficio: {hours})."
        ),
        "en": (
            "Done! Your request is registered with the reference {ref}. Keep it: write it here to see how it is going.\n"
            "An operator will answer you {how} by {due} (office hours: {hours})."
        ),
    },
    "how_here": {"it": "qui in chat", "en": "here in the chat"},
    "how_email": {"it": "via email", "en": "by e-mail"},
    "how_phone": {"it": "per telefono", "en": "by phone"},
    "ticket_saved_offline": {
        "it": (
            "La tua richiesta è salvata con il codice {ref}: in questo momento il nostro archivio non risponde, "
            "la registreremo appena torna disponibile e non devi rifare nulla. Un operatore ti risponderà in orario d'ufficio."
        ),
        "en": (
            "Your request is saved with the reference {ref}: our records are not answering right now, "
            "so we will register it as soon as they are back, and you don't need to do anything again. "
            "An operator will answer you during office hours."
        ),
    },
    "cancelled": {
        "it": "Richiesta annullata: non ho registrato nulla. Posso aiutarti in altro?",
        "en": "Request cancelled: nothing was registered. Can I help with anything else?",
    },
    "status": {
        "it": "Richiesta {ref}: {status}.",
        "en": "Request {ref}: {status}.",
    },
    "status_update": {
        "it": "Ultimo aggiornamento ({date}): {text}",
        "en": "Last update ({date}): {text}",
    },
    "status_not_found": {
        "it": "Non trovo nessuna richiesta con il codice {ref}. Controlla di averlo scritto bene (es. DC-7K4M2Q).",
        "en": "I can't find any request with the reference {ref}. Please check it (e.g. DC-7K4M2Q).",
    },
    "status_too_many": {
        "it": "Hai cercato molte richieste in poco tempo: per sicurezza aspetta {minutes} minuti prima di cercarne altre. "
              "Se hai bisogno subito, scrivi \"operatore\".",
        "en": "You have looked up many requests in a short time: for security, please wait {minutes} minutes before "
              "looking up more. If you need help now, write \"operator\".",
    },
    "status_unavailable": {
        "it": "In questo momento non riesco a consultare l'archivio delle richieste: riprova tra qualche minuto.",
        "en": "I can't reach the request records right now: please try again in a few minutes.",
    },
    "follow_up_added": {
        "it": "Ho aggiunto il tuo messaggio alla richiesta {ref}: l'operatore lo vedrà. Finché se ne occupa, "
              "i tuoi messaggi vanno a lui e io resto in silenzio; scrivi /bot se vuoi tornare a parlare con me.",
        "en": "I have added your message to request {ref}: the operator will see it. While they handle it, your "
              "messages go to them and I stay quiet; write /bot if you want to talk to me again.",
    },
    "back_to_bot": {
        "it": "Va bene, da ora ti rispondo di nuovo io. La richiesta {ref} resta aperta: la risposta "
              "dell'operatore arriverà comunque qui.",
        "en": "All right, I am answering you again from now on. Request {ref} stays open: the operator's "
              "reply will still reach you here.",
    },
    "back_to_bot_nothing_open": {
        "it": "Ti sto già rispondendo io: nessun operatore sta seguendo una tua richiesta in questo momento.",
        "en": "I am already answering you: no operator is handling a request of yours right now.",
    },
    "back_to_bot_button": {"it": "Torna all'assistente", "en": "Back to the assistant"},
    "field_role": {"it": "ruolo", "en": "role"},
    "field_name": {"it": "nome", "en": "name"},
    "field_contact": {"it": "contatto", "en": "contact"},
    "field_company": {"it": "impresa", "en": "firm"},
    "field_question": {"it": "domanda", "en": "question"},
    "follow_up_link_sent": {
        "it": "Se per la richiesta {ref} è stato lasciato un indirizzo e-mail, ti abbiamo appena inviato lì il link "
              "alla pagina dove seguirla e rispondere all'operatore. Per sicurezza il link non viene mai mostrato in chat.",
        "en": "If an e-mail address was left for request {ref}, we have just sent the link to the page where you can "
              "follow it and answer the operator to that address. For your safety the link is never shown in the chat.",
    },
}

STATUS_LABELS: Dict[str, Dict[str, str]] = {
    "open": {"it": "ricevuta, in attesa di un operatore", "en": "received, waiting for an operator"},
    "in_progress": {"it": "in lavorazione", "en": "being handled"},
    "waiting_on_user": {"it": "in attesa di una tua risposta", "en": "waiting for your reply"},
    "resolved": {"it": "risolta", "en": "resolved"},
    "closed": {"it": "chiusa", "en": "closed"},
}

TEXTS.update(INTAKE_TEXTS)
# The answer's own lines (source, date, where to go) live with the desk, which previews them.
TEXTS.update(ANSWER_TEXTS)
