"""Real test databases: a fresh SQLite file, or a fresh database on the
machine's PostgreSQL (127.0.0.1:5432, trust auth), dropped afterwards."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, text

POSTGRES_ADMIN_URL = os.environ.get("DIALOGA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _admin_engine():
    return create_engine(POSTGRES_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")


@contextmanager
def throwaway_postgres_database(prefix: str = "dialoga_test") -> Iterator[str]:
    """Create a database for one test run and drop it afterwards; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))  # name is generated above, never user input
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def truncate_all(database) -> None:
    from desk.models import Base

    with database.engine.begin() as connection:
        if database.engine.dialect.name == "postgresql":
            tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())


def seeded_sqlite_database(directory, name: str = "dialoga.db"):
    """A migrated SQLite database in `directory` with the knowledge base seeded (a module's
    fixture when what it tests does not depend on the database); the caller disposes of it."""
    from desk import migrate
    from desk.config import PROJECT_ROOT
    from desk.db import Database
    from desk.services.seeding import seed_knowledge

    url = f"sqlite:///{directory / name}"
    migrate.upgrade(url)
    database = Database(url)
    with database.session() as session:
        seed_knowledge(session, PROJECT_ROOT / "data" / "knowledge")
    return database


def prepare_database(url: str) -> None:
    """Migrate a database to the latest schema and seed the knowledge base, as `make run` does."""
    from desk import migrate
    from desk.config import PROJECT_ROOT
    from desk.db import Database
    from desk.services.checks.parameters import SEED_FILE, seed_parameters
    from desk.services.directory import seed_directory
    from desk.services.seeding import seed_knowledge

    migrate.upgrade(url)
    database = Database(url)
    try:
        with database.session() as session:
            seed_knowledge(session, PROJECT_ROOT / "data" / "knowledge")
            seed_directory(session, PROJECT_ROOT / "data" / "directory" / "service_points.yml")
            seed_parameters(session, PROJECT_ROOT / "data" / "knowledge" / SEED_FILE)
    finally:
        database.dispose()
