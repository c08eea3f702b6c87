"""Clarification through the REST channel and the real assistant (trained model, action
server, PostgreSQL): the question with one button per topic and one for a person, a topic's
button answering that topic, "a person" starting the ticket form, writing something else,
out-of-scope questions still offered a person, and the desk's transcript showing the
pressed button's title."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from desk.models import Clarification, Role, Ticket
from desk.services import knowledge
from desk.topics import load_broad_terms, load_topics
from tests.support.clarify import AMBIGUOUS_EN, AMBIGUOUS_IT, NONE_OF_THESE, OUT_OF_SCOPE_IT, first_clarified
from tests.support.conversation import new_sender, training_example
from tests.support.desk import desk_app_for, log_in, make_user
from tests.support.stack import custom_of, text_of

pytestmark = pytest.mark.e2e


def buttons_of(replies):
    return [button for reply in replies for button in reply.get("buttons") or []]


def clarified(assistant, candidates):
    """(sender, message, custom, buttons) of a new conversation whose first message was clarified."""
    senders = {}

    def ask(message):
        senders[message] = sender = new_sender()
        replies = assistant.say(sender, message)
        return custom_of(replies), buttons_of(replies)

    message, custom, buttons = first_clarified(ask, candidates)
    return senders[message], message, custom, buttons


def clarification_of(database, sender):
    with database.session() as session:
        return session.scalars(select(Clarification).where(Clarification.conversation_id == sender)).one()


def test_a_clarification_offers_titled_topics_and_a_person_then_a_topic_is_answered(stack):
    assistant, database, _ = stack
    sender, _, custom, buttons = clarified(assistant, AMBIGUOUS_IT)
    offered = custom["clarify"]
    assert 1 <= len(offered) <= 3 and set(offered) <= set(load_topics())
    assert "topic" not in custom and "escalation" not in custom  # it neither answers nor gives up
    with database.session() as session:
        titles = knowledge.titles_for(session, offered, "it")
    assert buttons == [{"title": titles[topic], "payload": f"/{topic}"} for topic in offered] + [
        {"title": NONE_OF_THESE["it"], "payload": "/request_human"}]

    chosen = offered[-1]  # not necessarily the most likely one: the user decides
    answer = assistant.say(sender, f"/{chosen}")
    answered = custom_of(answer)
    assert answered["topic"] == chosen and answered["topic"] in offered
    with database.session() as session:
        entry = knowledge.answer_for(session, chosen, "it")
    assert entry.source in text_of(answer)
    record = clarification_of(database, sender)
    assert (record.offered, record.choice, record.chosen_topic) == (offered, "topic", chosen)


def test_english_users_get_english_titles(stack):
    assistant, database, _ = stack
    _, _, custom, buttons = clarified(assistant, AMBIGUOUS_EN)
    with database.session() as session:
        titles = knowledge.titles_for(session, custom["clarify"], "en")
    assert [button["title"] for button in buttons] == [titles[topic] for topic in custom["clarify"]] + [NONE_OF_THESE["en"]]


def test_none_of_these_starts_the_ticket_form_and_the_transcript_shows_the_button_title(stack):
    assistant, database, _ = stack
    sender, message, _, _ = clarified(assistant, AMBIGUOUS_IT)
    replies = assistant.say(sender, "/request_human")
    assert custom_of(replies) == {"escalation": "intake", "asks": "role"}
    assert clarification_of(database, sender).choice == "person"

    for answer in ("lavoratrice", "Paola Neri", "paola.neri@example.org"):
        replies = assistant.say(sender, answer)
    assert custom_of(replies).get("asks") == "question" and message in text_of(replies)  # pre-filled
    replies = assistant.say(sender, "/affirm")
    assert custom_of(replies).get("asks") == "consent", text_of(replies)
    ref = custom_of(assistant.say(sender, "/affirm"))["ticket"]["ref"]

    with database.session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.ref == ref)).one()
        said = [line["text"] for line in ticket.transcript if line["who"] == "user"]
    assert said[:2] == [message, NONE_OF_THESE["it"]]
    assert not any(text.startswith("/") for text in said)  # every press reads as what the user saw

    client = desk_app_for(database).test_client()
    assert log_in(client, make_user(database, Role.OPERATOR)).status_code == 302
    page = client.get(f"/ticket/{ref}").get_data(as_text=True)
    transcript = page[page.index('id="transcript-title"'):]
    transcript = transcript[:transcript.index("</section>")]
    assert NONE_OF_THESE["it"] in transcript and "/request_human" not in transcript and "/affirm" not in transcript


def test_writing_something_else_after_a_clarification_is_handled_normally(stack):
    assistant, database, _ = stack
    sender, _, custom, _ = clarified(assistant, AMBIGUOUS_IT)
    other = next(topic for topic in ("bonus_asilo_nido", "permessi_104") if topic not in custom["clarify"])
    replies = assistant.say(sender, training_example(other, "it"))
    assert custom_of(replies)["topic"] == other
    record = clarification_of(database, sender)
    assert (record.choice, record.chosen_topic) == ("other", None)


def test_an_out_of_scope_question_is_offered_a_person_not_a_clarification(stack):
    assistant, _, _ = stack
    replies = assistant.say(new_sender(), OUT_OF_SCOPE_IT)
    assert custom_of(replies) == {"escalation": "offer"}
    assert "/request_human" not in [button["payload"] for button in buttons_of(replies)]


@pytest.mark.parametrize("message, language", [("congedo", "it"), ("Permessi?", "it"), ("info sui bonus", "it"),
                                               ("leave", "en")])
def test_a_message_naming_only_a_family_of_topics_is_asked_about_within_that_family(stack, message, language):
    assistant, database, _ = stack
    family = load_broad_terms().family_of(message)
    sender = new_sender()
    replies = assistant.say(sender, message)
    custom = custom_of(replies)
    assert "topic" not in custom, f"{message!r} was answered as {custom.get('topic')} without asking"
    offered = custom["clarify"]
    assert len(offered) == min(3, len(family)) and set(offered) <= set(family)
    with database.session() as session:
        titles = knowledge.titles_for(session, offered, language)
    assert [button["title"] for button in buttons_of(replies)] == [titles[topic] for topic in offered] + [
        NONE_OF_THESE[language]]
    assert custom_of(assistant.say(sender, f"/{offered[0]}"))["topic"] == offered[0]
