"""`dialoga backup` and `dialoga restore` round trips on SQLite (online backup API, while another
connection writes) and PostgreSQL (pg_dump / pg_restore into a fresh database, with Rasa's
tracker store table in the same database, as in production)."""
from __future__ import annotations

import os
import subprocess
import threading

import pytest
from sqlalchemy import create_engine, func, select, text

from desk import migrate
from desk.db import Database
from desk.models import KnowledgeEntry, Ticket
from desk.ops import backup
from desk.services import tickets
from desk.services.business_hours import BusinessCalendar
from tests.support.databases import prepare_database, throwaway_postgres_database
from tests.support.stack import VENV_BIN
from tests.test_tickets import intake


def _content(url: str):
    database = Database(url)
    try:
        with database.session() as session:
            refs = sorted(session.scalars(select(Ticket.ref)))
            entries = session.scalar(select(func.count()).select_from(KnowledgeEntry))
        return refs, entries
    finally:
        database.dispose()


def _open_tickets(url: str, keys):
    database = Database(url)
    try:
        with database.session() as session:
            for key in keys:
                tickets.open_ticket(session, intake(key=key, conversation=key), BusinessCalendar())
    finally:
        database.dispose()


def _cli(command, url, *args):
    return subprocess.run([str(VENV_BIN / "dialoga"), command, *args], env={**os.environ, "DIALOGA_DATABASE_URL": url},
                          capture_output=True, text=True, timeout=300)


def test_sqlite_round_trip_while_the_desk_writes(tmp_path):
    url = f"sqlite:///{tmp_path / 'dialoga.db'}"
    prepare_database(url)
    _open_tickets(url, ["a", "b"])
    # Another connection keeps writing during the backup: the copy is consistent all the same.
    writer = threading.Thread(target=_open_tickets, args=(url, [f"w{n}" for n in range(20)]))
    writer.start()
    result = _cli("backup", url, str(tmp_path / "backup.db"))
    writer.join()
    assert result.returncode == 0, result.stderr
    saved_refs, saved_entries = _content(f"sqlite:///{tmp_path / 'backup.db'}")
    assert saved_entries == 42 and len(saved_refs) >= 2

    _open_tickets(url, ["after-backup"])
    result = _cli("restore", url, str(tmp_path / "backup.db"), "--yes")
    assert result.returncode == 0, result.stderr
    assert _content(url) == (saved_refs, saved_entries)


def test_postgresql_round_trip_with_the_tracker_store(tmp_path):
    with throwaway_postgres_database("dialoga_backup") as url, throwaway_postgres_database("dialoga_restore") as other:
        prepare_database(url)
        _open_tickets(url, ["a", "b", "c"])
        engine = create_engine(url, future=True)
        with engine.begin() as connection:  # Rasa's SQL tracker store shares the database in production
            connection.execute(text("CREATE TABLE events (id serial PRIMARY KEY, sender_id varchar(255), data text)"))
            connection.execute(text("INSERT INTO events (sender_id, data) VALUES ('widget-x', '{}')"))
        engine.dispose()
        before = _content(url)

        result = _cli("backup", url, str(tmp_path / "dialoga.dump"))
        assert result.returncode == 0, result.stderr
        _open_tickets(url, ["after-backup"])
        assert _content(url) != before

        # Into the same database (back in time) and into an empty one (a new machine).
        for target in (url, other):
            result = _cli("restore", target, str(tmp_path / "dialoga.dump"), "--yes")
            assert result.returncode == 0, result.stderr
            assert _content(target) == before
            engine = create_engine(target, future=True)
            with engine.connect() as connection:
                assert connection.execute(text("SELECT sender_id FROM events")).scalars().all() == ["widget-x"]
            engine.dispose()
        migrate.upgrade(other)  # the restored schema is at the head revision already


def test_commands_and_refusals():
    assert backup.dump_command("postgresql+psycopg2://u@h:5432/d", "x")[-1] == "postgresql://u@h:5432/d"
    with pytest.raises(backup.BackupError):
        backup.backup("sqlite://", "x.db")
    with pytest.raises(backup.BackupError):
        backup.restore("sqlite:////tmp/none.db", "/nonexistent/backup.db")
