"""A Telegram user and the real assistant: the trained Rasa model and the action server
on a throwaway PostgreSQL (the session's `stack`), the gateway in polling mode against
the fake Bot API. Slow to start, so every journey through the real assistant is here."""
from __future__ import annotations

import html
import itertools
import time
from typing import Dict, List

import pytest
from sqlalchemy import select

from desk.models import AnswerFeedback, AssistantTurn, Ticket, TicketAttachment
from desk.services import knowledge, tickets
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram import gateway_settings, running_gateway

pytestmark = pytest.mark.e2e

_chats = itertools.count(7_000_001)
QUIET_SECONDS = 0.4  # the gateway sends one reply's messages back to back


@pytest.fixture(scope="module")
def telegram(stack):
    assistant, database, _ = stack
    with FakeTelegram() as fake:
        settings = gateway_settings(fake, database, assistant.url, telegram_assistant_timeout=30.0)
        with running_gateway(settings, database):
            yield fake, database


class TelegramUser:
    """One person in a private chat with the bot."""

    def __init__(self, fake: FakeTelegram, language: str = "it") -> None:
        self.fake = fake
        self.chat = next(_chats)
        self.language = language

    def _exchange(self, act) -> List[Dict]:
        before = len(self.fake.sent_to(self.chat))
        act()
        self.fake.wait_for(lambda: len(self.fake.sent_to(self.chat)) > before, 60, f"a reply in chat {self.chat}")
        count = -1
        while count != len(self.fake.sent_to(self.chat)):
            count = len(self.fake.sent_to(self.chat))
            time.sleep(QUIET_SECONDS)
        return self.fake.sent_to(self.chat)[before:]

    def writes(self, text: str) -> List[Dict]:
        return self._exchange(lambda: self.fake.user_writes(self.chat, text, self.language))

    def sends(self, **content) -> List[Dict]:
        return self._exchange(lambda: self.fake.user_sends(self.chat, self.language, **content))

    def presses(self, replies: List[Dict], title: str) -> List[Dict]:
        """Press the button with this title on the last message that has it."""
        for index in reversed(range(len(self.fake.calls_of("sendMessage", self.chat, ok_only=True)))):
            call = self.fake.calls_of("sendMessage", self.chat, ok_only=True)[index]
            for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == title:
                        message_id = call.result["message_id"]
                        return self._exchange(
                            lambda: self.fake.user_presses(self.chat, button["callback_data"], message_id, self.language))
        raise AssertionError(f"no button {title!r} in {buttons_of(replies)}")


def text_of(replies: List[Dict]) -> str:
    return html.unescape("\n".join(reply["text"] for reply in replies))


def buttons_of(replies: List[Dict]) -> Dict[str, str]:
    return {button["text"]: button["callback_data"] for reply in replies
            for row in (reply.get("reply_markup") or {}).get("inline_keyboard", []) for button in row}


def test_a_topic_answer_comes_with_its_source_and_buttons_and_a_press_is_its_payload(telegram):
    fake, database = telegram
    user = TelegramUser(fake)
    replies = user.writes("quanti giorni di congedo di paternità spettano al papà?")
    with database.session() as session:
        entry = knowledge.answer_for(session, "congedo_paternita", "it")
    assert entry.source in text_of(replies)
    assert {"/feedback_helpful", "/feedback_not_helpful", "/request_human"} <= set(buttons_of(replies).values())
    assert all(reply["parse_mode"] == "HTML" for reply in replies)
    assert fake.calls_of("sendChatAction", user.chat)

    title = next(title for title, payload in buttons_of(replies).items() if payload == "/feedback_helpful")
    thanks = user.presses(replies, title)
    assert text_of(thanks)
    assert fake.calls_of("answerCallbackQuery") and fake.calls_of("editMessageReplyMarkup", user.chat)
    with database.session() as session:
        [feedback] = session.scalars(select(AnswerFeedback).where(AnswerFeedback.conversation_id == f"telegram-{user.chat}")).all()
        assert (feedback.topic, feedback.helpful, feedback.channel) == ("congedo_paternita", True, "telegram")
        turn = session.scalars(select(AssistantTurn).where(AssistantTurn.conversation_id == f"telegram-{user.chat}")).first()
        assert turn.channel == "telegram" and turn.topic == "congedo_paternita"


def test_an_english_user_is_answered_in_english(telegram):
    fake, _ = telegram
    user = TelegramUser(fake, language="en")
    replies = user.writes("How many days of paternity leave does a father get?")
    assert "Source" in text_of(replies)
    assert buttons_of(replies)["Talk to a person"] == "/request_human"


def test_a_full_escalation_through_telegram_and_the_operators_reply_after_flood_control(telegram):
    fake, database = telegram
    user = TelegramUser(fake)
    replies = user.writes("/operatore")
    assert "Lavoratore/lavoratrice" in buttons_of(replies)
    replies = user.presses(replies, "Lavoratore/lavoratrice")
    replies = user.writes("Anna Verdi")
    assert buttons_of(replies).get("Rispondetemi qui") == "/contact_here"
    replies = user.presses(replies, "Rispondetemi qui")
    question = "Posso chiedere il part-time dopo il congedo parentale per seguire mio figlio?"
    replies = user.writes(question)
    assert "Anna Verdi" in text_of(replies) and "/privacy" in text_of(replies)
    consent_yes = next(title for title, payload in buttons_of(replies).items() if payload == "/affirm")
    done = user.presses(replies, consent_yes)
    ref = tickets.find_reference_in(text_of(done))
    assert ref is not None and f"<code>{ref}</code>" in "".join(reply["text"] for reply in done)

    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        assert (ticket.channel, ticket.reply_address, ticket.conversation_id) == ("telegram", str(user.chat), f"telegram-{user.chat}")
        assert (ticket.contact_kind, ticket.name, ticket.question) == ("channel", "Anna Verdi", question)

    # The operator replies; Telegram first answers 429 with retry_after, then accepts it.
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    with database.session() as session:
        tickets.reply(session, tickets.find_by_ref(session, ref), "Sì, <può> chiederlo: ci dica da quando.", actor="op@desk")
    delivered = fake.wait_for(lambda: [m for m in fake.sent_to(user.chat) if "Risposta dell'operatore" in m["text"]],
                              30, "the operator's reply")
    assert html.unescape(delivered[0]["text"]).endswith("Sì, <può> chiederlo: ci dica da quando.")
    assert any(call.status == 429 for call in fake.calls_of("sendMessage", user.chat))

    # The user answers the operator: it goes to the ticket, and so does a document.
    replies = user.writes("Dal primo marzo, grazie")
    assert ref in text_of(replies)
    payslip = fake.add_file(b"%PDF-1.4 contratto", "contratto.pdf")
    replies = user.sends(document={"file_id": payslip, "file_unique_id": "c", "file_name": "contratto.pdf",
                                   "mime_type": "application/pdf", "file_size": 18})
    assert "contratto.pdf" in text_of(replies) and ref in text_of(replies)
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        assert [e.body for e in ticket.events if e.kind == "follow_up"] == ["Dal primo marzo, grazie"]
        [attachment] = session.scalars(select(TicketAttachment).where(TicketAttachment.ticket_id == ticket.id)).all()
        assert bytes(attachment.data) == b"%PDF-1.4 contratto"

    status = TelegramUser(fake).writes(f"/stato {ref.lower()}")
    assert ref in text_of(status) and "Anna" not in text_of(status)


def test_a_photo_without_a_ticket_is_answered_politely(telegram):
    fake, database = telegram
    user = TelegramUser(fake)
    photo = fake.add_file(b"\xff\xd8 jpeg", "p.jpg")
    replies = user.sends(photo=[{"file_id": photo, "file_unique_id": "p", "width": 10, "height": 10}])
    assert "capisco solo messaggi scritti" in text_of(replies)
    with database.session() as session:
        assert session.scalars(select(Ticket).where(Ticket.conversation_id == f"telegram-{user.chat}")).all() == []



# --- clarification: "which of these topics?" --------------------------------------------

def recorded_clarification(database, user):
    from desk.models import Clarification

    with database.session() as session:
        return session.scalars(
            select(Clarification).where(Clarification.conversation_id == f"telegram-{user.chat}")).first()


def clarified_on_telegram(fake, database, candidates, language="it"):
    """A new Telegram user whose first message got a clarification: (user, replies, offered topics).
    Telegram shows no `custom`: what was offered is read from the desk's record of it."""
    from tests.support.clarify import first_clarified

    users = {}

    def ask(message):
        users[message] = user = TelegramUser(fake, language=language)
        replies = user.writes(message)
        record = recorded_clarification(database, user)
        return ({"clarify": record.offered} if record else {}), replies

    message, custom, replies = first_clarified(ask, candidates)
    return users[message], replies, custom["clarify"]


def test_a_clarification_on_telegram_offers_topic_buttons_and_a_press_answers_the_topic(telegram):
    from tests.support.clarify import AMBIGUOUS_IT, NONE_OF_THESE

    fake, database = telegram
    user, replies, offered = clarified_on_telegram(fake, database, AMBIGUOUS_IT)
    with database.session() as session:
        titles = knowledge.titles_for(session, offered, "it")
    buttons = buttons_of(replies)
    assert list(buttons) == [titles[topic][:64] for topic in offered] + [NONE_OF_THESE["it"]]
    assert list(buttons.values()) == [f"/{topic}" for topic in offered] + ["/request_human"]

    chosen = offered[-1]
    answer = user.presses(replies, titles[chosen][:64])
    with database.session() as session:
        entry = knowledge.answer_for(session, chosen, "it")
    assert entry.source in text_of(answer)
    assert fake.calls_of("editMessageReplyMarkup", user.chat)  # the question's buttons are gone
    record = recorded_clarification(database, user)
    assert (record.choice, record.chosen_topic) == ("topic", chosen)


def test_none_of_these_on_telegram_starts_the_ticket_form(telegram):
    from tests.support.clarify import AMBIGUOUS_IT, NONE_OF_THESE

    fake, database = telegram
    user, replies, _ = clarified_on_telegram(fake, database, AMBIGUOUS_IT)
    form = user.presses(replies, NONE_OF_THESE["it"])
    assert "Lavoratore/lavoratrice" in buttons_of(form)
    assert recorded_clarification(database, user).choice == "person"


def test_an_out_of_scope_question_on_telegram_is_offered_a_person(telegram):
    from tests.support.clarify import OUT_OF_SCOPE_IT

    fake, database = telegram
    user = TelegramUser(fake)
    replies = user.writes(OUT_OF_SCOPE_IT)
    assert set(buttons_of(replies).values()) == {"/affirm", "/deny"}
    assert recorded_clarification(database, user) is None
