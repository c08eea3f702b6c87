"""Fixtures: real databases (SQLite and PostgreSQL), the seeded knowledge base."""
from __future__ import annotations

import pytest

from desk import migrate
from desk.config import PROJECT_ROOT
from desk.db import Database
from desk.services.seeding import seed_knowledge
from tests.support.databases import throwaway_postgres_database, truncate_all

KNOWLEDGE_DIR = PROJECT_ROOT / "data" / "knowledge"


@pytest.fixture(scope="session")
def postgres_url():
    with throwaway_postgres_database() as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """A migrated, empty database; every test that uses it runs on both backends."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'dialoga.db'}"
        migrate.upgrade(url)
        db = Database(url)
    else:
        db = Database(request.getfixturevalue("postgres_url"))
        truncate_all(db)
    yield db
    db.dispose()


@pytest.fixture
def seeded_database(database):
    with database.session() as session:
        seed_knowledge(session, KNOWLEDGE_DIR)
    return database
