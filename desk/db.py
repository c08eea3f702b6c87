"""Engine and session handling. A Database is built explicitly from Settings;
nothing here runs at import time."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker


def lock_for_writing(session: Session) -> None:
    """On SQLite, begin the session's transaction with the database's write lock (BEGIN
    IMMEDIATE), so that a read-then-write unit of work cannot interleave with another
    process's. pysqlite would otherwise start the transaction only at the first write (and
    a SAVEPOINT would become the outermost transaction). Other databases lock rows instead."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached or failed; callers degrade gracefully."""


def ensure_sqlite_directory(url: str) -> None:
    """SQLite creates the file but not its folder (var/ on a fresh clone)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _engine_for(url: str, connect_timeout: int) -> Engine:
    """hide_parameters: a failing statement's error (logged, raised as DatabaseUnavailable) shows
    the SQL but not the values bound to it, which are often personal data."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        ensure_sqlite_directory(url)
        engine = create_engine(
            url, future=True, hide_parameters=True, connect_args={"timeout": 15, "check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = connect_timeout
    return create_engine(
        url, future=True, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=20,
        connect_args=connect_args,
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    def __init__(self, url: str, connect_timeout: int = 3) -> None:
        self.url = url
        self.engine = _engine_for(url, connect_timeout)
        self._sessions = sessionmaker(self.engine, future=True, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings) -> "Database":
        return cls(settings.database_url, settings.database_connect_timeout)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on error.

        Any SQLAlchemy failure surfaces as DatabaseUnavailable so that callers
        (actions, gateways, views) handle one error type."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            raise DatabaseUnavailable(str(exc)) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def dispose(self) -> None:
        self.engine.dispose()
