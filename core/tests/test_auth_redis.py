"""Two replicas sharing one database and one Redis: changes are seen by both at once."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Request, get
from litestar.testing import AsyncTestClient

from freeway.app import create_app
from freeway.auth.guards import principal_of, require_project
from freeway.hookspecs import hookimpl

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    from argon2 import PasswordHasher, Type

    from freeway.auth import passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    monkeypatch.setattr(passwords, "_hasher", cheap)


@get("/test/project-only", guards=[require_project], sync_to_thread=False)
def project_only(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {"project": principal_of(request).name}


class ProjectRoutePlugin:
    @hookimpl
    def freeway_routes(self) -> list[Any]:
        return [project_only]


@pytest.fixture
async def replicas(make_settings, database_url, redis_url):
    # A long periodic refresh: anything the test sees comes from the invalidation.
    settings = make_settings(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        FREEWAY_PLUGINS="core",
        FREEWAY_PROJECT_CACHE_REFRESH=3600,
        FREEWAY_LOGIN_MAX_FAILURES=2,
    )
    plugin = [("test-routes", ProjectRoutePlugin())]
    async with (
        AsyncTestClient(app=create_app(settings, extra_plugins=plugin)) as one,
        AsyncTestClient(app=create_app(settings, extra_plugins=plugin)) as two,
    ):
        for client in (one, two):
            client.admin_key = settings.admin_api_key  # type: ignore[attr-defined]
        yield one, two


def key_header(key: str) -> dict[str, str]:
    return {"X-Api-Key": key}


async def test_rotation_on_one_replica_refuses_the_old_key_on_the_other_at_once(replicas):
    one, two = replicas
    admin = {"X-Api-Key": one.admin_key}
    created = (await one.post("/admin/projects", json={"name": "shared"}, headers=admin)).json()
    # Created on one, usable on two straight away.
    assert (
        await two.get("/test/project-only", headers=key_header(created["api_key"]))
    ).status_code == 200

    rotated = (await one.post(f"/admin/projects/{created['id']}/rotate-key", headers=admin)).json()
    old = await two.get("/test/project-only", headers=key_header(created["api_key"]))
    assert old.status_code == 401
    new = await two.get("/test/project-only", headers=key_header(rotated["api_key"]))
    assert new.status_code == 200 and new.json() == {"project": "shared"}

    await one.patch(f"/admin/projects/{created['id']}", json={"is_active": False}, headers=admin)
    assert (
        await two.get("/test/project-only", headers=key_header(rotated["api_key"]))
    ).status_code == 403
    await one.delete(f"/admin/projects/{created['id']}", headers=admin)
    assert (
        await two.get("/test/project-only", headers=key_header(rotated["api_key"]))
    ).status_code == 401


async def test_logout_on_one_replica_is_refused_on_the_other(replicas):
    one, two = replicas
    await one.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    token = (
        await one.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    ).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await two.get("/auth/me", headers=bearer)).status_code == 200
    assert (await one.post("/auth/logout", headers=bearer)).status_code == 204
    refused = await two.get("/auth/me", headers=bearer)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"


async def test_login_throttle_is_shared_between_replicas(replicas):
    one, two = replicas
    await one.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    wrong = {"username": "alice", "password": "not the password"}
    assert (await one.post("/auth/login", json=wrong)).status_code == 401
    assert (await two.post("/auth/login", json=wrong)).status_code == 401
    throttled = await one.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert (
        await two.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    ).status_code == 429


async def test_revocations_survive_a_redis_flush(make_settings, database_url, redis_url):
    """Redis is a mirror: after it loses data, a restart copies revocations back."""
    import redis.asyncio as aioredis

    settings = make_settings(DATABASE_URL=database_url, REDIS_URL=redis_url, FREEWAY_PLUGINS="core")
    async with AsyncTestClient(app=create_app(settings)) as client:
        await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
        token = (
            await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
        ).json()["token"]
        assert (
            await client.post("/auth/logout", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 204
    flusher = aioredis.Redis.from_url(redis_url)
    await flusher.flushdb()
    await flusher.aclose()
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
