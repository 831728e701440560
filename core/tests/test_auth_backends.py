"""The ``freeway_auth_backends`` hook: built-ins and a third-party backend, in order."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Request, get
from litestar.testing import AsyncTestClient

from freeway.app import create_app
from freeway.auth.backends import load_backends
from freeway.auth.guards import authenticate, require_reader
from freeway.auth.principal import Principal
from freeway.errors import AuthError, ConfigError
from freeway.hookspecs import hookimpl
from freeway.plugins import get_plugin_manager
from freeway.state import gateway_of


class StaticHeaderBackend:
    """A third-party style backend: ``X-Static-Token: letmein`` is a read-only user."""

    name = "static-header"

    async def authenticate(self, connection: Any) -> Principal | None:
        token = connection.headers.get("x-static-token")
        if token is None:
            return None
        if token != "letmein":
            raise AuthError("bad static token")
        return Principal(kind="user", id="static", name="static user", role="viewer")


class GreedyBackend:
    """Claims every request: shows which backend runs first."""

    name = "greedy"

    async def authenticate(self, connection: Any) -> Principal | None:
        return Principal(kind="user", id="greedy", name="greedy", role="viewer")


@get("/test/whoami", sync_to_thread=False)
async def whoami(request: Request[Any, Any, Any]) -> dict[str, Any]:
    principal = await authenticate(request)
    return {"who": principal.name if principal else None}


@get("/test/reader", guards=[require_reader], sync_to_thread=False)
def reader_only() -> dict[str, str]:
    return {"ok": "yes"}


class BackendPlugin:
    def __init__(self, *backends: Any) -> None:
        self.backends = list(backends)

    @hookimpl
    def freeway_auth_backends(self, settings: Any) -> list[Any]:
        return self.backends

    @hookimpl
    def freeway_routes(self) -> list[Any]:
        return [whoami, reader_only]


async def test_extra_backend_registered_through_the_hook_authenticates_requests(make_settings):
    settings = make_settings(FREEWAY_PLUGINS="core")
    app = create_app(
        settings, extra_plugins=[("static-header", BackendPlugin(StaticHeaderBackend()))]
    )
    async with AsyncTestClient(app=app) as client:
        names = [b.name for b in gateway_of(app).auth.backends]
        assert names == ["admin_key", "project_key", "jwt", "static-header"]

        ok = await client.get("/test/reader", headers={"X-Static-Token": "letmein"})
        assert ok.status_code == 200 and ok.json() == {"ok": "yes"}
        # The principal it returns is a viewer: it may read admin resources, not write them.
        assert (
            await client.get("/admin/projects", headers={"X-Static-Token": "letmein"})
        ).status_code == 200
        write = await client.post(
            "/admin/projects", json={"name": "x"}, headers={"X-Static-Token": "letmein"}
        )
        assert write.status_code == 403
        bad = await client.get("/test/reader", headers={"X-Static-Token": "guess"})
        assert bad.status_code == 401 and bad.json()["error"]["message"] == "bad static token"
        assert (await client.get("/test/reader")).status_code == 401


async def test_backend_order_follows_freeway_auth_backends(make_settings):
    plugin = ("greedy", BackendPlugin(GreedyBackend()))
    default = make_settings(FREEWAY_PLUGINS="core")
    async with AsyncTestClient(app=create_app(default, extra_plugins=[plugin])) as client:
        as_admin = await client.get("/test/whoami", headers={"X-Api-Key": default.admin_api_key})
        assert as_admin.json() == {"who": "admin key"}
        assert (await client.get("/test/whoami")).json() == {"who": "greedy"}

    greedy_first = make_settings(FREEWAY_PLUGINS="core", FREEWAY_AUTH_BACKENDS="greedy,admin_key")
    app = create_app(greedy_first, extra_plugins=[plugin])
    async with AsyncTestClient(app=app) as client:
        names = [b.name for b in gateway_of(app).auth.backends]
        assert names == ["greedy", "admin_key", "project_key", "jwt"]
        as_admin = await client.get(
            "/test/whoami", headers={"X-Api-Key": greedy_first.admin_api_key}
        )
        assert as_admin.json() == {"who": "greedy"}


def test_unknown_backend_name_in_settings_is_a_config_error(make_settings):
    settings = make_settings(FREEWAY_PLUGINS="core", FREEWAY_AUTH_BACKENDS="admin_key,ldap")
    with pytest.raises(ConfigError, match="FREEWAY_AUTH_BACKENDS: unknown backend 'ldap'"):
        load_backends(get_plugin_manager(settings), settings)


def test_two_backends_with_one_name_are_a_config_error(make_settings):
    class Impostor(GreedyBackend):
        name = "jwt"

    settings = make_settings(FREEWAY_PLUGINS="core")
    pm = get_plugin_manager(settings, extra_plugins=[("x", BackendPlugin(Impostor()))])
    with pytest.raises(ConfigError, match="two auth backends are named 'jwt'"):
        load_backends(pm, settings)


async def test_admin_key_compare_rejects_near_misses(make_settings):
    settings = make_settings(FREEWAY_PLUGINS="core")
    key = settings.admin_api_key
    async with AsyncTestClient(app=create_app(settings)) as client:
        for wrong in (key[:-1], key + "x", key.upper(), " " + key, "x" * len(key)):
            assert (
                await client.get("/admin/projects", headers={"X-Api-Key": wrong})
            ).status_code == 401
        # The admin key is an X-Api-Key credential only, not a bearer token.
        bearer = await client.get("/admin/projects", headers={"Authorization": f"Bearer {key}"})
        assert bearer.status_code == 401
        assert (await client.get("/admin/projects", headers={"X-Api-Key": key})).status_code == 200
