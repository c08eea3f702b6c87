"""A person with data in every table that can hold it, and a check that a database holds
none of their identifiers or words any more."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Tuple

from sqlalchemy import JSON, LargeBinary, String, Text, select

from desk.models import AssistantTurn, Base, LearningDecisionKind
from desk.services import analytics, learning, telegram_updates, tickets
from desk.services.business_hours import BusinessCalendar
from desk.services.tickets import TicketIntake

CALENDAR = BusinessCalendar()


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    phone_typed: str
    phone: str  # E.164, as the ticket form stores it
    chat_id: str
    company: str
    question: str
    unanswered: str
    follow_up: str
    caption: str
    file_bytes: bytes
    unanswered_en: str

    @property
    def sender_id(self) -> str:
        return f"telegram-{self.chat_id}"

    def secrets(self) -> List[str]:
        """Every string that identifies the person or that they wrote."""
        return [self.name, self.email, self.phone, self.chat_id, self.company, self.question, self.unanswered,
                self.follow_up, self.caption, self.unanswered_en]


GIULIA = Person(
    name="Giulia Bianchimarrone", email="giulia.bianchimarrone@example.org", phone_typed="347 555 0142",
    phone="+393475550142", chat_id="918273645", company="Sartoria Bianchimarrone",
    question="Mio figlio ha una malattia cronica rara: posso chiedere il part-time per assisterlo senza perdere il posto?",
    unanswered="quanti permessi ho per la terapia settimanale di mio figlio zorbatico",
    follow_up="Aggiungo che il certificato della ASL arriva il mese prossimo, protocollo 88-QXW",
    caption="certificato neuropsichiatria Bianchimarrone",
    file_bytes=b"%PDF-1.4 referto Bianchimarrone zorbatico",
    unanswered_en="how many hours of leave for zorbatic therapy",
)
OTHER = Person(
    name="Paolo Verdi", email="paolo.verdi@example.org", phone_typed="02 1234 5678", phone="+390212345678",
    chat_id="555111222", company="Officina Verdi",
    question="Quali incentivi ci sono per lo smart working nelle imprese artigiane con meno di dieci dipendenti?",
    unanswered="incentivi smart working artigiani lombardia", follow_up="Siamo in sette dipendenti, grazie",
    caption="visura Officina Verdi", file_bytes=b"visura camerale Officina Verdi", unanswered_en="smart working grants",
)


def telegram_update(update_id: int, person: Person, text: str) -> dict:
    chat = {"id": int(person.chat_id), "type": "private", "first_name": person.name.split()[0]}
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 1764500000, "chat": chat,
                                                "from": {"id": int(person.chat_id), "is_bot": False,
                                                         "first_name": person.name.split()[0]},
                                                "text": text}}


def give_data(database, person: Person, opened: datetime, update_id: int, resolve: bool = True) -> str:
    """Everything the desk can hold about a person who wrote on Telegram and opened a ticket:
    turns, a rating, a stored update, the ticket with its transcript, a follow-up, a file, an
    operator's reply in the outbox, and the learning loop's decision and draft on their words.
    Returns the ticket's reference."""
    with database.session() as session:
        analytics.record_turn(session, person.sender_id, "unanswered", person.unanswered, "it", "telegram",
                              intent="nlu_fallback")
        analytics.record_turn(session, person.sender_id, "unanswered", person.unanswered_en, "en", "telegram",
                              intent="nlu_fallback")
        analytics.record_turn(session, person.sender_id, "escalated", "sì", "it", "telegram", intent="affirm")
        analytics.record_feedback(session, person.sender_id, "part_time", False, "it", "telegram")
        telegram_updates.receive(session, telegram_update(update_id, person, person.unanswered))
        intake = TicketIntake(
            intake_key=f"key-{person.chat_id}", channel="telegram", reply_address=person.chat_id,
            conversation_id=person.sender_id, language="it", role="owner", name=person.name, contact=person.email,
            contact_kind="email", company_name=person.company, company_size="1-9", company_artisan=True,
            question=person.question, consent_at=opened, consent_version="2026-12-01",
            transcript=[{"who": "user", "text": person.unanswered, "at": opened.isoformat()},
                        {"who": "bot", "text": f"Riepilogo: {person.name}, {person.email}", "at": opened.isoformat()}],
            suggested_topics=[{"topic": "part_time", "confidence": 0.4}],
        )
        ticket = tickets.open_ticket(session, intake, CALENDAR, now=opened)
        tickets.add_follow_up(session, ticket, person.follow_up)
        tickets.add_attachment(session, ticket, f"referto-{person.name.split()[1]}.pdf", "application/pdf",
                               person.file_bytes, caption=person.caption)
        tickets.reply(session, ticket, f"Gentile {person.name}, le rispondiamo via email a {person.email}.", "operator@sportello.example")
        turns = list(session.scalars(select(AssistantTurn).where(AssistantTurn.conversation_id == person.sender_id,
                                                                  AssistantTurn.outcome == "unanswered")))
        learning.create_draft(session, "", [turns[0].id], [turns[0].id], "operator@sportello.example")
        learning.record_decision(session, [turns[1]], LearningDecisionKind.IGNORED, "operator@sportello.example")
        if resolve:
            tickets.change_status(session, ticket, "resolved", "operator@sportello.example")
        return ticket.ref


def find_everywhere(database, needles: List[str]) -> Dict[Tuple[str, str], List[str]]:
    """Every text, JSON and binary column of every table, searched for each needle."""
    found: Dict[Tuple[str, str], List[str]] = {}
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, (String, Text, JSON, LargeBinary)):
                    continue
                for value in connection.execute(select(column)).scalars():
                    if value is None:
                        continue
                    if isinstance(value, bytes):
                        text = value.decode("utf-8", "replace")
                    elif isinstance(value, str):
                        text = value
                    else:
                        text = json.dumps(value, ensure_ascii=False)
                    hits = [needle for needle in needles if needle.casefold() in text.casefold()]
                    if hits:
                        found.setdefault((table.name, column.name), []).extend(hits)
    return found
