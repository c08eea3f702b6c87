"""Rasa's Redis lock store, degraded to this process's memory while Redis cannot be reached.

With several assistant instances the lock keeps two messages of one conversation from being
handled at once. Without Redis, Rasa's own RedisLockStore fails every message; this one keeps
answering with per-process locks (a conversation's messages reach one instance at a time in
practice: one user types one message after the other) and logs the degradation."""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore

log = logging.getLogger(__name__)

# At most one "degraded" warning per this many seconds while Redis stays down.
WARN_EVERY_SECONDS = 30.0


class DegradableRedisLockStore(LockStore):
    def __init__(self, endpoint_config: Any = None, redis_store: Optional[LockStore] = None) -> None:
        self._redis = redis_store or _redis_store_of(endpoint_config)
        self._memory = InMemoryLockStore()
        self._degraded_since: Optional[float] = None
        self._last_warning = 0.0
        super().__init__()

    @property
    def degraded(self) -> bool:
        return self._degraded_since is not None

    def _either(self, use_redis: Callable[[LockStore], Any]) -> Any:
        import redis

        try:
            result = use_redis(self._redis)
        except redis.RedisError as error:
            now = time.monotonic()
            if self._degraded_since is None:
                self._degraded_since = now
            if now - self._last_warning >= WARN_EVERY_SECONDS:
                self._last_warning = now
                log.warning("lock store degraded: Redis unreachable (%s); conversation locks held in this "
                            "process only", type(error).__name__)
            return use_redis(self._memory)
        if self._degraded_since is not None:
            log.warning("lock store restored: Redis reachable again after %.0f s",
                        time.monotonic() - self._degraded_since)
            self._degraded_since = None
            self._last_warning = 0.0
        return result

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        return self._either(lambda store: store.get_lock(conversation_id))

    def delete_lock(self, conversation_id: Text) -> None:
        self._either(lambda store: store.delete_lock(conversation_id))

    def save_lock(self, lock: TicketLock) -> None:
        self._either(lambda store: store.save_lock(lock))


def _redis_store_of(endpoint_config: Any) -> RedisLockStore:
    options = dict(endpoint_config.kwargs)
    options.setdefault("socket_timeout", 1)
    for name in ("password", "username"):
        if not options.get(name):
            options.pop(name, None)
    return RedisLockStore(host=endpoint_config.url or "localhost", port=int(options.pop("port", 6379)),
                          db=int(options.pop("db", 0) or 0), **options)
