"""An intake completed while the database is down is saved, told to the user,
and registered with the same reference once the database is back. The
database is a throwaway PostgreSQL cluster this test starts and stops."""
import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions import tickets as ticket_actions
from desk import migrate
from desk.db import Database
from desk.services import tickets
from desk.services.business_hours import BusinessCalendar
from desk.services.intake_spool import IntakeSpool
from tests.support.pg_cluster import ThrowawayCluster

FILLED_FORM = {
    "language": "it", "intake_key": "intake-lost-and-found", "intake_role": "worker", "intake_name": "Anna Verdi",
    "intake_contact": "anna.verdi@example.org", "intake_contact_kind": "email",
    "intake_question": "Posso chiedere il part-time dopo il congedo parentale?", "intake_consent": True,
}


@pytest.fixture
def cluster():
    cluster = ThrowawayCluster().init()
    cluster.start()
    yield cluster
    cluster.destroy()


@pytest.fixture
def actions_on(cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("DIALOGA_DATABASE_URL", cluster.url)
    monkeypatch.setenv("DIALOGA_DB_CONNECT_TIMEOUT", "2")
    monkeypatch.setenv("DIALOGA_SPOOL_DIR", str(tmp_path / "spool"))
    for cached in (runtime.database, ticket_actions.spool, ticket_actions.calendar):
        cached.cache_clear()
    migrate.upgrade(cluster.url)
    yield IntakeSpool(tmp_path / "spool")
    runtime.database().dispose()
    for cached in (runtime.database, ticket_actions.spool, ticket_actions.calendar):
        cached.cache_clear()


def submit(slots):
    tracker = Tracker("conv-42", dict(slots), {"text": "/affirm", "intent": {"name": "affirm"}, "entities": []},
                      [], False, None, {"name": "intake_form"}, "rest")
    dispatcher = CollectingDispatcher()
    asyncio.run(ticket_actions.ActionSubmitIntake().run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_an_intake_survives_a_database_outage(cluster, actions_on):
    spool = actions_on
    runtime.database().dispose()
    cluster.stop()

    messages = submit(FILLED_FORM)

    ticket_payload = next(m["custom"]["ticket"] for m in messages if m.get("custom", {}).get("ticket"))
    assert ticket_payload["registered"] is False and ticket_payload["status"] == "open"
    assert "la registreremo appena torna disponibile" in messages[0]["text"]
    assert len(spool.pending()) == 1

    database = Database(cluster.url, connect_timeout=2)
    assert spool.drain(database, BusinessCalendar()) == 0, "nothing can be registered while the database is down"
    assert len(spool.pending()) == 1

    cluster.start()
    assert spool.drain(database, BusinessCalendar()) == 1
    assert spool.pending() == []
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ticket_payload["ref"])
        assert ticket is not None and ticket.name == "Anna Verdi" and ticket.intake_key == "intake-lost-and-found"
    database.dispose()


def test_a_resubmitted_intake_after_recovery_opens_no_second_ticket(cluster, actions_on):
    spool = actions_on
    runtime.database().dispose()
    cluster.stop()
    offline = submit(FILLED_FORM)
    cluster.start()
    runtime.database().dispose()
    online = submit(FILLED_FORM)  # the same intake submitted again, now that the database is back
    database = Database(cluster.url)
    spool.drain(database, BusinessCalendar())
    with database.session() as session:
        count = session.query(tickets.Ticket).count()
    database.dispose()
    assert count == 1
    refs = {m["custom"]["ticket"]["ref"] for m in offline + online if m.get("custom", {}).get("ticket")}
    assert len(refs) == 1, "the user keeps the reference given during the outage"
