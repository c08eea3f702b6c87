"""Fixed-window rate limits: at most `hits` requests per `seconds` for one key (a widget
session, a client address).

Counters live in the process's memory by default; with DIALOGA_REDIS_URL they live in
Redis, so several desk processes share them. When Redis cannot be reached the limiter
falls back to memory: a limit that is briefly per-process is better than a chat that
stops answering."""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Protocol, Tuple

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    hits: int
    seconds: float

    def __post_init__(self) -> None:
        if self.hits < 1 or self.seconds <= 0:
            raise ValueError(f"a rate limit needs at least one hit in a positive time: {self}")

    def window_of(self, now: float) -> int:
        return int(now // self.seconds)

    def seconds_left(self, now: float) -> float:
        return (self.window_of(now) + 1) * self.seconds - now


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: float  # seconds until the window resets; 0 when allowed

    @property
    def retry_after_seconds(self) -> int:
        """For the Retry-After header: whole seconds, at least one."""
        return max(1, math.ceil(self.retry_after))


def _decide(count: int, limit: Limit, now: float) -> Decision:
    if count <= limit.hits:
        return Decision(True, limit.hits - count, 0.0)
    return Decision(False, 0, limit.seconds_left(now))


class RateLimiter(Protocol):
    def hit(self, name: str, key: str, limit: Limit) -> Decision:
        """Count one request of `key` against the limit called `name`."""


class MemoryRateLimiter:
    """Counters in this process; thread-safe (gunicorn threads share it)."""

    # Past this many counters, finished windows are dropped on the next hit.
    PRUNE_ABOVE = 10_000

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counters: Dict[Tuple[str, str], Tuple[int, int, float]] = {}  # -> (window, count, ends_at)

    def hit(self, name: str, key: str, limit: Limit) -> Decision:
        now = self._clock()
        window = limit.window_of(now)
        with self._lock:
            if len(self._counters) > self.PRUNE_ABOVE:
                self._counters = {k: v for k, v in self._counters.items() if v[2] > now}
            current_window, count, _ = self._counters.get((name, key), (window, 0, 0.0))
            count = count + 1 if current_window == window else 1
            self._counters[(name, key)] = (window, count, now + limit.seconds_left(now))
        return _decide(count, limit, now)


class RedisRateLimiter:
    """Counters in Redis: INCR on a key per window, which expires with the window."""

    def __init__(self, client, prefix: str = "dialoga:rate", fallback: Optional[RateLimiter] = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._prefix = prefix
        self._fallback = fallback or MemoryRateLimiter(clock)
        self._clock = clock

    @classmethod
    def from_url(cls, url: str, **kwargs) -> "RedisRateLimiter":
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return cls(client, **kwargs)

    def hit(self, name: str, key: str, limit: Limit) -> Decision:
        import redis

        now = self._clock()
        counter = f"{self._prefix}:{name}:{key}:{limit.window_of(now)}"
        try:
            pipeline = self._client.pipeline()
            pipeline.incr(counter)
            pipeline.expire(counter, math.ceil(limit.seconds_left(now)) + 1)
            count, _ = pipeline.execute()
        except redis.RedisError as error:
            log.warning("rate limit counters unavailable in Redis (%s): counting in memory", error)
            return self._fallback.hit(name, key, limit)
        return _decide(int(count), limit, now)


def limiter_for(redis_url: Optional[str], prefix: str = "dialoga:rate") -> RateLimiter:
    return RedisRateLimiter.from_url(redis_url, prefix=prefix) if redis_url else MemoryRateLimiter()
