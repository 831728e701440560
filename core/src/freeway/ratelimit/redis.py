"""The Redis backend: the same GCRA in one Lua script, atomic across replicas.

The script reads Redis' own clock (``TIME``) so replicas with skewed clocks still
share one limit.  The key expires when the bucket would be full again.  If Redis
cannot be reached the request is allowed (fail open) and a warning is logged at most
once a minute: an outage of the limiter must not take the gateway down with it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from freeway.ratelimit.gcra import US, RateLimitDecision, emission_interval_us

log = logging.getLogger(__name__)

KEY_PREFIX = "freeway:rl:"

# KEYS[1] = bucket key; ARGV[1] = emission interval (µs), ARGV[2] = limit,
# ARGV[3] = now (µs) or "" to use Redis' clock.
# Returns {allowed (0/1), remaining, retry_after_us, reset_after_us}.
GCRA_LUA = """
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local now
if ARGV[3] ~= "" then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local tolerance = interval * limit
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
local ttl_ms = math.ceil((new_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', ttl_ms)
return {1, math.floor((tolerance - (new_tat - now)) / interval), 0, new_tat - now}
"""


class RedisRateLimiter:
    """GCRA in Redis; every replica pointing at the same Redis shares each limit."""

    WARN_EVERY = 60.0

    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self._script = redis.register_script(GCRA_LUA)
        self._warned_at = 0.0

    async def hit(
        self, key: str, limit_per_minute: int, *, now_us: int | None = None
    ) -> RateLimitDecision:
        """Count one request for ``key`` if allowed.  ``now_us`` overrides Redis' clock
        (tests only)."""
        interval = emission_interval_us(limit_per_minute)
        try:
            allowed, remaining, retry_us, reset_us = await self._script(
                keys=[KEY_PREFIX + key],
                args=[interval, limit_per_minute, "" if now_us is None else now_us],
            )
        except Exception as exc:  # any Redis failure: fail open, say so now and then
            now = time.monotonic()
            if now - self._warned_at > self.WARN_EVERY:
                self._warned_at = now
                log.warning("rate limiter: Redis unavailable, allowing requests (%s)", exc)
            return RateLimitDecision(
                allowed=True,
                limit=limit_per_minute,
                remaining=limit_per_minute,
                retry_after=0.0,
                reset_after=0.0,
            )
        return RateLimitDecision(
            allowed=bool(allowed),
            limit=limit_per_minute,
            remaining=int(remaining),
            retry_after=int(retry_us) / US,
            reset_after=int(reset_us) / US,
        )
