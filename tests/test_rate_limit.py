"""Fixed-window rate limits, in memory and in the machine's Redis (127.0.0.1:6379)."""
from __future__ import annotations

import uuid

import pytest
import redis

from desk.services.rate_limit import Limit, MemoryRateLimiter, RedisRateLimiter, limiter_for

REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_memory_limits_each_key_within_its_window():
    clock = Clock()
    limiter = MemoryRateLimiter(clock)
    limit = Limit(3, 60)
    assert [limiter.hit("messages", "a", limit).allowed for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("messages", "b", limit).allowed  # another key
    assert limiter.hit("sessions", "a", limit).allowed  # another limit
    refused = limiter.hit("messages", "a", limit)
    assert not refused.allowed and 0 < refused.retry_after <= 60 and refused.retry_after_seconds >= 1
    clock.now += refused.retry_after + 0.01
    decision = limiter.hit("messages", "a", limit)
    assert decision.allowed and decision.remaining == 2


def test_memory_forgets_finished_windows_when_it_grows(monkeypatch):
    clock = Clock()
    limiter = MemoryRateLimiter(clock)
    monkeypatch.setattr(MemoryRateLimiter, "PRUNE_ABOVE", 10)
    for number in range(20):
        limiter.hit("messages", f"key-{number}", Limit(1, 60))
    clock.now += 61
    limiter.hit("messages", "late", Limit(1, 60))
    assert len(limiter._counters) == 1


def test_a_limit_needs_positive_values():
    with pytest.raises(ValueError):
        Limit(0, 60)
    with pytest.raises(ValueError):
        Limit(1, 0)


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is expected on 127.0.0.1:6379 (see the README's services)")
    prefix = f"dialoga-test:{uuid.uuid4().hex}"
    yield client, prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


def test_redis_counters_are_shared_between_limiters_and_expire(redis_client):
    client, prefix = redis_client
    clock = Clock()
    first, second = RedisRateLimiter(client, prefix, clock=clock), RedisRateLimiter(client, prefix, clock=clock)
    limit = Limit(2, 60)
    assert first.hit("messages", "s1", limit).allowed
    assert second.hit("messages", "s1", limit).allowed
    refused = first.hit("messages", "s1", limit)
    assert not refused.allowed and refused.retry_after > 0
    [key] = list(client.scan_iter(f"{prefix}:*"))
    assert 0 < client.ttl(key) <= 62
    clock.now += 60
    assert second.hit("messages", "s1", limit).allowed


def test_without_redis_the_limits_still_hold_in_memory():
    limiter = limiter_for("redis://127.0.0.1:1/0")  # nothing listens there
    assert isinstance(limiter, RedisRateLimiter)
    limit = Limit(2, 60)
    assert [limiter.hit("messages", "s", limit).allowed for _ in range(3)] == [True, True, False]
    assert isinstance(limiter_for(None), MemoryRateLimiter)
