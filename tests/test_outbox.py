"""The outbox: operator replies and resolution notices are queued with the desk action
that produced them, on the user's channel, and retried with backoff until they give up."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from desk.models import DeliveryStatus, OutboundKind, OutboundMessage, TicketStatus
from desk.models.base import utcnow
from desk.services import outbox, tickets
from desk.services.outbox import MAX_ATTEMPTS
from tests.test_tickets import open_one


def test_a_reply_is_queued_for_the_users_channel_with_its_event(database):
    ticket = open_one(database, language="en")
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ticket.ref)
        event = tickets.reply(session, ticket, "Here is what to do.", actor="op")
        event_id = event.id
    with database.session() as session:
        (message,) = outbox.due(session, "telegram")
        assert (message.channel, message.address, message.language) == ("telegram", "123456789", "en")
        assert message.kind == OutboundKind.REPLY.value and message.body == "Here is what to do."
        assert message.event_id == event_id
        assert outbox.delivery_of_events(session, [event_id])[event_id].id == message.id
        assert outbox.due(session, "widget") == []


def test_a_failed_unit_of_work_queues_nothing(database):
    ticket = open_one(database)
    with pytest.raises(RuntimeError):
        with database.session() as session:
            tickets.reply(session, tickets.find_by_ref(session, ticket.ref), "Risposta", actor="op")
            raise RuntimeError("the view failed after replying")
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 0


def test_an_empty_reply_is_refused(database):
    ticket = open_one(database)
    with pytest.raises(ValueError):
        with database.session() as session:
            tickets.reply(session, tickets.find_by_ref(session, ticket.ref), "   ", actor="op")


def test_resolving_tells_the_user_in_their_language(database):
    ticket = open_one(database, language="en")
    with database.session() as session:
        tickets.change_status(session, tickets.find_by_ref(session, ticket.ref), TicketStatus.RESOLVED, actor="op")
    with database.session() as session:
        (message,) = outbox.due(session, "telegram")
        assert message.kind == OutboundKind.RESOLVED.value
        assert ticket.ref in message.body and "assistant" in message.body


def test_retries_back_off_honour_retry_after_and_give_up(database):
    ticket = open_one(database)
    with database.session() as session:
        tickets.reply(session, tickets.find_by_ref(session, ticket.ref), "Risposta", actor="op")
    now = utcnow()
    with database.session() as session:
        (message,) = outbox.due(session, "telegram", now=now)
        outbox.mark_retry(session, message, "429 Too Many Requests", retry_after=30, now=now)
        assert outbox.due(session, "telegram", now=now + timedelta(seconds=29)) == []
        assert outbox.due(session, "telegram", now=now + timedelta(seconds=31)) == [message]
        for _ in range(MAX_ATTEMPTS - 1):
            outbox.mark_retry(session, message, "502 Bad Gateway", now=now)
        assert message.delivery_status is DeliveryStatus.FAILED
        assert message.attempts == MAX_ATTEMPTS and "502" in message.last_error
        assert outbox.due(session, "telegram", now=now + timedelta(days=1)) == []


def test_sent_messages_are_not_due_and_stay_readable_by_address(database):
    ticket = open_one(database, channel="widget", reply_address="session-abc")
    with database.session() as session:
        current = tickets.find_by_ref(session, ticket.ref)
        tickets.reply(session, current, "Prima", actor="op")
        tickets.reply(session, current, "Seconda", actor="op", set_waiting=False)
    with database.session() as session:
        first, second = outbox.for_address(session, "widget", "session-abc")
        outbox.mark_sent(session, first)
        assert outbox.due(session, "widget") == [second]
        assert [m.body for m in outbox.for_address(session, "widget", "session-abc", after_id=first.id)] == ["Seconda"]
        assert outbox.for_address(session, "widget", "another-session") == []


def test_a_claimed_message_is_hidden_from_other_deliverers_until_its_lease_ends(database):
    ticket = open_one(database)
    with database.session() as session:
        current = tickets.find_by_ref(session, ticket.ref)
        tickets.reply(session, current, "Prima", actor="op")
        tickets.reply(session, current, "Seconda", actor="op", set_waiting=False)
    now = utcnow() + timedelta(seconds=1)
    with database.session() as session:
        [first] = outbox.claim_due(session, "telegram", limit=1, lease_seconds=60, now=now)
    with database.session() as session:
        [second] = outbox.claim_due(session, "telegram", limit=5, lease_seconds=60, now=now)
        assert second.id != first.id
    with database.session() as session:
        assert outbox.claim_due(session, "telegram", now=now) == []
        # The deliverer that took the first one died: after the lease it is due again.
        assert [m.id for m in outbox.claim_due(session, "telegram", now=now + timedelta(seconds=61))] == [first.id, second.id]


def test_concurrent_deliverers_on_postgresql_skip_rows_another_one_holds(database):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: a second deliverer waits for the first one's commit instead")
    ticket = open_one(database)
    with database.session() as session:
        current = tickets.find_by_ref(session, ticket.ref)
        for body in ("Uno", "Due"):
            tickets.reply(session, current, body, actor="op", set_waiting=False)
    now = utcnow() + timedelta(seconds=1)
    with database.session() as holding:
        [held] = outbox.claim_due(holding, "telegram", limit=1, now=now)  # not committed yet: its row stays locked
        with database.session() as other:
            others = outbox.claim_due(other, "telegram", limit=5, now=now)
        assert [m.body for m in others] == ["Due"] and held.body == "Uno"
