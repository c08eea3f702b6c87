"""Backups of the desk's database (`dialoga backup` / `dialoga restore`).

PostgreSQL: pg_dump's custom format (consistent: one snapshot, while the desk keeps working) and
pg_restore --clean into the same or a new database; with Rasa's tracker store in the same database
(production) its conversations are in the dump too. SQLite: the online backup API, page by page
while other connections keep writing, both ways."""
from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import List

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    pass


def _libpq_url(url: str) -> str:
    """postgresql+psycopg2://… (SQLAlchemy) -> postgresql://… (libpq, for pg_dump and pg_restore)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def dump_command(url: str, target: Path) -> List[str]:
    return ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), "--dbname", _libpq_url(url)]


def restore_command(url: str, source: Path) -> List[str]:
    return ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
            "--dbname", _libpq_url(url), str(source)]


def _run(command: List[str]) -> None:
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def _sqlite_copy(source: Path, target: Path) -> None:
    with sqlite3.connect(str(source)) as origin, sqlite3.connect(str(target)) as destination:
        origin.backup(destination, pages=256)
    origin.close()
    destination.close()


def backup(url: str, target: Path) -> Path:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        _run(dump_command(url, target))
    elif backend == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"{source} does not exist")
        if target.exists():
            target.unlink()
        _sqlite_copy(source, target)
    else:
        raise BackupError(f"no backup for {backend} databases")
    return target


def restore(url: str, source: Path) -> None:
    """Replace the database's content with the backup's. Stop the desk, the worker and the
    assistants first: what they write meanwhile would be lost."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        _run(restore_command(url, source))
    elif backend == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, target)
    else:
        raise BackupError(f"no restore for {backend} databases")
