"""Asking for a fresh follow-up link in the chat, end to end through the real assistant: the link
goes to the ticket's e-mail through the outbox, never into the chat, and the chat's answer is the
same whether or not the ticket has an address."""
from __future__ import annotations

import pytest

from desk.models import OutboundKind
from desk.services import outbox, tickets
from tests.support.conversation import new_sender, open_worker_ticket
from tests.support.stack import custom_of, text_of

pytestmark = pytest.mark.e2e


def test_a_fresh_link_is_sent_by_email_and_never_shown_in_the_chat(stack):
    assistant, database, _ = stack
    ref = open_worker_ticket(assistant, new_sender(), "Luca Bianchi", "luca.bianchi@example.org",
                             "Il mio datore di lavoro può negarmi lo smart working se ho un figlio di due anni?")
    for text, language in ((f"per favore mandami di nuovo il link della mia richiesta {ref}", "it"), (f"send me the link {ref}", "en")):
        replies = assistant.say(new_sender(), text)
        said = text_of(replies)
        assert custom_of(replies)["ticket"] == {"ref": ref, "status": "open", "link": "requested"}
        assert "/seguito/" not in said and "luca.bianchi" not in said
        assert ("e-mail" in said) and (("link" in said) if language == "en" else ("inviato" in said))
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        links = [m for m in outbox.emails_of_ticket(session, ticket.id) if m.kind == OutboundKind.LINK.value]
    # The second request came within minutes of the first: one e-mail, not two.
    assert len(links) == 1 and links[0].address == "luca.bianchi@example.org"
