"""Shared pytest fixtures for every test directory of the workspace.

Service-backed tests (PostgreSQL, Redis) use real servers named by
``FREEWAY_TEST_POSTGRES_URL`` / ``FREEWAY_TEST_REDIS_URL``.  Without them the tests
skip, unless ``FREEWAY_TEST_REQUIRE_SERVICES=1`` (set by CI), which makes a missing or
unreachable service a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from freeway.settings import Settings, load_settings

POSTGRES_URL = os.environ.get("FREEWAY_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("FREEWAY_TEST_REDIS_URL")
REQUIRE_SERVICES = os.environ.get("FREEWAY_TEST_REQUIRE_SERVICES") == "1"

TEST_ADMIN_KEY = "fwa_test_admin_key_0123456789abcdefghijklmnop"
TEST_JWT_SECRET = "test-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz"


def service_unavailable(what: str) -> None:
    """Skip, or fail when CI requires the services."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (FREEWAY_TEST_REQUIRE_SERVICES=1) but unavailable")
    pytest.skip(f"{what} not available")


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Build settings from env-style keyword arguments, isolated in a temp data dir."""

    def build(**env: Any) -> Settings:
        values = {
            "FREEWAY_DATA_DIR": str(tmp_path / "data"),
            "ADMIN_API_KEY": TEST_ADMIN_KEY,
            "JWT_SECRET": TEST_JWT_SECRET,
            "FREEWAY_HTTP_TRANSPORT": "httpx",
        }
        values.update({k: str(v) for k, v in env.items()})
        return load_settings(values, env_file=None, persist_dev_secrets=False)

    return build


async def _create_pg_database(admin_url: str) -> tuple[str, str]:
    import asyncpg

    name = f"fw_test_{uuid.uuid4().hex[:12]}"
    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = admin_url.rsplit("/", 1)[0]
    return name, f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://")


async def _drop_pg_database(admin_url: str, name: str) -> None:
    import asyncpg

    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test (dropped afterwards)."""
    if not POSTGRES_URL:
        service_unavailable("PostgreSQL (FREEWAY_TEST_POSTGRES_URL)")
    assert POSTGRES_URL
    try:
        name, url = asyncio.run(_create_pg_database(POSTGRES_URL))
    except (OSError, Exception) as exc:  # unreachable server, auth failure
        service_unavailable(f"PostgreSQL at {POSTGRES_URL} ({exc})")
        raise
    yield url
    asyncio.run(_drop_pg_database(POSTGRES_URL, name))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run the test on the embedded SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_url")  # type: ignore[no-any-return]


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The test Redis, flushed before and after the test."""
    if not REDIS_URL:
        service_unavailable("Redis (FREEWAY_TEST_REDIS_URL)")
    assert REDIS_URL
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        service_unavailable(f"Redis at {REDIS_URL} ({exc})")
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Default test settings: SQLite in a temp dir, fixed admin key and JWT secret."""
    return make_settings()


@pytest.fixture
async def app_client(settings: Settings) -> AsyncIterator[Any]:
    """An ``AsyncTestClient`` on a full app built from ``settings`` (lifespan run)."""
    from litestar.testing import AsyncTestClient

    from freeway.app import create_app

    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client
