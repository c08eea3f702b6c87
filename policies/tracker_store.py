"""Rasa's SQL tracker store with its pooled connections checked before use (pool_pre_ping).

Rasa's own SQLTrackerStore hands out pooled connections unchecked, so a message that gets a
connection which died with a PostgreSQL restart fails; this one replaces a dead connection before
using it (tests/test_drills.py, drill 3)."""
from __future__ import annotations

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs


class ResilientSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
