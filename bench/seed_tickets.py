"""Fill a desk database with realistic tickets for benchmarks: Italian (and some English)
questions and transcripts, three years of history, mostly closed, a backlog of active ones.

Rows are bulk-inserted with SQLAlchemy Core (executemany, which psycopg2 turns into
multi-row INSERTs): far faster than opening 100,000 tickets one by one, and the same data
the ticket service would write. Never point it at a database that matters.

    python -m bench.seed_tickets --url postgresql://postgres@127.0.0.1:5432/dialoga_bench_x --tickets 100000
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta
from typing import Dict, Iterator, List

from sqlalchemy import func, insert, select, text

from desk.db import Database
from desk.models import Ticket, TicketEvent, TicketEventKind, TicketStatus
from desk.models.base import utcnow
from desk.services.business_hours import BusinessCalendar
from desk.services.tickets import REFERENCE_ALPHABET, REFERENCE_LENGTH, REFERENCE_PREFIX
from desk.topics import topic_ids

BATCH = 5000
HISTORY_DAYS = 3 * 365
RECENT_DAYS = 30  # tickets older than this are all resolved or closed
OPERATORS = [f"operatore{number}@sportello.example" for number in range(1, 9)]

FIRST_NAMES = ["Giulia", "Marco", "Francesca", "Luca", "Chiara", "Andrea", "Sara", "Matteo", "Elena", "Davide",
               "Valentina", "Alessandro", "Martina", "Simone", "Federica", "Stefano", "Paola", "Giorgio",
               "Silvia", "Roberto", "Anna", "Paolo", "Laura", "Fabio", "Ilaria", "Nicola", "Monica", "Emanuele",
               "Roberta", "Daniele", "Aisha", "Mohamed", "Ioana", "Bogdan", "Xin", "Fatima"]
LAST_NAMES = ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
              "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti",
              "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Brambilla",
              "Sala", "Cattaneo", "Villa", "Fumagalli", "Crippa", "Pozzi", "Longoni"]
TRADES = ["Falegnameria", "Panificio", "Officina meccanica", "Acconciature", "Impresa edile", "Studio grafico",
          "Tipografia", "Sartoria", "Pasticceria", "Idraulica", "Elettrauto", "Lavanderia", "Gelateria",
          "Carpenteria", "Estetica", "Ceramiche", "Vetreria", "Autoriparazioni"]
PLACES = ["Milano", "Monza", "Sesto San Giovanni", "Rho", "Legnano", "Cinisello Balsamo", "Lodi", "Pavia",
          "Bergamo", "Lambrate", "Niguarda", "Bollate", "Segrate", "San Donato", "Abbiategrasso", "Magenta"]
RELATIVES = ["mia madre", "mio padre", "mia suocera", "mio figlio", "mia figlia", "mio marito", "mia moglie", "mio nonno"]

QUESTIONS_IT = [
    "Lavoro in una {trade} con {n} dipendenti a {place}: posso chiedere lo smart working due giorni a settimana?",
    "Il mio datore di lavoro può rifiutare il lavoro agile se ho un figlio di {age} anni?",
    "Devo comunicare io al Ministero l'accordo di smart working o lo fa l'azienda?",
    "Sono titolare di una {trade} a {place}: come si scrive l'accordo individuale di lavoro agile?",
    "Se mi faccio male mentre lavoro da casa sono coperto dall'INAIL?",
    "Dopo le 19 il mio capo continua a scrivermi: esiste un diritto alla disconnessione?",
    "Posso passare al part-time per {months} mesi e poi tornare a tempo pieno?",
    "Vorrei un orario flessibile in entrata per accompagnare {relative} a scuola, come lo chiedo?",
    "Quanti giorni di congedo di paternità spettano a un papà dipendente di una {trade}?",
    "Il congedo parentale è pagato all'80% anche se lavoro in un'impresa artigiana di {n} persone?",
    "Sono in maternità fino a {month}: posso chiedere il congedo parentale a ore?",
    "Come funzionano i permessi della legge 104 per assistere {relative}?",
    "Posso prendere il congedo straordinario di due anni per {relative} con disabilità grave?",
    "{relative_cap} è anziano e non autosufficiente: quali aiuti ci sono per conciliare lavoro e assistenza?",
    "Cosa si intende per welfare aziendale e conviene anche a un'impresa di {n} dipendenti?",
    "I buoni pasto e il rimborso dell'asilo nido rientrano nei beni esenti del welfare?",
    "Qual è la soglia dei fringe benefit quest'anno per chi ha figli a carico?",
    "Posso convertire il premio di risultato in welfare? Ho una {trade} a {place}.",
    "Da dove si parte per introdurre un piano di welfare in una piccola impresa artigiana?",
    "Serve un contratto di secondo livello per dare welfare ai miei {n} dipendenti?",
    "Possiamo fare una rete d'impresa con altre botteghe di {place} per un nido aziendale?",
    "Quali prestazioni dà l'ELBA ai lavoratori che hanno avuto un figlio?",
    "L'ELBA rimborsa le spese del centro estivo di {relative}? Come si presenta la domanda?",
    "La mia {trade} è iscritta all'ELBA: ci sono contributi per le imprese che fanno conciliazione?",
    "San.Arti. copre le visite pediatriche? Sono dipendente di un'impresa artigiana.",
    "Ho diritto all'FSBA se la {trade} chiude per {weeks} settimane?",
    "Ci sono detrazioni fiscali per le spese della baby sitter o del doposcuola?",
    "Il bonus asilo nido INPS si può chiedere anche se {relative} va al nido privato di {place}?",
    "Come funziona la misura Nidi gratis della Lombardia per chi abita a {place}?",
    "L'assegno unico si somma al bonus nido? Ho {kids} figli.",
    "Ci sono bandi regionali per la conciliazione aperti adesso per le imprese di {place}?",
    "Durante la chiusura estiva delle scuole quali servizi ci sono a {place} per i bambini?",
    "Cerco un doposcuola vicino a {place} per {relative}, potete aiutarmi?",
    "Cos'è il progetto Conciliazione in pratica e come può aderire la mia {trade}?",
    "Vorrei un appuntamento con lo sportello per parlare del piano di welfare, quando siete aperti?",
    "Che fine fanno i miei dati personali se vi scrivo?",
    "Buongiorno, il mio datore dice che per il part-time devo aspettare {months} mesi, è vero?",
    "Mi hanno negato le ferie per l'inserimento al nido di {relative}, cosa posso fare?",
    "Posso lavorare da {place} invece che dalla sede di Milano qualche giorno al mese?",
    "Ho due lavori part-time, come calcolo i giorni di congedo parentale?",
]
QUESTIONS_EN = [
    "I work for a small {trade_en} in {place}: can I ask for remote work two days a week?",
    "How many days of paternity leave can a father take in Italy?",
    "Is parental leave paid if I work for an artisan firm with {n} employees?",
    "Does ELBA refund summer camp costs for my child?",
    "Can I get the INPS nursery bonus for a private nursery in {place}?",
    "What is corporate welfare and is it worth it for a firm of {n} people?",
    "Who has to notify the Ministry about my smart working agreement?",
    "Can I move to part-time for {months} months and then go back to full time?",
    "Are there regional grants for work-life balance projects right now?",
    "My employer keeps messaging me late at night, is there a right to disconnect?",
]
TRADES_EN = ["bakery", "carpentry shop", "hair salon", "print shop", "garage", "tailor's shop"]
BOT_OFFER_IT = ("Mi dispiace, a questa domanda non so rispondere con un'informazione verificata. "
                "Vuoi che la passi a un operatore dello sportello?")
BOT_OFFER_EN = "I'm sorry, I can't answer this with verified information. Shall I pass it to a desk operator?"


def _reference(rng: random.Random, used: set) -> str:
    while True:
        ref = REFERENCE_PREFIX + "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        if ref not in used:
            used.add(ref)
            return ref


def _fill(template: str, rng: random.Random) -> str:
    relative = rng.choice(RELATIVES)
    return template.format(
        trade=rng.choice(TRADES).lower(), trade_en=rng.choice(TRADES_EN), n=rng.randint(2, 45),
        place=rng.choice(PLACES), age=rng.randint(1, 12), months=rng.choice([3, 6, 12, 18]),
        month=rng.choice(["marzo", "giugno", "settembre", "dicembre"]), relative=relative,
        relative_cap=relative[0].upper() + relative[1:], weeks=rng.randint(2, 10), kids=rng.randint(1, 4),
    )


def _status(rng: random.Random, age_days: float) -> TicketStatus:
    if age_days > RECENT_DAYS:
        return TicketStatus.CLOSED if rng.random() < 0.85 else TicketStatus.RESOLVED
    return rng.choices(
        [TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_USER, TicketStatus.RESOLVED, TicketStatus.CLOSED],
        weights=[35, 25, 20, 15, 5],
    )[0]


def _transcript(rng: random.Random, question: str, language: str, name: str, created: datetime) -> List[Dict]:
    at = created - timedelta(minutes=3)
    english = language == "en"
    lines = [("user", question), ("bot", BOT_OFFER_EN if english else BOT_OFFER_IT), ("user", "yes" if english else "sì"),
             ("bot", "What is your name?" if english else "Come ti chiami?"), ("user", name)]
    if rng.random() < 0.4:
        lines.insert(0, ("user", "hello" if english else rng.choice(["ciao", "buongiorno", "salve"])))
        lines.insert(1, ("bot", "Hi! Ask me about work-life balance." if english else
                         "Ciao! Chiedimi pure di conciliazione tra lavoro e famiglia."))
    return [{"who": who, "text": text, "at": (at + timedelta(seconds=20 * i)).isoformat()} for i, (who, text) in enumerate(lines)]


def ticket_rows(count: int, now: datetime, rng: random.Random, calendar: BusinessCalendar) -> Iterator[Dict]:
    topics = topic_ids()
    used: set = set()
    sla_cache: Dict[datetime, datetime] = {}
    # Older tickets thin out: most of the load is recent, like a service that grew. Ids follow the
    # opening time, as they do when the assistant opens tickets one after the other.
    ages = sorted((HISTORY_DAYS * (rng.random() ** 1.3) for _ in range(count)), reverse=True)
    for number, age_days in enumerate(ages, start=1):
        created = (now - timedelta(days=age_days)).replace(microsecond=0)
        status = _status(rng, age_days)
        english = rng.random() < 0.1
        language = "en" if english else "it"
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}"
        role = rng.choices(["worker", "owner", "consultant", "other"], weights=[60, 30, 5, 5])[0]
        channel = rng.choices(["telegram", "widget", "rest"], weights=[55, 40, 5])[0]
        question = _fill(rng.choice(QUESTIONS_EN if english else QUESTIONS_IT), rng)
        if rng.random() < 0.6:
            contact, contact_kind = f"{first}.{last}@example.org".lower().replace(" ", ""), "email"
        else:
            contact, contact_kind = f"+39 3{rng.randint(10, 99)} {rng.randint(1000000, 9999999)}", "phone"
        hour = created.replace(minute=0, second=0)
        if hour not in sla_cache:
            sla_cache[hour] = calendar.sla_due(hour)
        sla_due = sla_cache[hour] + (created - hour)
        picked = rng.sample(topics, rng.randint(1, 3)) if rng.random() < 0.9 else []
        confidences = sorted((round(rng.uniform(0.1, 0.7), 3) for _ in picked), reverse=True)
        updated = created + timedelta(hours=rng.uniform(0, 72)) if status is not TicketStatus.OPEN else created
        finished = status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        yield {
            "id": number,
            "ref": _reference(rng, used),
            "status": status.value,
            "channel": channel,
            "reply_address": str(rng.randint(10**8, 10**9)) if channel == "telegram" else f"{channel}-{number}",
            "conversation_id": f"{channel}-{number}",
            "language": language,
            "role": role,
            "name": name,
            "contact": contact,
            "contact_kind": contact_kind,
            "company_name": f"{rng.choice(TRADES)} {rng.choice(LAST_NAMES)}" if role == "owner" or rng.random() < 0.5 else "",
            "company_size": rng.choice(["1-9", "10-49", "50+"]) if role == "owner" else None,
            "company_artisan": rng.random() < 0.7 if role == "owner" else None,
            "question": question,
            "consent_at": created,
            "transcript": _transcript(rng, question, language, name, created),
            "suggested_topics": [{"topic": t, "confidence": c} for t, c in zip(picked, confidences)],
            "sla_due_at": sla_due,
            "assignee": None if status is TicketStatus.OPEN and rng.random() < 0.8 else rng.choice(OPERATORS),
            "intake_key": None,
            "created_at": created,
            "updated_at": updated,
            "first_response_at": created + timedelta(hours=rng.uniform(0.5, 30)) if status is not TicketStatus.OPEN else None,
            "resolved_at": updated if finished else None,
            "closed_at": updated if status is TicketStatus.CLOSED else None,
        }


def seed_tickets(database: Database, count: int = 100_000, rng_seed: int = 7, now: datetime = None) -> Dict[str, float]:
    """Insert `count` tickets (ids 1..count) with their "created" event into an empty ticket table."""
    now = now or utcnow()
    rng = random.Random(rng_seed)
    calendar = BusinessCalendar()
    started = time.perf_counter()
    batch: List[Dict] = []
    with database.engine.begin() as connection:
        if connection.scalar(select(func.count()).select_from(Ticket)):
            raise RuntimeError("seed_tickets fills an empty ticket table only")
        for row in ticket_rows(count, now, rng, calendar):
            batch.append(row)
            if len(batch) == BATCH:
                _insert(connection, batch)
                batch = []
        if batch:
            _insert(connection, batch)
        if connection.dialect.name == "postgresql":
            # Explicit ids leave the sequences behind: the next real ticket must not collide.
            connection.execute(text("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))"))
            connection.execute(text("SELECT setval(pg_get_serial_sequence('ticket_events', 'id'), (SELECT max(id) FROM ticket_events))"))
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("VACUUM ANALYZE tickets"))
            connection.execute(text("VACUUM ANALYZE ticket_events"))
        else:
            connection.execute(text("ANALYZE"))
    return {"seconds": time.perf_counter() - started}


def _insert(connection, rows: List[Dict]) -> None:
    connection.execute(insert(Ticket.__table__), rows)
    connection.execute(insert(TicketEvent.__table__), [
        {"id": row["id"], "ticket_id": row["id"], "kind": TicketEventKind.CREATED.value, "actor": "user",
         "before": None, "after": TicketStatus.OPEN.value, "body": None, "public": True, "created_at": row["created_at"]}
        for row in rows
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="a migrated, throwaway desk database")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    database = Database(args.url)
    try:
        result = seed_tickets(database, args.tickets, args.seed)
    finally:
        database.dispose()
    print(f"{args.tickets} tickets in {result['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
