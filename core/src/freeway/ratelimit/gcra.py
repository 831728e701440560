"""The generic cell rate algorithm (GCRA) and its in-memory backend.

A project with ``rate_limit_per_minute = L`` gets one request every
``T = 60 s / L`` (the emission interval) with a burst of ``L``: an idle project may
send ``L`` requests at once, after which a new request is allowed every ``T``.  This
is exactly a token bucket of capacity ``L`` refilled at ``L`` per minute, so over any
window of length ``w`` at most ``L + floor(w / T)`` requests are allowed (property
tested).  The state is one number per project: the theoretical arrival time (TAT).

Times are integer microseconds so the arithmetic is exact (``T`` is rounded up, which
errs on the strict side by less than a microsecond per interval).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import msgspec

US = 1_000_000
WINDOW_US = 60 * US


class RateLimitDecision(msgspec.Struct, frozen=True):
    """The answer for one request.

    ``remaining`` is how many more requests would be allowed right now;
    ``retry_after`` (seconds) is how long until the next one is allowed (0 when
    allowed); ``reset_after`` (seconds) is how long until the bucket is full again.
    """

    allowed: bool
    limit: int
    remaining: int
    retry_after: float
    reset_after: float


class RateLimiter(Protocol):
    """A rate limiter backend."""

    async def hit(self, key: str, limit_per_minute: int) -> RateLimitDecision:
        """Count one request for ``key`` if it is allowed, and say whether it was."""
        ...


def emission_interval_us(limit_per_minute: int) -> int:
    """Microseconds between two requests at the sustained rate (rounded up)."""
    return -(-WINDOW_US // limit_per_minute)


def gcra(tat_us: int, now_us: int, limit: int) -> tuple[RateLimitDecision, int]:
    """One GCRA step: the decision and the new stored TAT (unchanged when denied)."""
    interval = emission_interval_us(limit)
    tolerance = interval * limit  # burst of `limit` requests
    tat = max(tat_us, now_us)
    new_tat = tat + interval
    allow_at = new_tat - tolerance
    if now_us < allow_at:
        decision = RateLimitDecision(
            allowed=False,
            limit=limit,
            remaining=0,
            retry_after=(allow_at - now_us) / US,
            reset_after=(tat - now_us) / US,
        )
        return decision, tat_us
    decision = RateLimitDecision(
        allowed=True,
        limit=limit,
        remaining=(tolerance - (new_tat - now_us)) // interval,
        retry_after=0.0,
        reset_after=(new_tat - now_us) / US,
    )
    return decision, new_tat


def monotonic_us() -> int:
    return time.monotonic_ns() // 1000


class MemoryRateLimiter:
    """GCRA state in a dict: one process, no I/O.  ``clock`` returns microseconds."""

    # Forget idle keys once the dict grows past this, so memory stays bounded.
    SWEEP_AT = 10_000

    def __init__(self, clock: Callable[[], int] = monotonic_us) -> None:
        self._clock = clock
        self._tat: dict[str, int] = {}

    async def hit(self, key: str, limit_per_minute: int) -> RateLimitDecision:
        """Count one request for ``key`` if allowed (see :func:`gcra`)."""
        return self.hit_sync(key, limit_per_minute)

    def hit_sync(self, key: str, limit_per_minute: int) -> RateLimitDecision:
        """Synchronous :meth:`hit` (the memory backend never waits)."""
        now = self._clock()
        decision, tat = gcra(self._tat.get(key, now), now, limit_per_minute)
        if decision.allowed:
            self._tat[key] = tat
            if len(self._tat) > self.SWEEP_AT:
                self._sweep(now)
        return decision

    def _sweep(self, now: int) -> None:
        # A TAT in the past means a full bucket: the same as no entry.
        for key in [k for k, tat in self._tat.items() if tat <= now]:
            del self._tat[key]
