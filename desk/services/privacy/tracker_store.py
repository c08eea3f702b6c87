"""The assistant's own memory of conversations, outside the desk's tables.

- Rasa's SQL tracker store (production: `tracker_store: type: SQL` in endpoints.yml, table
  `events`, one row per event with the conversation's `sender_id`): with
  DIALOGA_TRACKER_STORE_URL set, erasure deletes a person's rows and the purge deletes rows
  older than the conversations' retention.
- The running assistant (any tracker store, also the in-memory one of `make run`): with
  DIALOGA_RASA_API_TOKEN set (Rasa started with `--enable-api --auth-token`), erasure replaces
  the conversation's events with none through Rasa's HTTP API
  (PUT /conversations/<id>/tracker/events), so the assistant forgets it at once."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, Iterable, List, Optional
from urllib.parse import quote

import httpx
from sqlalchemy import MetaData, Table, create_engine, delete, func, inspect, select
from sqlalchemy.engine import Engine

from desk.services.privacy.retention import epoch_seconds

log = logging.getLogger(__name__)
EVENTS_TABLE = "events"


class SqlTrackerStore:
    """Rasa's SQLTrackerStore tables, read and deleted from by the desk."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url, future=True)
        self._events: Optional[Table] = None

    def _table(self) -> Optional[Table]:
        if self._events is None:
            if not inspect(self.engine).has_table(EVENTS_TABLE):
                return None  # Rasa has not stored anything yet
            self._events = Table(EVENTS_TABLE, MetaData(), autoload_with=self.engine)
        return self._events

    def events_of(self, sender_ids: Iterable[str]) -> List[Dict]:
        table, senders = self._table(), sorted(set(sender_ids))
        if table is None or not senders:
            return []
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(table.c.sender_id, table.c.type_name, table.c.timestamp, table.c.data)
                .where(table.c.sender_id.in_(senders)).order_by(table.c.id)
            ).all()
        return [{"sender_id": row.sender_id, "type": row.type_name, "timestamp": row.timestamp, "data": row.data}
                for row in rows]

    def delete_conversations(self, sender_ids: Iterable[str]) -> int:
        table, senders = self._table(), sorted(set(sender_ids))
        if table is None or not senders:
            return 0
        with self.engine.begin() as connection:
            return connection.execute(delete(table).where(table.c.sender_id.in_(senders))).rowcount

    def count_before(self, cutoff: datetime) -> int:
        table = self._table()
        if table is None:
            return 0
        with self.engine.connect() as connection:
            return connection.scalar(
                select(func.count()).select_from(table).where(table.c.timestamp < epoch_seconds(cutoff))
            ) or 0

    def delete_before(self, cutoff: datetime) -> int:
        table = self._table()
        if table is None:
            return 0
        with self.engine.begin() as connection:
            return connection.execute(delete(table).where(table.c.timestamp < epoch_seconds(cutoff))).rowcount

    def user_messages_by_intent(self) -> Dict[str, int]:
        """How many user messages each intent had (the metrics' messages and answers by topic)."""
        table = self._table()
        if table is None:
            return {}
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(table.c.intent_name, func.count()).where(table.c.type_name == "user")
                .group_by(table.c.intent_name)
            ).all()
        return {intent or "": count for intent, count in rows}

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass(frozen=True)
class AssistantReset:
    sender_id: str
    ok: bool
    detail: str


def reset_in_assistant(rasa_url: str, token: str, sender_ids: Iterable[str],
                       client: Optional[httpx.Client] = None, timeout: float = 10.0) -> List[AssistantReset]:
    """Replace each conversation's events with none in the running assistant."""
    own_client = client is None
    client = client or httpx.Client(timeout=timeout)
    results = []
    try:
        for sender_id in sorted(set(sender_ids)):
            url = f"{rasa_url.rstrip('/')}/conversations/{quote(sender_id, safe='')}/tracker/events"
            try:
                response = client.put(url, params={"token": token}, json=[])
                ok = response.status_code == 200
                results.append(AssistantReset(sender_id, ok, f"HTTP {response.status_code}"))
            except httpx.HTTPError as error:
                results.append(AssistantReset(sender_id, False, type(error).__name__))
            if not results[-1].ok:
                log.warning("the assistant did not reset a conversation: %s", results[-1].detail)
    finally:
        if own_client:
            client.close()
    return results
