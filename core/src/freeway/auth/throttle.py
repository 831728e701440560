"""Login throttling: too many failed logins for a username or from an address → 429.

A fixed window per key: the first failure starts a window of
``FREEWAY_LOGIN_LOCKOUT`` seconds; once ``FREEWAY_LOGIN_MAX_FAILURES`` failures for a
username (or ``FREEWAY_LOGIN_MAX_FAILURES_PER_ADDRESS`` from one client address) fall in
it, further attempts get 429 with ``retry-after`` until the window ends — even with the
right password, so guessing gains nothing.  A successful login clears the username's
count.  Counters live in memory, or in Redis when ``REDIS_URL`` is set (so all
replicas share them).
"""

from __future__ import annotations

import math
import time
from typing import Any

from freeway.errors import RateLimitExceeded

USER_KEY = "freeway:login:user:"
ADDRESS_KEY = "freeway:login:addr:"
# Above this many tracked keys the in-memory store drops expired windows.
_SWEEP_AT = 10_000


class _MemoryCounters:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, float]] = {}

    async def count(self, key: str) -> tuple[int, float]:
        """(failures, seconds until the window ends) — (0, 0) if none."""
        entry = self._windows.get(key)
        if entry is None:
            return 0, 0.0
        remaining = entry[1] - time.monotonic()
        if remaining <= 0:
            del self._windows[key]
            return 0, 0.0
        return entry[0], remaining

    async def incr(self, key: str, window: float) -> None:
        now = time.monotonic()
        count, ends = self._windows.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + window
        self._windows[key] = (count + 1, ends)
        if len(self._windows) > _SWEEP_AT:
            self._windows = {k: v for k, v in self._windows.items() if v[1] > now}

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)


class _RedisCounters:
    def __init__(self, redis: Any) -> None:
        self._redis = redis

    async def count(self, key: str) -> tuple[int, float]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.pttl(key)
            value, pttl = await pipe.execute()
        if value is None or pttl is None or pttl <= 0:
            return 0, 0.0
        return int(value), pttl / 1000

    async def incr(self, key: str, window: float) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            # SET NX starts the window (works on Redis < 7); INCR keeps the TTL.
            pipe.set(key, 0, ex=math.ceil(window), nx=True)
            pipe.incr(key)
            await pipe.execute()

    async def clear(self, key: str) -> None:
        await self._redis.delete(key)


class LoginThrottle:
    """Counts failed logins per username and per client address."""

    def __init__(
        self,
        *,
        max_failures: int = 5,
        max_failures_per_address: int = 20,
        window_seconds: float = 900.0,
        redis: Any = None,
    ) -> None:
        self.max_failures = max_failures
        self.max_failures_per_address = max_failures_per_address
        self.window = window_seconds
        self._store: _MemoryCounters | _RedisCounters = (
            _RedisCounters(redis) if redis is not None else _MemoryCounters()
        )

    @staticmethod
    def _user_key(username: str) -> str:
        return USER_KEY + username.lower()

    async def check(self, username: str, address: str | None) -> None:
        """Raise :class:`RateLimitExceeded` (429, ``retry-after``) if either is locked."""
        count, remaining = await self._store.count(self._user_key(username))
        if count >= self.max_failures:
            raise RateLimitExceeded(
                f"too many failed logins for this username; try again in "
                f"{math.ceil(remaining)} seconds",
                retry_after=math.ceil(remaining),
                code="login_throttled",
            )
        if address:
            count, remaining = await self._store.count(ADDRESS_KEY + address)
            if count >= self.max_failures_per_address:
                raise RateLimitExceeded(
                    f"too many failed logins from this address; try again in "
                    f"{math.ceil(remaining)} seconds",
                    retry_after=math.ceil(remaining),
                    code="login_throttled",
                )

    async def failed(self, username: str, address: str | None) -> None:
        """Count one failed attempt for the username and the address."""
        await self._store.incr(self._user_key(username), self.window)
        if address:
            await self._store.incr(ADDRESS_KEY + address, self.window)

    async def succeeded(self, username: str) -> None:
        """A correct password clears the username's failures (not the address's)."""
        await self._store.clear(self._user_key(username))
