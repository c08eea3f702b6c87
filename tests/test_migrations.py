"""Migrations upgrade from empty and downgrade back, on SQLite and PostgreSQL."""
import pytest
from sqlalchemy import create_engine, inspect

from desk import migrate
from desk.models import Base
from tests.support.databases import throwaway_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with throwaway_postgres_database("dialoga_migration") as url:
            yield url


def _tables(url):
    engine = create_engine(url, future=True)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_and_downgrade_removes_them(empty_database_url):
    migrate.upgrade(empty_database_url)
    assert set(Base.metadata.tables) <= _tables(empty_database_url)
    migrate.downgrade(empty_database_url, "base")
    assert _tables(empty_database_url) <= {"alembic_version"}
    migrate.upgrade(empty_database_url)
    assert set(Base.metadata.tables) <= _tables(empty_database_url)
