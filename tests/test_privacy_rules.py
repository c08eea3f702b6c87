"""The retention rules and identities as pure functions: no database."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from desk.config import Settings
from desk.services.privacy.identities import IdentityKind, parse_identity, telegram_parties, texts_match
from desk.services.privacy.notice import notice_from
from desk.services.privacy.retention import (RULES, DataKind, RetentionPolicy, attachment_is_due, conversation_is_due,
                                             epoch_seconds, identity_hash, outbox_message_is_due, pseudonym,
                                             purge_is_due, telegram_update_is_due, ticket_is_due, turn_text_is_due)

NOW = datetime(2027, 1, 10, 3, 0)


def test_defaults_and_overrides_come_from_the_environment():
    policy = RetentionPolicy.from_env({})
    assert policy.days[DataKind.TICKETS] == 365 and policy.days[DataKind.MESSAGE_TEXTS] == 90
    assert policy.days[DataKind.CONVERSATIONS] == policy.days[DataKind.TRACKER_EVENTS] == 180
    policy = RetentionPolicy.from_env({"DIALOGA_RETENTION_TICKETS_DAYS": "30", "DIALOGA_RETENTION_CONVERSATIONS_DAYS": "60"})
    assert policy.days[DataKind.TICKETS] == 30 and policy.days[DataKind.TRACKER_EVENTS] == 60
    assert policy.cutoff(DataKind.TICKETS, NOW) == NOW - timedelta(days=30)
    with pytest.raises(ValueError):
        RetentionPolicy.from_env({"DIALOGA_RETENTION_OUTBOX_DAYS": "0"})
    settings = Settings.from_env({"DIALOGA_RETENTION_UNANSWERED_TEXT_DAYS": "45"})
    assert settings.privacy.retention.days[DataKind.MESSAGE_TEXTS] == 45
    assert {rule.kind for rule in RULES} == set(DataKind)


def test_only_finished_tickets_untouched_since_the_cutoff_are_due():
    cutoff = NOW - timedelta(days=365)
    old = cutoff - timedelta(seconds=1)
    assert ticket_is_due("closed", old, None, cutoff) and ticket_is_due("resolved", old, None, cutoff)
    for status in ("open", "in_progress", "waiting_on_user"):
        assert not ticket_is_due(status, old - timedelta(days=3000), None, cutoff)
    assert not ticket_is_due("closed", cutoff, None, cutoff)
    assert not ticket_is_due("closed", old, NOW, cutoff)  # already anonymised
    assert attachment_is_due("closed", old, cutoff) and not attachment_is_due("in_progress", old, cutoff)


def test_texts_conversations_outbox_and_updates():
    cutoff = NOW - timedelta(days=90)
    old = cutoff - timedelta(minutes=1)
    assert turn_text_is_due("ciao", old, cutoff) and not turn_text_is_due("", old, cutoff)
    assert not turn_text_is_due("ciao", cutoff + timedelta(minutes=1), cutoff)
    assert conversation_is_due("telegram-1", old, None, cutoff) and not conversation_is_due("telegram-1", old, NOW, cutoff)
    assert outbox_message_is_due("sent", old, "testo", "123", cutoff) and outbox_message_is_due("failed", old, "x", "", cutoff)
    assert not outbox_message_is_due("queued", old, "testo", "123", cutoff)
    assert not outbox_message_is_due("sent", old, "", "", cutoff)  # already emptied
    assert telegram_update_is_due(old, cutoff) and not telegram_update_is_due(NOW, cutoff)
    assert epoch_seconds(datetime(1970, 1, 2)) == 86400


def test_the_purge_runs_once_a_day():
    assert purge_is_due(None, NOW)
    assert not purge_is_due(NOW - timedelta(hours=23, minutes=59), NOW)
    assert purge_is_due(NOW - timedelta(hours=24), NOW)


def test_pseudonyms_and_identity_hashes_are_stable_keyed_and_not_the_identity():
    alias = pseudonym("key", "telegram-918273645")
    assert alias == pseudonym("key", "telegram-918273645") != pseudonym("key", "telegram-918273646")
    assert alias != pseudonym("other key", "telegram-918273645") and "918273645" not in alias
    digest = identity_hash("key", "contact", "a@example.org")
    assert len(digest) == 64 and digest != identity_hash("key", "telegram", "a@example.org")


def test_identities_are_normalised():
    assert parse_identity("contact", " Mario.Rossi@Example.ORG ").value == "mario.rossi@example.org"
    assert parse_identity("contact", "02 1234 5678").value == "+390212345678"
    telegram = parse_identity("telegram", "telegram-918273645")
    assert telegram.kind is IdentityKind.TELEGRAM and telegram.sender_ids == {"telegram-918273645"}
    assert telegram.channel_address == ("telegram", "918273645")
    assert parse_identity("widget", "widget-AbC_123-xyz").sender_ids == {"widget-AbC_123-xyz"}
    assert parse_identity("contact", "a@example.org").sender_ids == frozenset()


def test_the_parties_of_a_telegram_update_are_its_chats_and_users():
    update = {"update_id": 1, "callback_query": {"from": {"id": 42}, "message": {"chat": {"id": -100}, "text": "x"}}}
    assert telegram_parties(update) == {"42", "-100"}
    assert telegram_parties({"update_id": 9, "message": {"message_id": 42, "text": "id 42"}}) == set()


def test_texts_match_aside_spacing_and_case():
    assert texts_match("  Ciao   MONDO ", ["ciao mondo"]) and not texts_match("ciao", ["ciao mondo"])
    assert not texts_match("", [""])


def test_the_notice_shows_the_periods_the_purge_uses():
    settings = Settings.from_env({"DIALOGA_RETENTION_TICKETS_DAYS": "400"})
    notice = notice_from(settings.privacy)
    days = {line.kind: line.days for line in notice.retention}
    assert days["tickets"] == 400 == settings.privacy.retention.days[DataKind.TICKETS]
    assert "tracker_events" not in days and not notice.assistant_memory_erasable and not notice.complete
    notice = notice_from(Settings.from_env({"DIALOGA_TRACKER_STORE_URL": "sqlite:///x.db"}).privacy)
    assert "tracker_events" in {line.kind for line in notice.retention} and notice.assistant_memory_erasable
