"""The action server's handle on the desk database, built on first use from the
environment (the SDK instantiates actions itself, so there is no factory to pass it in)."""
from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Callable, TypeVar

from sqlalchemy.orm import Session

from desk.config import Settings
from desk.db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")


@lru_cache(maxsize=1)
def database() -> Database:
    return Database.from_settings(Settings.from_env())


async def in_session(work: Callable[[Session], T]) -> T:
    """Run work(session) in a worker thread so a slow or unreachable database
    never blocks the action server's event loop. Raises DatabaseUnavailable."""

    def run() -> T:
        with database().session() as session:
            return work(session)

    return await asyncio.to_thread(run)
