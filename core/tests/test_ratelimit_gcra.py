"""GCRA: the per-minute limit holds over every window, and retry_after is exact."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from freeway.ratelimit import MemoryRateLimiter, emission_interval_us
from freeway.ratelimit.gcra import US


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000 * US

    def __call__(self) -> int:
        return self.now


limits = st.integers(min_value=1, max_value=120)
# Gaps between requests: often simultaneous, sometimes long pauses.
gaps = st.lists(
    st.one_of(st.just(0), st.integers(0, 2 * US), st.integers(0, 70 * US)),
    min_size=1,
    max_size=200,
)


def run(limit: int, steps: list[int]) -> list[tuple[int, bool, float]]:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock)
    seen = []
    for gap in steps:
        clock.now += gap
        decision = limiter.hit_sync("p", limit)
        seen.append((clock.now, decision.allowed, decision.retry_after))
    return seen


@settings(max_examples=300, deadline=None)
@given(limits, gaps)
def test_never_more_than_the_limit_plus_refill_in_any_window(limit, steps):
    """Over any window of length w at most L + floor(w / T) requests pass, and so at
    most L within any window shorter than one emission interval."""
    interval = emission_interval_us(limit)
    allowed = [t for t, ok, _ in run(limit, steps) if ok]
    for i in range(len(allowed)):
        for j in range(i, len(allowed)):
            width = allowed[j] - allowed[i]
            assert j - i + 1 <= limit + width // interval


def probe(limiter: MemoryRateLimiter, at_us: int, limit: int) -> bool:
    """Would a request at ``at_us`` be allowed?  (Asked of a copy: no side effect.)"""
    twin = copy.deepcopy(limiter)
    twin._clock = lambda: at_us
    return twin.hit_sync("p", limit).allowed


@settings(max_examples=300, deadline=None)
@given(limits, gaps)
def test_a_denied_request_is_allowed_exactly_after_retry_after(limit, steps):
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock)
    for gap in steps:
        clock.now += gap
        decision = limiter.hit_sync("p", limit)
        if decision.allowed:
            assert decision.retry_after == 0
            continue
        wait_us = round(decision.retry_after * US)
        assert wait_us > 0
        assert not probe(limiter, clock.now + wait_us - 1, limit)
        assert probe(limiter, clock.now + wait_us, limit)


def test_an_idle_project_may_burst_its_whole_limit_then_waits_one_interval():
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock)
    remaining = [limiter.hit_sync("p", 6) for _ in range(6)]
    assert [d.remaining for d in remaining] == [5, 4, 3, 2, 1, 0]
    assert all(d.allowed for d in remaining)
    denied = limiter.hit_sync("p", 6)
    assert not denied.allowed
    assert denied.retry_after == 10.0  # 60 s / 6
    assert denied.remaining == 0
    clock.now += 10 * US
    assert limiter.hit_sync("p", 6).allowed
    assert not limiter.hit_sync("p", 6).allowed


def test_projects_have_separate_buckets_and_a_full_minute_refills_everything():
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock)
    assert limiter.hit_sync("a", 1).allowed
    assert not limiter.hit_sync("a", 1).allowed
    assert limiter.hit_sync("b", 1).allowed
    clock.now += 60 * US
    decision = limiter.hit_sync("a", 1)
    assert decision.allowed and decision.remaining == 0


def test_idle_keys_are_forgotten_so_memory_stays_bounded():
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock)
    limiter.SWEEP_AT = 100
    for i in range(100):
        limiter.hit_sync(f"k{i}", 60)
    clock.now += 2 * US
    limiter.hit_sync("new", 60)
    assert len(limiter._tat) == 1
