"""The retention purge on SQLite and PostgreSQL: what goes, what stays for the reports, dry
runs, the audit of runs, one purge at a time per cluster, the CLI and the worker."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import func, select, update

from desk.cli import main
from desk.models import (AnswerFeedback, AssistantTurn, OutboundMessage, PrivacyRun, TelegramUpdate, Ticket,
                         TicketAttachment, TicketEvent)
from desk.services import reports
from desk.services.learning import unanswered_messages
from desk.services.privacy import lease, purge
from desk.services.privacy.retention import PSEUDONYM_PREFIX, RetentionPolicy, pseudonym
from tests.support.privacy import GIULIA, OTHER, find_everywhere, give_data
from tests.test_reports import CALENDAR, NOW, period, week  # noqa: F401 (the week fixture)

SECRET = "test-secret-key"
OPENED = datetime(2026, 11, 23, 8, 0)
POLICY = RetentionPolicy.defaults()


def count(database, model, *conditions):
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*conditions))


def figures(session, now):
    """Every figure of the reports page except the unanswered messages' texts."""
    report = reports.build_report(session, period(), CALENDAR, now=now)
    return (report.containment, report.per_day, report.times, report.backlog, report.topics, report.satisfaction,
            report.channels, report.languages)


def test_the_reports_give_the_same_counts_for_a_purged_period(week):
    with week.session() as session:
        before = figures(session, NOW)
        assert reports.top_unanswered(session, period())  # the texts are there before
    a_year_later = datetime(2027, 6, 1)
    summary = purge.run_purge(week, POLICY, SECRET, "cli", now=a_year_later)
    assert summary.counts["tickets"] == 3  # T1, T2, T4: resolved or closed; T3, T5-T7 still active
    assert summary.counts["conversations"] == 11 and summary.counts["message_texts"] == 15
    with week.session() as session:
        assert figures(session, NOW) == before
        # What the minimisation removes: the texts of the messages, and every raw conversation id.
        assert reports.top_unanswered(session, period()) == [] and unanswered_messages(session, period()) == []
        assert set(session.scalars(select(AssistantTurn.text))) == {""}
        assert all(cid.startswith(PSEUDONYM_PREFIX) for cid in session.scalars(select(AssistantTurn.conversation_id)))
        anonymised = {t.ref: t for t in session.scalars(select(Ticket).where(Ticket.anonymised_at.isnot(None)))}
        assert sorted(anonymised) == ["DC-TEST01", "DC-TEST02", "DC-TEST04"]
        assert {(t.name, t.contact, t.question, t.reply_address) for t in anonymised.values()} == {("", "", "", "")}
        active = session.scalars(select(Ticket).where(Ticket.ref == "DC-TEST05")).one()
        assert active.name == "Nome" and active.anonymised_at is None


def test_a_conversation_spanning_the_cutoff_is_pseudonymised_whole(database):
    now = datetime(2027, 1, 1)
    with database.session() as session:
        session.add_all([
            AssistantTurn(conversation_id="telegram-42", outcome="answered", topic="part_time", text="part time",
                          created_at=now - timedelta(days=200)),
            AssistantTurn(conversation_id="telegram-42", outcome="escalated", text="voglio una persona",
                          created_at=now - timedelta(days=10)),
        ])
    purge.run_purge(database, POLICY, SECRET, "worker", now=now)
    with database.session() as session:
        turns = session.scalars(select(AssistantTurn).order_by(AssistantTurn.created_at)).all()
    assert {turn.conversation_id for turn in turns} == {pseudonym(SECRET, "telegram-42")}
    assert [turn.text for turn in turns] == ["", "voglio una persona"]  # recent text kept for the learning loop


def test_dry_run_counts_what_the_real_run_then_does_and_a_second_run_finds_nothing(database):
    give_data(database, GIULIA, OPENED, 2001)
    give_data(database, OTHER, OPENED, 2002, resolve=False)  # still waiting on the user: kept whole
    with database.session() as session:
        session.add(TelegramUpdate(update_id=3000, payload={"update_id": 3000}, received_at=OPENED - timedelta(days=30)))
    later = OPENED + timedelta(days=400)
    dry = purge.run_purge(database, POLICY, SECRET, "cli", dry_run=True, now=later)
    assert count(database, Ticket, Ticket.anonymised_at.isnot(None)) == 0
    assert count(database, TicketAttachment) == 2 and count(database, TelegramUpdate) == 3
    real = purge.run_purge(database, POLICY, SECRET, "worker", now=later)
    assert dry.counts == real.counts
    # message texts: 6 turns, 4 learning decisions, 2 drafts; outbox: Giulia's reply and resolution notice,
    # each on Telegram and as an e-mail copy (Paolo's reply is still queued); updates: 2 of Telegram users
    # and one more
    assert real.counts == {"tickets": 1, "attachments": 1, "conversations": 2, "message_texts": 12, "outbox": 4,
                           "telegram_updates": 3, "tracker_events": 0, "update_subscriptions": 0}
    again = purge.run_purge(database, POLICY, SECRET, "worker", now=later)
    assert set(again.counts.values()) == {0}
    # Giulia's resolved ticket is anonymised: nothing of hers is left; Paolo's open ticket is whole.
    assert find_everywhere(database, GIULIA.secrets()) == {}
    assert find_everywhere(database, [OTHER.email, OTHER.question, OTHER.follow_up, OTHER.caption])
    assert count(database, TicketEvent, TicketEvent.body.isnot(None), TicketEvent.ticket_id == _ticket_id(database, OTHER)) >= 3
    # Paolo's reply, queued on his chat and as an e-mail copy, keeps its text
    assert count(database, OutboundMessage) == 2 and count(database, OutboundMessage, OutboundMessage.body != "") == 2
    with database.session() as session:
        runs = session.scalars(select(PrivacyRun).order_by(PrivacyRun.id)).all()
    assert [(run.actor, run.dry_run, run.status) for run in runs] == [
        ("cli", True, "done"), ("worker", False, "done"), ("worker", False, "done")]
    assert runs[1].counts == real.counts and runs[1].cutoffs["tickets"] == "2026-12-28T08:00:00"


def _ticket_id(database, person):
    with database.session() as session:
        return session.scalar(select(Ticket.id).where(Ticket.contact == person.email))


def test_tickets_still_being_handled_are_never_purged(database):
    give_data(database, GIULIA, OPENED, 2001, resolve=False)
    one_day = RetentionPolicy.from_pairs([(kind.value, 1) for kind in POLICY.days])
    purge.run_purge(database, one_day, SECRET, "cli", now=OPENED + timedelta(days=3000))
    with database.session() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.name == GIULIA.name and ticket.question == GIULIA.question and ticket.anonymised_at is None
        assert session.scalar(select(func.count()).select_from(TicketAttachment)) == 1


def test_one_worker_of_the_cluster_purges_once_a_day(database):
    now = datetime(2027, 1, 1, 3, 0)
    results = []
    barrier = threading.Barrier(4)

    def worker(name):
        barrier.wait()
        results.append(purge.purge_if_due(database, POLICY, SECRET, name, now=now))

    threads = [threading.Thread(target=worker, args=(f"host-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([result for result in results if result is not None]) == 1
    assert purge.purge_if_due(database, POLICY, SECRET, "host-0", now=now + timedelta(hours=23)) is None
    assert purge.purge_if_due(database, POLICY, SECRET, "host-1", now=now + timedelta(hours=24)) is not None
    assert count(database, PrivacyRun) == 2


def test_a_lease_is_held_by_one_holder_until_it_runs_out(database):
    now = datetime(2027, 1, 1)
    with database.session() as session:
        assert lease.acquire(session, "job", "a", timedelta(minutes=10), now)
    with database.session() as session:
        assert not lease.acquire(session, "job", "b", timedelta(minutes=10), now + timedelta(minutes=5))
        assert lease.acquire(session, "job", "a", timedelta(minutes=10), now + timedelta(minutes=5))  # renewed
    with database.session() as session:
        assert lease.acquire(session, "job", "b", timedelta(minutes=10), now + timedelta(minutes=16))
        lease.release(session, "job", "b")
    with database.session() as session:
        assert lease.acquire(session, "job", "c", timedelta(minutes=10), now + timedelta(minutes=17))


def backdate_ticket_data(database, moment):
    with database.session() as session:
        session.execute(update(Ticket).values(updated_at=moment))
        session.execute(update(TicketAttachment).values(created_at=moment))


def test_the_command_line_purges_or_only_counts(database, monkeypatch):
    give_data(database, GIULIA, OPENED, 2001)
    backdate_ticket_data(database, OPENED)
    monkeypatch.setenv("DIALOGA_DATABASE_URL", database.url)
    monkeypatch.setenv("DIALOGA_RETENTION_TICKETS_DAYS", "1")
    monkeypatch.setenv("DIALOGA_RETENTION_ATTACHMENTS_DAYS", "1")
    result = CliRunner().invoke(main, ["privacy", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "tickets: 1 due (older than 1 days" in result.output
    assert count(database, Ticket, Ticket.anonymised_at.isnot(None)) == 0
    result = CliRunner().invoke(main, ["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "tickets: 1 done" in result.output and "attachments: 1 done" in result.output
    assert count(database, Ticket, Ticket.anonymised_at.isnot(None)) == 1
    assert count(database, PrivacyRun, PrivacyRun.actor == "cli") == 2


def test_the_worker_runs_the_daily_purge(database, monkeypatch, tmp_path):
    give_data(database, GIULIA, OPENED, 2001)
    backdate_ticket_data(database, OPENED)
    monkeypatch.setenv("DIALOGA_DATABASE_URL", database.url)
    monkeypatch.setenv("DIALOGA_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("DIALOGA_RETENTION_TICKETS_DAYS", "1")
    result = CliRunner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    with database.session() as session:
        run = session.scalars(select(PrivacyRun)).one()
        assert (run.actor, run.dry_run, run.status, run.counts["tickets"]) == ("worker", False, "done", 1)
    result = CliRunner().invoke(main, ["worker", "--once"])  # the same day: no second run
    assert result.exit_code == 0 and count(database, PrivacyRun) == 1


def test_the_purge_keeps_feedback_counts_under_a_pseudonym(database):
    now = datetime(2027, 1, 1)
    with database.session() as session:
        session.add(AnswerFeedback(conversation_id="widget-abcdefgh", topic="part_time", helpful=True,
                                   created_at=now - timedelta(days=181), message_key="a" * 64))
    purge.run_purge(database, POLICY, SECRET, "cli", now=now)
    with database.session() as session:
        feedback = session.scalars(select(AnswerFeedback)).one()
    assert feedback.conversation_id == pseudonym(SECRET, "widget-abcdefgh") and feedback.helpful is True
    assert feedback.message_key is None  # a hash of the conversation id: it goes with it
