"""The ticket form through the REST channel, end to end (../shared/contract.md):
every question carries `escalation: intake, asks: <field>`, a completed form
opens one ticket, a reference can be looked up from any conversation (its status only)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from desk.models import Ticket
from desk.services import tickets
from desk.topics import load_topics
from tests.support.conversation import new_sender, open_worker_ticket
from tests.support.stack import custom_of, text_of

pytestmark = pytest.mark.e2e


def asks(replies):
    return custom_of(replies).get("asks")


def tickets_of(database, sender):
    with database.session() as session:
        return session.scalars(select(Ticket).where(Ticket.conversation_id == sender)).all()


def test_an_owner_fills_every_field_and_gets_a_reference_to_look_up(stack):
    assistant, database, _ = stack
    sender = new_sender()
    replies = assistant.say(sender, "vorrei parlare con un operatore")
    assert custom_of(replies) == {"escalation": "intake", "asks": "role"}
    assert asks(assistant.say(sender, "Titolare d'impresa")) == "name"
    assert asks(assistant.say(sender, "Giulia Bianchi")) == "contact"
    assert asks(assistant.say(sender, "giulia.bianchi@example.org")) == "company"
    assert asks(assistant.say(sender, "Panificio Bianchi snc")) == "company"
    assert asks(assistant.say(sender, "1-9")) == "company"
    assert asks(assistant.say(sender, "/affirm")) == "question"
    replies = assistant.say(sender, "Una dipendente rientra dalla maternità: posso concederle orari ridotti e come?")
    assert asks(replies) == "consent"
    assert "Giulia Bianchi" in text_of(replies) and "http" in text_of(replies)
    done = assistant.say(sender, "/affirm")
    ticket = custom_of(done)["ticket"]
    assert ticket["status"] == "open" and ticket["ref"] in text_of(done)

    [stored] = tickets_of(database, sender)
    assert stored.ref == ticket["ref"]
    assert (stored.role, stored.company_name, stored.company_size, stored.company_artisan) == ("owner", "Panificio Bianchi snc", "1-9", True)
    assert stored.contact_kind == "email" and stored.sla_due_at > stored.created_at
    assert any(line["text"] == "vorrei parlare con un operatore" for line in stored.transcript)
    # The category the desk suggests comes from the question typed in the form.
    assert stored.suggested_topics, "no suggested category for the desk"
    assert {item["topic"] for item in stored.suggested_topics} <= set(load_topics())

    lookup = assistant.say(new_sender(), f"a che punto è la richiesta {ticket['ref'].lower()}?")
    assert custom_of(lookup)["ticket"] == {"ref": ticket["ref"], "status": "open"}
    assert "Giulia" not in text_of(lookup) and "example.org" not in text_of(lookup)


def test_after_an_unanswered_question_the_question_is_prefilled(stack):
    assistant, database, _ = stack
    sender = new_sender()
    question = "come faccio la dichiarazione dei redditi con due lavori?"
    assert custom_of(assistant.say(sender, question)).get("escalation") == "offer"
    assert asks(assistant.say(sender, "/affirm")) == "role"
    assistant.say(sender, "lavoratore")
    assistant.say(sender, "Marco Neri")
    replies = assistant.say(sender, "+39 333 123 4567")
    assert asks(replies) == "question" and question in text_of(replies)
    assert asks(assistant.say(sender, "sì")) == "consent"
    done = assistant.say(sender, "/affirm")
    assert custom_of(done)["ticket"]["status"] == "open"
    [stored] = tickets_of(database, sender)
    assert stored.question == question and stored.contact == "+393331234567" and stored.contact_kind == "phone"


def test_a_bad_email_is_asked_again(stack):
    assistant, _, _ = stack
    sender = new_sender()
    assistant.say(sender, "operatore")
    assistant.say(sender, "lavoratore")
    assistant.say(sender, "Sara Gialli")
    replies = assistant.say(sender, "sara.gialli@@example")
    assert asks(replies) == "contact" and "non sembra valido" in text_of(replies)
    assert asks(assistant.say(sender, "sara.gialli@example.org")) == "question"


def test_cancel_midway_stores_nothing(stack):
    assistant, database, _ = stack
    sender = new_sender()
    assistant.say(sender, "voglio parlare con una persona")
    assistant.say(sender, "lavoratore")
    replies = assistant.say(sender, "annulla")
    assert "annullata" in text_of(replies).lower()
    assert asks(replies) is None
    assert tickets_of(database, sender) == []
    after = assistant.say(sender, "grazie")
    assert text_of(after)


def test_refused_consent_stores_nothing_and_points_elsewhere(stack):
    assistant, database, _ = stack
    sender = new_sender()
    assistant.say(sender, "I'd like to talk to a human")
    assistant.say(sender, "lavoratore")
    assistant.say(sender, "John Smith")
    assistant.say(sender, "john@example.org")
    assert asks(assistant.say(sender, "Can my employer refuse part-time after parental leave?")) == "consent"
    refused = assistant.say(sender, "/deny")
    assert "not registered any request" in text_of(refused)
    assert "ticket" not in custom_of(refused)
    assert tickets_of(database, sender) == []


def test_a_field_can_be_corrected_before_consent(stack):
    assistant, database, _ = stack
    sender = new_sender()
    assistant.say(sender, "operatore per favore")
    assistant.say(sender, "consulente")
    assistant.say(sender, "Luca Blu")
    assistant.say(sender, "luca@example.org")
    assistant.say(sender, "Un cliente artigiano chiede come funziona FSBA per i suoi dipendenti.")
    replies = assistant.say(sender, '/correct{"field":"contact"}')
    assert asks(replies) == "contact"
    assert asks(assistant.say(sender, "luca.blu@example.org")) == "consent"
    assistant.say(sender, "/affirm")
    [stored] = tickets_of(database, sender)
    assert stored.contact == "luca.blu@example.org" and stored.role == "consultant"


def test_an_unknown_reference_is_not_found(assistant):
    replies = assistant.say(new_sender(), "stato DC-ZZZZZZ")
    assert custom_of(replies)["ticket"] == {"ref": "DC-ZZZZZZ", "status": "not_found"}


def test_a_reply_from_a_user_waiting_on_them_goes_back_to_the_queue(stack):
    assistant, database, _ = stack
    sender = new_sender()
    ref = open_worker_ticket(assistant, sender, "Eva Rosa", "eva@example.org",
                             "Posso usare i permessi 104 a ore per mia madre?")
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        tickets.reply(session, ticket, "Sì: ci dica quanti giorni le servono questo mese.", actor="op@desk")
    replies = assistant.say(sender, "me ne servono tre, grazie")
    assert ref in text_of(replies)
    assert "escalation" not in custom_of(replies), "the message went to the ticket: no offer of a person on top"
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        assert ticket.status == "open"
        assert [event.body for event in ticket.events if event.kind == "follow_up"] == ["me ne servono tre, grazie"]
    # The reply reaches only the conversation that opened the ticket; anyone else learns the status.
    assert "ci dica quanti giorni" in text_of(assistant.say(sender, f"status {ref}"))
    status = assistant.say(new_sender(), f"status {ref}")
    assert custom_of(status)["ticket"] == {"ref": ref, "status": "open"} and "ci dica" not in text_of(status)


def test_a_doubled_submission_opens_one_ticket(stack):
    assistant, database, _ = stack
    sender = new_sender()
    for message in ("operatore", "lavoratore", "Ivo Viola", "ivo@example.org", "Quanti giorni di congedo parentale mi restano?"):
        assistant.say(sender, message)
    first = assistant.say(sender, "/affirm")
    second = assistant.say(sender, "/affirm")
    assert custom_of(first)["ticket"]["status"] == "open"
    assert "ticket" not in custom_of(second) or custom_of(second)["ticket"]["ref"] == custom_of(first)["ticket"]["ref"]
    assert len(tickets_of(database, sender)) == 1


def test_bot_gives_the_user_back_to_the_assistant_while_an_operator_handles_the_ticket(stack):
    assistant, database, _ = stack
    sender = new_sender()
    ref = open_worker_ticket(assistant, sender, "Ida Neri", "ida@example.org",
                             "Il mio datore può negarmi lo smart working se ho un figlio di 10 anni?")
    with database.session() as session:
        tickets.assign(session, tickets.find_by_ref(session, ref), "op@desk", actor="op@desk")
        tickets.change_status(session, tickets.find_by_ref(session, ref), "in_progress", actor="op@desk")

    quiet = assistant.say(sender, "quanti giorni di congedo di paternità spettano?")
    assert custom_of(quiet)["ticket"]["follow_up"] is True and "topic" not in custom_of(quiet)
    assert "/bot" in text_of(quiet)
    assert any(button["payload"] == "/back_to_bot" for reply in quiet for button in reply.get("buttons", []))
    assert custom_of(assistant.say(sender, "e quanto mi pagano?")).get("ticket", {}).get("follow_up") is True

    back = assistant.say(sender, "/back_to_bot")
    assert ref in text_of(back) and custom_of(back)["ticket"]["ref"] == ref
    answered = assistant.say(sender, "quanti giorni di congedo di paternità spettano?")
    assert custom_of(answered).get("topic") == "congedo_paternita"
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        assert ticket.status == "in_progress"  # the operator still has it; their reply still reaches the user
        assert [event.body for event in ticket.events if event.kind == "follow_up"] == [
            "quanti giorni di congedo di paternità spettano?", "e quanto mi pagano?"]


def test_bot_without_an_operator_says_the_assistant_is_already_answering(assistant):
    replies = assistant.say(new_sender(), "/back_to_bot")
    assert "nessun operatore" in text_of(replies)
