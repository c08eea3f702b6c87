"""The ticket lifecycle on real databases (SQLite and PostgreSQL): opening once per intake,
references, the public status, the allowed transitions and the audit trail."""
from __future__ import annotations

import dataclasses
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from sqlalchemy import func, select, text

from desk.db import Database
from desk.models import AssistantTurn, Ticket, TicketEvent, TicketStatus
from desk.services import analytics, tickets
from desk.services.business_hours import BusinessCalendar
from desk.services.ticket_lookup import Requester
from desk.services.tickets import InvalidTransition, TicketClosed, TicketIntake

CALENDAR = BusinessCalendar()
MONDAY_9_ROME = datetime(2026, 11, 23, 8)  # naive UTC, like every stored time
REFERENCE_FORMAT = re.compile(r"^DC-[0-9A-HJKMNP-TV-Z]{6}$")


def intake(key="intake-1", conversation="conv-1", **changes) -> TicketIntake:
    values = dict(
        intake_key=key,
        channel="telegram",
        reply_address="123456789",
        conversation_id=conversation,
        language="it",
        role="owner",
        name="Maria Rossi",
        contact="maria.rossi@example.org",
        contact_kind="email",
        company_name="Falegnameria Rossi",
        company_size="1-9",
        company_artisan=True,
        question="Posso dare buoni pasto e asilo nido come welfare ai miei tre dipendenti?",
        consent_at=datetime(2026, 11, 23, 7, 59),
        transcript=[
            {"who": "user", "text": "welfare per artigiani?", "at": datetime(2026, 11, 23, 7, 58)},
            {"who": "bot", "text": "Vuoi parlare con una persona?", "at": "2026-11-23T07:58:30"},
        ],
        suggested_topics=[{"topic": "welfare_pmi_avvio", "confidence": 0.41}],
    )
    values.update(changes)
    return TicketIntake(**values)


OPENER = Requester("conv-1", "telegram", "123456789")


def open_one(database, key="intake-1", **changes) -> Ticket:
    with database.session() as session:
        return tickets.open_ticket(session, intake(key, **changes), CALENDAR, now=MONDAY_9_ROME)


def counts(database):
    with database.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Ticket)),
            session.scalar(select(func.count()).select_from(TicketEvent)),
        )


def history(database, ref):
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        return [(e.kind, e.actor, e.before, e.after, e.body, e.public) for e in ticket.events]


# Opening


def test_open_ticket_stores_every_field_of_the_intake(database):
    ref = open_one(database).ref
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        assert REFERENCE_FORMAT.match(ticket.ref)
        assert ticket.current_status is TicketStatus.OPEN and ticket.status == "open"
        assert (ticket.channel, ticket.reply_address, ticket.conversation_id, ticket.language) == (
            "telegram", "123456789", "conv-1", "it")
        assert (ticket.role, ticket.name, ticket.contact, ticket.contact_kind) == (
            "owner", "Maria Rossi", "maria.rossi@example.org", "email")
        assert (ticket.company_name, ticket.company_size, ticket.company_artisan) == ("Falegnameria Rossi", "1-9", True)
        assert ticket.question.startswith("Posso dare buoni pasto")
        assert ticket.consent_at == datetime(2026, 11, 23, 7, 59)
        assert ticket.transcript == [
            {"who": "user", "text": "welfare per artigiani?", "at": "2026-11-23T07:58:00"},
            {"who": "bot", "text": "Vuoi parlare con una persona?", "at": "2026-11-23T07:58:30"},
        ]
        assert ticket.suggested_topics == [{"topic": "welfare_pmi_avvio", "confidence": 0.41}]
        assert ticket.intake_key == "intake-1" and ticket.assignee is None
        assert ticket.created_at == ticket.updated_at == MONDAY_9_ROME
        assert ticket.first_response_at is ticket.resolved_at is ticket.closed_at is None
        # 16 business hours from Monday 09:00: Monday 7, Tuesday 7, Wednesday 09:00-11:00 Rome.
        assert ticket.sla_due_at == datetime(2026, 11, 25, 10) == CALENDAR.sla_due(MONDAY_9_ROME)
        assert [(e.kind, e.actor, e.before, e.after, e.public) for e in ticket.events] == [
            ("created", "user", None, "open", True)]


def test_optional_company_fields_may_be_missing(database):
    ref = open_one(database, company_size=None, company_artisan=None, role="worker", contact_kind="phone",
                   contact="+39 02 1234567", transcript=[], suggested_topics=[]).ref
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        assert ticket.company_size is None and ticket.company_artisan is None
        assert ticket.transcript == [] and ticket.suggested_topics == []


def test_an_intake_with_unknown_values_is_refused():
    with pytest.raises(ValueError, match="role"):
        intake(role="boss")
    with pytest.raises(ValueError, match="contact_kind"):
        intake(contact_kind="fax")
    with pytest.raises(ValueError, match="language"):
        intake(language="fr")
    with pytest.raises(ValueError, match="question"):
        intake(question="  ")


def test_opening_the_same_intake_twice_gives_one_ticket_and_one_created_event(database):
    first = open_one(database)
    second = open_one(database)
    assert second.id == first.id and second.ref == first.ref
    assert counts(database) == (1, 1)


def test_intakes_without_a_key_are_never_merged(database):
    first = open_one(database, key=None)
    second = open_one(database, key=None)
    assert first.ref != second.ref
    assert counts(database) == (2, 2)


def test_a_unit_of_work_that_fails_after_opening_leaves_no_ticket(database):
    # On SQLite a savepoint without an outer transaction would have committed the ticket alone.
    with pytest.raises(RuntimeError):
        with database.session() as session:
            tickets.open_ticket(session, intake(), CALENDAR)
            raise RuntimeError("the action failed after opening")
    assert counts(database) == (0, 0)


def test_a_reference_collision_draws_another_reference(database, monkeypatch):
    drawn = iter(["DC-AAAAAA", "DC-AAAAAA", "DC-BBBBBB"])
    monkeypatch.setattr(tickets, "new_reference", lambda: next(drawn))
    first = open_one(database, key="one")
    second = open_one(database, key="two")
    assert (first.ref, second.ref) == ("DC-AAAAAA", "DC-BBBBBB")
    assert counts(database) == (2, 2)


def _open_in(db: Database, key: str = "raced-intake") -> str:
    with db.session() as session:
        return tickets.open_ticket(session, intake(key), CALENDAR).ref


@pytest.mark.timeout(60)
def test_concurrent_sessions_opening_one_intake_make_one_ticket(database):
    workers = [Database(database.url) for _ in range(4)]
    start = threading.Barrier(len(workers))

    def submit(db):
        start.wait()
        return _open_in(db)

    try:
        with ThreadPoolExecutor(len(workers)) as pool:
            refs = list(pool.map(submit, workers))
    finally:
        for db in workers:
            db.dispose()
    assert len(set(refs)) == 1
    assert counts(database) == (1, 1)


def _wait_until_blocked_on_a_lock(database: Database, deadline: float = 20.0) -> None:
    """PostgreSQL only: until some session of this database waits for a lock."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    until = time.monotonic() + deadline
    with database.engine.connect() as connection:
        while True:
            waiting = connection.execute(query).scalar()
            connection.rollback()  # PostgreSQL keeps one snapshot of the activity per transaction
            if waiting:
                return
            if time.monotonic() > until:
                raise TimeoutError("the second session never blocked on the first one's insert")
            time.sleep(0.02)


@pytest.mark.timeout(60)
def test_losing_the_race_returns_the_winners_ticket_and_keeps_the_losers_transaction(database):
    """The winner has inserted but not committed; the loser, who did other work in the same
    unit of work, waits, loses on the unique intake key and gets the winner's ticket."""
    winner_db, loser_db = Database(database.url), Database(database.url)

    def lose():
        with loser_db.session() as session:
            analytics.record_turn(session, "conv-1", "escalated", "operatore", "it")
            return tickets.open_ticket(session, intake("raced-intake"), CALENDAR).ref

    try:
        with ThreadPoolExecutor(1) as pool:
            with winner_db.session() as session:
                winner_ref = tickets.open_ticket(session, intake("raced-intake"), CALENDAR).ref
                loser = pool.submit(lose)
                if database.engine.dialect.name == "postgresql":
                    # The loser did not see the uncommitted ticket and is stuck on the unique index.
                    _wait_until_blocked_on_a_lock(database)
                else:
                    time.sleep(0.3)  # SQLite: the loser queues for the write lock either way
            loser_ref = loser.result(timeout=30)
    finally:
        winner_db.dispose()
        loser_db.dispose()
    assert loser_ref == winner_ref
    assert counts(database) == (1, 1)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(AssistantTurn)) == 1


# References


def test_a_thousand_references_are_distinct_and_well_formed():
    references = [tickets.new_reference() for _ in range(1000)]
    assert len(set(references)) == 1000
    assert all(REFERENCE_FORMAT.match(reference) for reference in references)
    assert len(tickets.REFERENCE_ALPHABET) ** tickets.REFERENCE_LENGTH > 1e9


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("DC-7K4M2Q", "DC-7K4M2Q"),
        ("dc-7k4m2q", "DC-7K4M2Q"),
        ("DC7K4M2Q", "DC-7K4M2Q"),
        (" dc 7k4 m2q ", "DC-7K4M2Q"),
        ("DC-7K4MZO", "DC-7K4MZ0"),
        ("dc-i1l0o0", "DC-111000"),
        ("DC-7K4M2", None),
        ("DC-7K4M2QQ", None),
        ("DC-7K4M2U", None),
        ("XY-7K4M2Q", None),
        ("7K4M2Q", None),
        ("", None),
    ],
)
def test_normalise_reference(typed, expected):
    assert tickets.normalise_reference(typed) == expected


@pytest.mark.parametrize(
    "message, expected",
    [
        ("stato DC-7K4M2Q?", "DC-7K4M2Q"),
        ("/stato dc 7k4m2q", "DC-7K4M2Q"),
        ("la mia pratica è la dc7k4m2q, grazie", "DC-7K4M2Q"),
        ("what about DC-7K4M-2Q.", "DC-7K4M2Q"),
        ("codice DC-7K4MZO", "DC-7K4MZ0"),
        ("DC-UUUUUU no, scusa: DC-7K4M2Q", "DC-7K4M2Q"),
        ("DC-7K4M2QX", None),
        ("ho chiesto del bonus nido", None),
        ("", None),
    ],
)
def test_find_reference_in(message, expected):
    assert tickets.find_reference_in(message) == expected


def test_find_by_ref_accepts_what_users_type(database):
    ref = open_one(database).ref
    with database.session() as session:
        assert tickets.find_by_ref(session, ref.lower().replace("-", " ")).ref == ref
        assert tickets.find_by_ref(session, "DC-000000") is None
        assert tickets.find_by_ref(session, "nonsense") is None


# Public status


def test_public_status_shows_progress_and_no_personal_data(database):
    ref = open_one(database).ref
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        tickets.assign(session, ticket, "operatrice@sportello.example", actor="supervisor")
        tickets.reply(session, ticket, "Sì: le spiego come nel prossimo messaggio.", actor="operatrice@sportello.example")
        tickets.add_note(session, ticket, "Maria Rossi richiama lunedì", actor="operatrice@sportello.example")
    with database.session() as session:
        view = tickets.public_status(session, ref.lower(), OPENER)
        events = tickets.find_by_ref(session, ref).events
    assert view.ref == ref and view.status is TicketStatus.WAITING_ON_USER
    assert view.last_reply == "Sì: le spiego come nel prossimo messaggio."
    assert view.last_reply_at == view.last_update_at == events[-2].created_at
    assert view.opened_at == MONDAY_9_ROME
    shown = " ".join(str(value) for value in dataclasses.asdict(view).values())
    for private in ("Maria", "Rossi", "maria.rossi@example.org", "Falegnameria", "buoni pasto",
                    "123456789", "conv-1", "operatrice", "richiama"):
        assert private not in shown
    assert {f.name for f in dataclasses.fields(view)} == {
        "ref", "status", "opened_at", "last_update_at", "last_reply", "last_reply_at"}


@pytest.mark.parametrize("requester, sees_reply", [
    (OPENER, True),
    (Requester("telegram-123456789-restarted", "telegram", "123456789"), True),  # same chat, new conversation
    (Requester("conv-2", "telegram", "987654321"), False),  # another chat
    (Requester("rest-guesser", "rest", "rest-guesser"), False),
    (Requester("widget-x", "widget", "123456789"), False),  # the same address on another channel
    (None, False),
])
def test_only_the_conversation_or_channel_identity_that_opened_the_ticket_reads_its_replies(database, requester, sees_reply):
    ref = open_one(database).ref
    with database.session() as session:
        tickets.reply(session, tickets.find_by_ref(session, ref), "Gentile Maria, per la sua falegnameria...", actor="op")
    with database.session() as session:
        view = tickets.public_status(session, ref, requester)
    assert view.status is TicketStatus.WAITING_ON_USER
    assert (view.last_reply == "Gentile Maria, per la sua falegnameria...") is sees_reply
    assert (view.last_reply_at is not None) is sees_reply


def test_public_status_of_a_new_ticket_and_of_an_unknown_reference(database):
    ref = open_one(database).ref
    with database.session() as session:
        view = tickets.public_status(session, ref)
        assert view.status is TicketStatus.OPEN and view.last_reply is None
        assert view.last_update_at == MONDAY_9_ROME
        assert tickets.public_status(session, "DC-000000") is None
        assert tickets.public_status(session, "ciao") is None


def test_public_status_ignores_the_users_own_follow_ups(database):
    ref = open_one(database).ref
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        tickets.reply(session, ticket, "Ci serve la visura camerale.", actor="op")
        tickets.add_follow_up(session, ticket, "Eccola, il mio codice fiscale è RSSMRA80A41F205X")
    with database.session() as session:
        view = tickets.public_status(session, ref, OPENER)
    assert view.status is TicketStatus.OPEN
    assert view.last_reply == "Ci serve la visura camerale."
    assert "RSSMRA" not in str(dataclasses.asdict(view))


# Transitions

ALLOWED = [
    ("open", "in_progress"), ("open", "waiting_on_user"), ("open", "resolved"), ("open", "closed"),
    ("in_progress", "open"), ("in_progress", "waiting_on_user"), ("in_progress", "resolved"),
    ("in_progress", "closed"),
    ("waiting_on_user", "open"), ("waiting_on_user", "in_progress"), ("waiting_on_user", "resolved"),
    ("waiting_on_user", "closed"),
    ("resolved", "open"), ("resolved", "closed"),
]
REFUSED = [
    ("open", "open"), ("in_progress", "in_progress"), ("waiting_on_user", "waiting_on_user"),
    ("resolved", "resolved"), ("resolved", "in_progress"), ("resolved", "waiting_on_user"),
    ("closed", "open"), ("closed", "in_progress"), ("closed", "resolved"), ("closed", "closed"),
]


def _ticket_in(session, status: str, key: str) -> Ticket:
    ticket = tickets.open_ticket(session, intake(key), CALENDAR)
    if status != "open":
        tickets.change_status(session, ticket, status, actor="setup")
    return ticket


def test_every_allowed_transition_is_made_and_recorded(database):
    assert {(before.value, after.value) for before, afters in tickets.ALLOWED_TRANSITIONS.items()
            for after in afters} == set(ALLOWED)
    with database.session() as session:
        for number, (before, after) in enumerate(ALLOWED):
            ticket = _ticket_in(session, before, key=f"allowed-{number}")
            tickets.change_status(session, ticket, TicketStatus(after), actor="op-7")
            assert ticket.status == after
            last = ticket.events[-1]
            assert (last.kind, last.actor, last.before, last.after, last.public) == (
                "status_changed", "op-7", before, after, True), (before, after)
            still_resolved = after == "resolved" or (before, after) == ("resolved", "closed")
            assert (ticket.resolved_at is not None) == still_resolved, (before, after)
            assert (ticket.closed_at is not None) == (after == "closed"), (before, after)


@pytest.mark.parametrize("before, after", REFUSED)
def test_refused_transitions_name_both_states_and_change_nothing(database, before, after):
    with database.session() as session:
        ticket = _ticket_in(session, before, key="refused")
        events_before = len(ticket.events)
        with pytest.raises(InvalidTransition, match=f"from {before} to {after}"):
            tickets.change_status(session, ticket, after, actor="op")
        assert ticket.status == before and len(ticket.events) == events_before


def test_an_unknown_status_is_refused(database):
    with database.session() as session:
        ticket = _ticket_in(session, "open", key="unknown-status")
        with pytest.raises(ValueError):
            tickets.change_status(session, ticket, "archived", actor="op")


def test_reopening_a_resolved_ticket_clears_its_resolution_and_close_sets_closed_at(database):
    with database.session() as session:
        ticket = _ticket_in(session, "resolved", key="reopen")
        assert ticket.resolved_at is not None
        tickets.change_status(session, ticket, "open", actor="op")
        assert ticket.resolved_at is None
        tickets.change_status(session, ticket, "resolved", actor="op")
        resolved_at = ticket.resolved_at
        tickets.close(session, ticket, actor="supervisor")
        assert ticket.current_status is TicketStatus.CLOSED
        assert ticket.closed_at is not None and ticket.resolved_at == resolved_at


# Replies, notes, follow-ups, assignment


def test_a_reply_is_public_records_the_first_response_and_waits_on_the_user(database):
    ref = open_one(database).ref
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        tickets.reply(session, ticket, "Prima risposta", actor="op")
        first_response = ticket.first_response_at
        assert ticket.current_status is TicketStatus.WAITING_ON_USER and first_response is not None
        tickets.reply(session, ticket, "Seconda risposta", actor="op")
        assert ticket.first_response_at == first_response
        assert ticket.current_status is TicketStatus.WAITING_ON_USER


def test_a_reply_without_set_waiting_keeps_the_status(database):
    ref = open_one(database).ref
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        tickets.change_status(session, ticket, "in_progress", actor="op")
        tickets.reply(session, ticket, "Stiamo verificando con ELBA.", actor="op", set_waiting=False)
        assert ticket.current_status is TicketStatus.IN_PROGRESS and ticket.first_response_at is not None


def test_a_note_is_private_and_changes_no_status(database):
    ref = open_one(database).ref
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        tickets.add_note(session, ticket, "chiedere a Luca", actor="op")
        assert ticket.current_status is TicketStatus.OPEN and ticket.first_response_at is None
    assert history(database, ref)[-1] == ("note", "op", None, None, "chiedere a Luca", False)


@pytest.mark.parametrize(
    "before, after",
    [("waiting_on_user", "open"), ("resolved", "open"), ("open", "open"), ("in_progress", "in_progress")],
)
def test_a_follow_up_puts_a_waiting_or_resolved_ticket_back_in_the_queue(database, before, after):
    with database.session() as session:
        ticket = _ticket_in(session, before, key="follow-up")
        tickets.add_follow_up(session, ticket, "Ecco i documenti")
        assert ticket.status == after
        last = ticket.events[-1]
        assert (last.kind, last.actor, last.body, last.public) == ("follow_up", "user", "Ecco i documenti", True)
        if before != after:
            moved = ticket.events[-2]
            assert (moved.kind, moved.actor, moved.before, moved.after) == ("status_changed", "user", before, after)
            assert ticket.resolved_at is None


def test_a_closed_ticket_takes_no_reply_and_no_follow_up(database):
    with database.session() as session:
        ticket = _ticket_in(session, "closed", key="closed")
        with pytest.raises(TicketClosed):
            tickets.reply(session, ticket, "troppo tardi", actor="op")
        with pytest.raises(TicketClosed):
            tickets.add_follow_up(session, ticket, "ci sono ancora?")
        tickets.add_note(session, ticket, "l'utente ha riscritto dopo la chiusura", actor="op")


def test_assigning_records_who_had_it_before(database):
    ref = open_one(database).ref
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        tickets.assign(session, ticket, "anna", actor="supervisor")
        tickets.assign(session, ticket, "anna", actor="supervisor")  # no change, no event
        tickets.assign(session, ticket, "bruno", actor="anna")
        tickets.assign(session, ticket, None, actor="bruno")
    assert history(database, ref)[1:] == [
        ("assigned", "supervisor", None, "anna", None, False),
        ("assigned", "anna", "anna", "bruno", None, False),
        ("assigned", "bruno", "bruno", None, None, False),
    ]


def test_every_change_is_an_event_with_actor_before_and_after(database):
    ref = open_one(database).ref
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        tickets.assign(session, ticket, "anna", actor="supervisor")
        tickets.change_status(session, ticket, "in_progress", actor="anna")
        tickets.add_note(session, ticket, "verifico", actor="anna")
        tickets.reply(session, ticket, "Ci mandi la busta paga?", actor="anna")
        tickets.add_follow_up(session, ticket, "Allegata")
        tickets.change_status(session, ticket, TicketStatus.RESOLVED, actor="anna")
        tickets.close(session, ticket, actor="system")
    assert history(database, ref) == [
        ("created", "user", None, "open", None, True),
        ("assigned", "supervisor", None, "anna", None, False),
        ("status_changed", "anna", "open", "in_progress", None, True),
        ("note", "anna", None, None, "verifico", False),
        ("status_changed", "anna", "in_progress", "waiting_on_user", None, True),
        ("reply", "anna", None, None, "Ci mandi la busta paga?", True),
        ("status_changed", "user", "waiting_on_user", "open", None, True),
        ("follow_up", "user", None, None, "Allegata", True),
        ("status_changed", "anna", "open", "resolved", None, True),
        ("status_changed", "system", "resolved", "closed", None, True),
    ]


def test_the_conversations_open_ticket_is_its_latest_unresolved_one(database):
    older = open_one(database, key="older").ref
    newer = open_one(database, key="newer").ref
    open_one(database, key="elsewhere", conversation="conv-2")
    with database.session() as session:
        assert tickets.open_ticket_for_conversation(session, "conv-1").ref == newer
        tickets.change_status(session, tickets.find_by_ref(session, newer), "resolved", actor="op")
        assert tickets.open_ticket_for_conversation(session, "conv-1").ref == older
        tickets.close(session, tickets.find_by_ref(session, older), actor="op")
        assert tickets.open_ticket_for_conversation(session, "conv-1") is None
        assert tickets.open_ticket_for_conversation(session, "nobody") is None
