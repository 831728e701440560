"""A per-provider circuit breaker: closed → open → half-open → closed.

Closed: requests flow; ``threshold`` consecutive retryable failures (timeouts,
connection errors, 429, 5xx) open the circuit.  Open: the provider is skipped for
``cooldown`` seconds.  Half-open: one probe request is let through; success closes
the circuit, failure opens it for another cool-down.  A non-retryable error (a 400)
shows the provider is up, so it counts as a success.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    """The breaker of one provider."""

    __slots__ = ("_clock", "cooldown", "failures", "opened_at", "probing", "state", "threshold")

    def __init__(
        self,
        threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self.probing = False

    def allow(self) -> bool:
        """May a request go to this provider now?  (Starts the probe when half-open.)"""
        if self.state == CLOSED:
            return True
        if self.state == OPEN:
            if self._clock() - self.opened_at < self.cooldown:
                return False
            self.state = HALF_OPEN
            self.probing = False
        if self.probing:
            return False
        self.probing = True
        return True

    def success(self) -> None:
        """The provider answered."""
        self.state = CLOSED
        self.failures = 0
        self.probing = False

    def failure(self) -> None:
        """The provider failed in a retryable way."""
        self.probing = False
        if self.state == HALF_OPEN:
            self._open()
            return
        self.failures += 1
        if self.failures >= self.threshold:
            self._open()

    def release(self) -> None:
        """The request ended without telling anything (client went away): let another
        probe through."""
        self.probing = False

    def current(self) -> str:
        """The state as shown in ``/health/ready`` (an expired open circuit reads
        ``half_open``)."""
        if self.state == OPEN and self._clock() - self.opened_at >= self.cooldown:
            return HALF_OPEN
        return self.state

    def _open(self) -> None:
        self.state = OPEN
        self.opened_at = self._clock()
