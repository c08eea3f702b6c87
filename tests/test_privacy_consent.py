"""The ticket form's consent step records which version of the privacy notice the user
accepted, and when, on the ticket (the action with a real Tracker, on both databases)."""
from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import tickets as ticket_actions
from desk.models import Ticket
from desk.models.base import utcnow
from tests.test_actions import action_database  # noqa: F401 (the fixture)

SLOTS = {
    "language": "it", "intake_role": "worker", "intake_name": "Anna Neri", "intake_contact": "anna.neri@example.org",
    "intake_contact_kind": "email", "intake_question": "Posso chiedere il congedo parentale a ore per mio figlio?",
    "intake_consent": True, "intake_key": "consent-test-1",
}


def submit(slots):
    latest = {"text": "/affirm", "intent": {"name": "affirm", "confidence": 1.0}, "entities": [], "metadata": {}}
    tracker = Tracker("rest-anna", dict(slots), latest, [], False, None, {}, "rest")
    dispatcher = CollectingDispatcher()
    asyncio.run(ticket_actions.ActionSubmitIntake().run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_the_ticket_records_the_notice_version_the_user_accepted(action_database, monkeypatch, tmp_path):
    monkeypatch.setenv("DIALOGA_PRIVACY_NOTICE_VERSION", "2027-03-bis")
    monkeypatch.setenv("DIALOGA_SPOOL_DIR", str(tmp_path / "spool"))
    ticket_actions.spool.cache_clear()
    before = utcnow()
    try:
        messages = submit(SLOTS)
    finally:
        ticket_actions.spool.cache_clear()
    assert messages[0]["custom"]["ticket"]["status"] == "open"
    with action_database.session() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert ticket.consent_version == "2027-03-bis"
    assert before <= ticket.consent_at <= utcnow()


def test_without_consent_nothing_is_stored(action_database, monkeypatch, tmp_path):
    monkeypatch.setenv("DIALOGA_SPOOL_DIR", str(tmp_path / "spool"))
    ticket_actions.spool.cache_clear()
    try:
        messages = submit({**SLOTS, "intake_consent": False})
    finally:
        ticket_actions.spool.cache_clear()
    assert messages[0]["custom"]["intake"] == "consent_refused"
    with action_database.session() as session:
        assert session.scalars(select(Ticket)).first() is None
