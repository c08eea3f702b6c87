"""Rasa's SQL tracker store made to ride through a PostgreSQL restart.

- Pooled connections are checked before use (pool_pre_ping): Rasa's own store hands them out
  unchecked, so a message that gets a connection which died with the database fails.
- Reading and saving a conversation are retried while the database is unreachable, for at most
  DIALOGA_TRACKER_DB_RETRY_SECONDS (default 15). Rasa wraps every tracker store in a fail-safe one
  that, on an error, answers from an empty in-memory conversation: a user in the middle of the
  ticket form would be greeted as new. A restart takes a few seconds, so waiting is better; a
  longer outage still ends in Rasa's fallback, logged by Rasa.
(tests/test_drills.py, drill 3)"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Awaitable, Callable, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_PAUSE_SECONDS = 0.5


def retry_seconds() -> float:
    return float(os.environ.get("DIALOGA_TRACKER_DB_RETRY_SECONDS") or 15)


async def while_unreachable(work: Callable[[], Awaitable[T]], give_up_after: float, what: str) -> T:
    """Run work(), again after a pause while it fails with a lost or refused connection."""
    deadline = time.monotonic() + give_up_after
    attempt = 0
    while True:
        attempt += 1
        try:
            return await work()
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
            if time.monotonic() >= deadline:
                raise
            if attempt == 1:
                log.warning("tracker store unreachable while %s (%s): retrying for up to %.0f s",
                            what, type(error.orig).__name__ if error.orig else type(error).__name__, give_up_after)
            await asyncio.sleep(RETRY_PAUSE_SECONDS)


class ResilientSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id):
        return await while_unreachable(lambda: super(ResilientSQLTrackerStore, self).retrieve(sender_id),
                                       retry_seconds(), "reading a conversation")

    async def retrieve_full_tracker(self, conversation_id):
        return await while_unreachable(
            lambda: super(ResilientSQLTrackerStore, self).retrieve_full_tracker(conversation_id),
            retry_seconds(), "reading a conversation")

    async def save(self, tracker) -> None:
        await while_unreachable(lambda: super(ResilientSQLTrackerStore, self).save(tracker),
                                retry_seconds(), "saving a conversation")
