"""Apply Alembic migrations programmatically (used by the CLI and the tests)."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from desk.config import PROJECT_ROOT
from desk.db import ensure_sqlite_directory


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "desk" / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    ensure_sqlite_directory(database_url)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)
