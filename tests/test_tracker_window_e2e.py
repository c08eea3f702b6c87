"""A long conversation through the real assistant and action server, whose calls carry only the
recent events (policies/tracker_window.py): the ticket opened after 70 messages has the
transcript and the pre-filled question the whole tracker gives, and every reader of our actions
gives the same result on the whole and the windowed tracker after every event of it."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Dict, List

import httpx
import pytest
from sqlalchemy import select

from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk import Tracker

from actions.intake import conversation_transcript, last_unanswered_message, question_message, suggested_topics
from desk.db import Database
from desk.models import Ticket
from desk.text import printable, user_text
from desk.topics import load_topics
from policies import tracker_window
from tests.support.conversation import new_sender, training_example
from tests.support.databases import prepare_database
from tests.support.stack import custom_of, running_assistant, text_of
from tests.support.tracker_window import DOMAIN, Comparison

pytestmark = pytest.mark.e2e

UNANSWERED = "come faccio la dichiarazione dei redditi con due lavori?"


@pytest.fixture(scope="module")
def api_stack(tmp_path_factory):
    """The assistant with Rasa's HTTP API open, to read back the whole tracker."""
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'window.db'}"
        prepare_database(url)
        spool = tmp_path_factory.mktemp("spool")
        with running_assistant(url, name="window-e2e", enable_api=True,
                               extra_env={"DIALOGA_SPOOL_DIR": str(spool)}) as assistant:
            database = Database(url)
            try:
                yield assistant, database
            finally:
                database.dispose()


def whole_tracker(assistant, sender: str) -> List[Event]:
    response = httpx.get(f"{assistant.url}/conversations/{sender}/tracker", params={"include_events": "ALL"},
                         timeout=30)
    response.raise_for_status()
    return [Event.from_parameters(event) for event in response.json()["events"]]


def test_a_ticket_after_70_messages_has_the_whole_trackers_transcript_and_question(api_stack):
    assistant, database = api_stack
    sender = new_sender()
    said: List[str] = []  # what the user saw of each message they sent (a pressed button: its title)
    last: List[Dict[str, Any]] = []  # the replies to the previous message

    def say(message: str) -> List[Dict[str, Any]]:
        titles = {str(button["payload"]).strip(): printable(str(button["title"]))
                  for reply in last for button in reply.get("buttons") or []}
        said.append(titles.get(user_text(message), user_text(message)))
        replies = assistant.say(sender, message)
        last[:] = replies
        return replies

    # A question the assistant cannot answer: the offer of a person, declined.
    assert custom_of(say(UNANSWERED)).get("escalation") == "offer"
    say("/deny")
    # 70 questions about topics, a rating after some answers, one negative rating declined
    # (another offer of a person, after a pressed button: not an unanswered message).
    topics = sorted(load_topics())
    for number in range(70):
        replies = say(training_example(topics[number % len(topics)], "it"))
        assert custom_of(replies).get("escalation") != "offer", text_of(replies)
        if number % 10 == 3:
            say("/feedback_helpful")
        if number == 40:
            assert custom_of(say("/feedback_not_helpful")).get("escalation") == "offer"
            say("/deny")
    # Then a person: the form pre-fills the question left unanswered 80 messages before.
    assert custom_of(say("vorrei parlare con un operatore")).get("asks") == "role"
    say("lavoratrice")
    say("Paola Neri")
    replies = say("paola.neri@example.org")
    assert custom_of(replies).get("asks") == "question" and UNANSWERED in text_of(replies), text_of(replies)
    assert custom_of(say("sì")).get("asks") == "consent"
    ref = custom_of(say("/affirm"))["ticket"]["ref"]
    assert len(said) > 80

    events = whole_tracker(assistant, sender)
    submitted = max(index for index, event in enumerate(events)
                    if isinstance(event, ActionExecuted) and event.action_name == "action_submit_intake")
    # The tracker the submitting action got, whole and as sent.
    tracker = DialogueStateTracker.from_events(sender, events[:submitted], slots=DOMAIN.slots)
    sent = tracker_window.windowed_events(tracker)
    assert len(sent) < submitted / 2, (len(sent), submitted)
    whole = Tracker.from_dict(tracker.current_state(EventVerbosity.ALL))
    with database.session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.ref == ref)).one()
        transcript, question, suggested = ticket.transcript, ticket.question, ticket.suggested_topics
    assert transcript == conversation_transcript(whole)
    assert len(transcript) == tracker_window.TRANSCRIPT_LINES
    # What the user wrote or pressed, as they saw it, in order, ending with the consent.
    users = [line["text"] for line in transcript if line["who"] == "user"]
    assert users == said[-len(users):] and not any(text.startswith("/") for text in users)
    # The pre-filled question, read from a message long out of the transcript.
    assert question == UNANSWERED == last_unanswered_message(whole)["text"]
    assert question_message(whole)["text"] == UNANSWERED
    assert UNANSWERED not in [line["text"] for line in transcript]
    assert suggested == suggested_topics(question_message(whole))

    comparison = Comparison()
    comparison.replay(events)
    assert comparison.trimmed > comparison.checked / 2, (comparison.trimmed, comparison.checked)
