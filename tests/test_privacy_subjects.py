"""A person's data found by contact, Telegram chat or widget conversation, exported as JSON
and erased from every table and from Rasa's SQL tracker store, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import datetime, timedelta

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select
from sqlalchemy.engine import make_url

from desk.models import AssistantTurn, KnowledgeDraft, PrivacyRequest
from desk.models.base import utcnow
from desk.services import analytics
from desk.services.privacy import purge, subjects
from desk.services.privacy.identities import Identity, IdentityKind, parse_identity
from desk.services.privacy.retention import RetentionPolicy, epoch_seconds, identity_hash
from desk.services.privacy.tracker_store import SqlTrackerStore
from tests.support.databases import throwaway_postgres_database
from tests.support.privacy import GIULIA, OTHER, find_everywhere, give_data

SECRET = "test-secret-key"
OPENED = datetime(2026, 11, 23, 8, 0)


@pytest.fixture
def people(database):
    refs = {GIULIA: give_data(database, GIULIA, OPENED, 1001), OTHER: give_data(database, OTHER, OPENED, 1002)}
    return database, refs


def footprint_of(database, kind, value, store=None):
    with database.session() as session:
        return subjects.find(session, parse_identity(kind, value), SECRET, store)


@pytest.mark.parametrize("kind, value", [
    ("contact", GIULIA.email.upper()),
    ("telegram", GIULIA.chat_id),
    ("telegram", f"telegram-{GIULIA.chat_id}"),
])
def test_a_person_is_found_whichever_identity_names_them(people, kind, value):
    database, refs = people
    found = footprint_of(database, kind, value)
    assert [ticket.ref for ticket in found.tickets] == [refs[GIULIA]]
    counts = found.counts()
    assert counts["assistant_turns"] == 3 and counts["feedback"] == 1 and counts["telegram_updates"] == 1
    # the reply and the resolution notice, each on Telegram and as an e-mail copy (the contact is an e-mail)
    assert counts["attachments"] == 1 and counts["outbox"] == 4
    assert counts["learning_decisions"] == 2 and counts["knowledge_drafts"] == 1
    assert {event.kind for event in found.events} >= {"created", "follow_up", "attachment", "reply", "status_changed"}
    assert GIULIA.name not in json.dumps(subjects.export(footprint_of(database, "contact", OTHER.email)), ensure_ascii=False)


def test_a_widget_conversation_finds_its_turns_and_ticket(database):
    session_id = "w1dget-session-abcdef"
    with database.session() as session:
        analytics.record_turn(session, f"widget-{session_id}", "answered", "smart working in negozio", "it", "widget",
                              topic="smart_working_definizione")
    found = footprint_of(database, "widget", session_id)
    assert [turn.text for turn in found.turns] == ["smart working in negozio"] and not found.tickets
    assert footprint_of(database, "widget", "another-session-1").empty


def test_the_export_holds_the_ticket_its_messages_events_and_files(people):
    database, refs = people
    document = subjects.export(footprint_of(database, "contact", GIULIA.email))
    json.dumps(document)  # JSON-ready all the way down
    (ticket,) = document["tickets"]
    assert ticket["ref"] == refs[GIULIA] and ticket["name"] == GIULIA.name and ticket["question"] == GIULIA.question
    assert ticket["consent_version"] == "2026-12-01"
    bodies = [event["body"] for event in ticket["events"]]
    assert GIULIA.follow_up in bodies and any(GIULIA.email in (body or "") for body in bodies)
    assert [line["text"] for line in ticket["transcript"]][0] == GIULIA.unanswered
    (attachment,) = ticket["attachments"]
    assert base64.b64decode(attachment["content_base64"]) == GIULIA.file_bytes
    assert {turn["text"] for turn in document["assistant_turns"]} == {GIULIA.unanswered, GIULIA.unanswered_en, "sì"}
    assert document["telegram_updates"][0]["payload"]["message"]["text"] == GIULIA.unanswered
    assert document["knowledge_drafts"][0]["question_examples"] == [GIULIA.unanswered]


def test_after_erasure_no_column_of_any_table_holds_the_person(people):
    database, refs = people
    assert find_everywhere(database, GIULIA.secrets())  # the check finds them while they are there
    with database.session() as session:
        found = subjects.find(session, parse_identity("telegram", GIULIA.chat_id), SECRET)
        counts = subjects.erase(session, found)
        subjects.audit(session, "erasure", "admin@sportello.example", found.identity, SECRET, counts)
    assert counts["tickets"] == 1 and counts["assistant_turns"] == 3
    assert find_everywhere(database, GIULIA.secrets()) == {}
    # The other person's data is untouched, and the audit names the identity only by its hash.
    assert set(find_everywhere(database, [OTHER.email, OTHER.question, OTHER.unanswered])) >= {
        ("tickets", "contact"), ("tickets", "question"), ("assistant_turns", "text")}
    with database.session() as session:
        (audit,) = session.scalars(select(PrivacyRequest)).all()
        assert audit.identity_hash == identity_hash(SECRET, "telegram", GIULIA.chat_id) and audit.actor == "admin@sportello.example"
        assert footprint_of(database, "contact", GIULIA.email).empty
        # A draft started from the person's words stays, without them.
        drafts = session.scalars(select(KnowledgeDraft).order_by(KnowledgeDraft.id)).all()
        assert [(draft.title, draft.question_examples) for draft in drafts] == [
            (subjects.REMOVED_TITLE, []), (OTHER.unanswered, [OTHER.unanswered])]


def test_erasure_finds_turns_the_purge_already_pseudonymised(people):
    database, _ = people
    later = OPENED + timedelta(days=400)
    with database.session() as session:
        due = purge.plan(session, RetentionPolicy.defaults(), later)
        purge.execute(session, due, SECRET)
    with database.session() as session:
        assert session.scalars(select(AssistantTurn.conversation_id).where(
            AssistantTurn.conversation_id == GIULIA.sender_id)).first() is None
    found = footprint_of(database, "telegram", GIULIA.chat_id)
    assert len(found.turns) == 3 and len(found.feedback) == 1
    with database.session() as session:
        subjects.erase(session, found)
    with database.session() as session:
        remaining = session.scalars(select(AssistantTurn.conversation_id)).all()
    assert len(remaining) == 3  # only the other person's (pseudonymous) turns


# --- Rasa's SQL tracker store ------------------------------------------------------------

@pytest.fixture
def tracker_store_url(database, tmp_path):
    """Rasa's tracker store on the same kind of database as the desk's."""
    if database.engine.dialect.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'rasa.db'}"
    else:
        with throwaway_postgres_database("rasa_tracker") as url:
            yield url


def rasa_store(url: str) -> SQLTrackerStore:
    """Rasa's own SQLTrackerStore, as `tracker_store: type: SQL` in endpoints.yml builds it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return SQLTrackerStore(Domain.empty(), dialect="sqlite", db=parsed.database)
    return SQLTrackerStore(Domain.empty(), dialect="postgresql", host=parsed.host, port=parsed.port or 5432,
                           db=parsed.database, username=parsed.username)


def save_conversation(store: SQLTrackerStore, sender_id: str, text: str, at: float) -> None:
    tracker = DialogueStateTracker.from_events(sender_id, [
        ActionExecuted("action_listen", timestamp=at),
        UserUttered(text, {"name": "nlu_fallback", "confidence": 0.3}, timestamp=at + 1),
        BotUttered("Non so rispondere: vuoi parlare con una persona?", timestamp=at + 2),
    ])
    asyncio.run(store.save(tracker))


def test_erasure_deletes_the_conversation_from_rasas_sql_tracker_store(people, tracker_store_url):
    database, _ = people
    rasa = rasa_store(tracker_store_url)
    save_conversation(rasa, GIULIA.sender_id, GIULIA.unanswered, time.time())
    save_conversation(rasa, OTHER.sender_id, OTHER.unanswered, time.time())
    store = SqlTrackerStore(tracker_store_url)
    try:
        found = footprint_of(database, "contact", GIULIA.email, store)
        assert len(found.tracker_events) == 3
        assert GIULIA.unanswered in json.dumps(subjects.export(found)["assistant_memory"], ensure_ascii=False)
        with database.session() as session:
            counts = subjects.erase(session, found, store)
        assert counts["tracker_events"] == 3
        assert asyncio.run(rasa.retrieve(GIULIA.sender_id)) is None
        assert asyncio.run(rasa.retrieve(OTHER.sender_id)) is not None
    finally:
        store.dispose()
        rasa.engine.dispose()


def test_the_purge_deletes_old_events_from_rasas_sql_tracker_store(database, tracker_store_url):
    rasa = rasa_store(tracker_store_url)
    now = utcnow()
    save_conversation(rasa, GIULIA.sender_id, GIULIA.unanswered, epoch_seconds(now - timedelta(days=200)))
    save_conversation(rasa, OTHER.sender_id, OTHER.unanswered, epoch_seconds(now - timedelta(days=2)))
    store = SqlTrackerStore(tracker_store_url)
    try:
        summary = purge.run_purge(database, RetentionPolicy.defaults(), SECRET, "cli", dry_run=True, now=now, tracker_store=store)
        assert summary.counts["tracker_events"] == 3
        summary = purge.run_purge(database, RetentionPolicy.defaults(), SECRET, "cli", now=now, tracker_store=store)
        assert summary.counts["tracker_events"] == 3
        assert asyncio.run(rasa.retrieve(GIULIA.sender_id)) is None
        assert asyncio.run(rasa.retrieve(OTHER.sender_id)) is not None
    finally:
        store.dispose()
        rasa.engine.dispose()


def test_identities_are_checked_before_any_search():
    from desk.services.privacy.identities import InvalidIdentity

    for kind, value in [("contact", "not a contact"), ("telegram", "abc"), ("widget", "x"), ("passport", "1")]:
        with pytest.raises(InvalidIdentity):
            parse_identity(kind, value)
    assert parse_identity("contact", GIULIA.phone_typed) == Identity(IdentityKind.CONTACT, GIULIA.phone)


def test_erasure_takes_the_persons_words_out_of_the_training_data(people, tmp_path):
    from desk.services.learning import learned_path, read_learned, render_learned, training_example

    database, _ = people
    path = learned_path(tmp_path, "it")
    path.parent.mkdir(parents=True)
    path.write_text(render_learned({"congedo_parentale": [training_example(GIULIA.unanswered), "congedo a ore"]}),
                    encoding="utf-8")
    with database.session() as session:
        found = subjects.find(session, parse_identity("contact", GIULIA.email), SECRET, nlu_dir=tmp_path)
        assert found.training_examples == [("it", "congedo_parentale", training_example(GIULIA.unanswered))]
        assert subjects.export(found)["training_examples"][0]["example"] == training_example(GIULIA.unanswered)
        counts = subjects.erase(session, found, nlu_dir=tmp_path)
    assert counts["training_examples"] == 1
    assert read_learned(path) == {"congedo_parentale": ["congedo a ore"]}
