"""Update notices: subscribe, a published "rules changed" edit queues one notice per
subscriber through the outbox, at most one a day per user; list, cancel, erase; counts."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from desk.models import OutboundMessage, UpdateNotice, UpdateSubscription
from desk.services import knowledge, outbox, update_notices
from desk.services.update_notices import InvalidEmail

NOW = datetime(2026, 12, 1, 10, 0)


def test_the_notice_carries_the_first_lines_and_the_source():
    text = update_notices.notice_text("Soglie", "uno\n\ndue\ntre\nquattro", "L. 207/2024", "https://example.org/a", "it")
    assert "Soglie" in text and "uno\ndue\ntre" in text and "quattro" not in text
    assert "Fonte: L. 207/2024 — https://example.org/a" in text and "/avvisi" in text


@pytest.mark.parametrize("last, expected", [
    (None, NOW),
    (NOW - timedelta(days=1), NOW),  # exactly a day ago: due now
    (NOW - timedelta(hours=23), NOW + timedelta(hours=1)),  # waits until a day has passed
])
def test_at_most_one_notice_a_day(last, expected):
    assert update_notices.next_delivery(last, NOW) == expected


def publish_rules_change(session, topic, now):
    entry = knowledge.find_entry(session, topic)
    saved = knowledge.update_entry(session, topic, {"answer_en": entry.answer_en + " Changed."}, "sup@x.example",
                                   rules_changed=True)
    return update_notices.notify_subscribers(session, saved, now=now)


def test_a_rules_change_queues_one_notice_per_subscriber_on_their_channel(seeded_database):
    with seeded_database.session() as session:
        update_notices.subscribe(session, "telegram", "4242", "fringe_benefit_soglie", "it", now=NOW)
        update_notices.subscribe(session, "widget", "w-1", "fringe_benefit_soglie", "en", now=NOW)
        update_notices.subscribe(session, "widget", "w-2", "fringe_benefit_soglie", "it", email="Anna@Example.org", now=NOW)
        update_notices.subscribe(session, "telegram", "9999", "part_time", "it", now=NOW)
        notices = publish_rules_change(session, "fringe_benefit_soglie", NOW)
        assert len(notices) == 3
        messages = {(m.channel, m.address): m for m in session.scalars(select(OutboundMessage))}
    assert set(messages) == {("telegram", "4242"), ("widget", "w-1"), ("email", "Anna@example.org")}
    assert all(m.kind == "update_notice" and m.ticket_id is None for m in messages.values())
    assert messages[("widget", "w-1")].body.startswith("The rules of a topic you follow have changed")
    assert "Fonte:" in messages[("telegram", "4242")].body


def test_a_second_change_the_same_day_waits_a_day_and_the_widget_sees_it_only_then(seeded_database):
    with seeded_database.session() as session:
        update_notices.subscribe(session, "widget", "w-1", "fringe_benefit_soglie", "it", now=NOW)
        update_notices.subscribe(session, "widget", "w-1", "part_time", "it", now=NOW)
        publish_rules_change(session, "fringe_benefit_soglie", NOW)
        later = publish_rules_change(session, "part_time", NOW + timedelta(hours=2))
        assert later[0].deliver_after == NOW + timedelta(days=1)
        visible_now = outbox.for_address(session, "widget", "w-1", now=NOW + timedelta(hours=3))
        visible_tomorrow = outbox.for_address(session, "widget", "w-1", now=NOW + timedelta(days=1))
    assert len(visible_now) == 1 and len(visible_tomorrow) == 2


def test_list_cancel_and_erase(seeded_database):
    with seeded_database.session() as session:
        update_notices.subscribe(session, "telegram", "1", "part_time", "it", now=NOW)
        update_notices.subscribe(session, "telegram", "1", "part_time", "it", now=NOW)  # idempotent
        update_notices.subscribe(session, "telegram", "1", "sanarti", "it", now=NOW)
        assert [s.topic for s in update_notices.active(session, "telegram", "1")] == ["part_time", "sanarti"]
        assert update_notices.cancel(session, "telegram", "1", "sanarti") == 1
        assert [s.topic for s in update_notices.active(session, "telegram", "1")] == ["part_time"]
        publish_rules_change(session, "part_time", NOW)
        counts = {row.topic: (row.subscriptions, row.notices) for row in update_notices.counts_per_topic(session)}
        assert counts == {"part_time": (1, 1)}
        update_notices.erase(session, "telegram", "1")
        assert session.scalars(select(UpdateSubscription)).all() == []
        assert session.scalars(select(UpdateNotice)).all() == []


def test_a_bad_email_is_refused(seeded_database):
    with seeded_database.session() as session, pytest.raises(InvalidEmail):
        update_notices.subscribe(session, "widget", "w", "part_time", "it", email="not an address")


def test_a_cancelled_subscription_forgets_the_email_and_is_purged_after_its_retention(seeded_database):
    from desk.services.privacy import purge
    from desk.services.privacy.retention import RetentionPolicy

    with seeded_database.session() as session:
        update_notices.subscribe(session, "widget", "w-7", "part_time", "it", email="anna@example.org", now=NOW)
        update_notices.subscribe(session, "telegram", "7", "part_time", "it", now=NOW)
        publish_rules_change(session, "part_time", NOW)
        update_notices.cancel(session, "widget", "w-7", now=NOW)
        [cancelled] = session.scalars(select(UpdateSubscription).where(UpdateSubscription.address == "w-7")).all()
        assert cancelled.email is None
    policy = RetentionPolicy.defaults()
    assert purge.run_purge(seeded_database, policy, "s" * 32, "test", now=NOW + timedelta(days=29)
                           ).counts["update_subscriptions"] == 0
    assert purge.run_purge(seeded_database, policy, "s" * 32, "test", now=NOW + timedelta(days=31)
                           ).counts["update_subscriptions"] == 1
    with seeded_database.session() as session:
        assert [s.address for s in session.scalars(select(UpdateSubscription))] == ["7"]  # the active one stays
        assert [n.address for n in session.scalars(select(UpdateNotice))] == ["7"]
