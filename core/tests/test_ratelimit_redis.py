"""The Redis backend: one limit shared by every limiter pointing at the same Redis."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from freeway.ratelimit import MemoryRateLimiter, RedisRateLimiter, build_rate_limiter
from freeway.ratelimit.gcra import US

pytestmark = pytest.mark.redis


async def test_two_limiters_on_one_redis_share_one_limit(redis_url):
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        a, b = RedisRateLimiter(first), RedisRateLimiter(second)
        decisions = []
        for i in range(10):
            limiter = a if i % 2 == 0 else b
            decisions.append(await limiter.hit("project-1", 5))
        assert [d.allowed for d in decisions] == [True] * 5 + [False] * 5
        assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
        assert 11.0 < decisions[5].retry_after <= 12.0  # 60 s / 5, minus elapsed time
        # Another project is not affected.
        assert (await b.hit("project-2", 5)).allowed
    finally:
        await first.aclose()
        await second.aclose()


async def test_concurrent_hits_from_two_limiters_never_exceed_the_limit(redis_url):
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        a, b = RedisRateLimiter(first), RedisRateLimiter(second)
        results = await asyncio.gather(*[(a if i % 2 else b).hit("burst", 20) for i in range(100)])
        assert sum(d.allowed for d in results) == 20
    finally:
        await first.aclose()
        await second.aclose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    limit=st.integers(1, 50),
    gaps=st.lists(st.integers(0, 5 * US), min_size=1, max_size=40),
)
def test_redis_script_decides_exactly_like_the_memory_backend(redis_url, limit, gaps):
    async def check() -> None:
        client = Redis.from_url(redis_url)
        try:
            await client.delete("freeway:rl:same")
            redis_limiter = RedisRateLimiter(client)
            now = [1_700_000_000 * US]
            memory = MemoryRateLimiter(lambda: now[0])
            for gap in gaps:
                now[0] += gap
                expected = memory.hit_sync("same", limit)
                got = await redis_limiter.hit("same", limit, now_us=now[0])
                assert got == expected
        finally:
            await client.aclose()

    asyncio.run(check())


async def test_redis_down_fails_open_instead_of_refusing_traffic():
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        decision = await RedisRateLimiter(client).hit("p", 1)
        assert decision.allowed
    finally:
        await client.aclose()


def test_backend_is_redis_only_when_a_client_is_given(settings):
    assert isinstance(build_rate_limiter(settings, None), MemoryRateLimiter)
    assert isinstance(build_rate_limiter(settings, Redis()), RedisRateLimiter)
