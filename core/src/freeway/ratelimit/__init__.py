"""Per-project request rate limits: GCRA with an in-memory or a Redis backend.

``build_rate_limiter(settings, redis)`` picks the backend: Redis (one atomic Lua
script, shared by every replica) when ``REDIS_URL`` is set, else in-process memory.
Both answer :meth:`RateLimiter.hit` with a :class:`RateLimitDecision`.
"""

from __future__ import annotations

from typing import Any

from freeway.ratelimit.gcra import (
    MemoryRateLimiter,
    RateLimitDecision,
    RateLimiter,
    emission_interval_us,
)
from freeway.ratelimit.redis import RedisRateLimiter
from freeway.settings import Settings

__all__ = [
    "MemoryRateLimiter",
    "RateLimitDecision",
    "RateLimiter",
    "RedisRateLimiter",
    "build_rate_limiter",
    "emission_interval_us",
]


def build_rate_limiter(settings: Settings, redis: Any = None) -> RateLimiter:
    """The limiter for this deployment: Redis when configured, else memory."""
    if redis is not None:
        return RedisRateLimiter(redis)
    return MemoryRateLimiter()
