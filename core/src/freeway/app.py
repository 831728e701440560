"""The Litestar app factory: wiring only.

``create_app(settings)`` builds the plugin manager, the database, and the
:class:`~freeway.state.Gateway`; each area's services start in ``_startup`` and stop
in ``_shutdown`` in reverse order.  Routes come from every plugin's ``freeway_routes``
(the core API is the ``core`` plugin's).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pluggy
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig

from freeway import __version__
from freeway.api.errors import EXCEPTION_HANDLERS
from freeway.api.middleware import request_id_middleware
from freeway.auth.service import start_auth
from freeway.db import create_database, upgrade
from freeway.errors import ConfigError
from freeway.http import close_shared_client, shared_client
from freeway.jobs.runtime import start_catalogue_and_jobs, stop_catalogue_and_jobs
from freeway.logs import configure_logging
from freeway.plugins import call_list_hook, get_plugin_manager
from freeway.projects.cache import start_project_cache, stop_project_cache
from freeway.ratelimit import build_rate_limiter
from freeway.routing import Router
from freeway.settings import Settings, load_settings
from freeway.state import Gateway
from freeway.usage import start_usage, stop_usage

log = logging.getLogger("freeway")

# Set by `freeway serve` after it migrated once, so N workers do not race on it.
SKIP_MIGRATE_ENV = "FREEWAY_SKIP_MIGRATE"


def collect_providers(pm: pluggy.PluginManager, settings: Settings) -> dict[str, Any]:
    """Provider adapters from every plugin, by name; two with one name is a ConfigError."""
    providers: dict[str, Any] = {}
    for provider in call_list_hook(pm, "freeway_providers", settings=settings):
        if provider.name in providers:
            raise ConfigError(f"two providers are named {provider.name!r}; rename one")
        providers[provider.name] = provider
    return providers


def load_providers(gw: Gateway) -> None:
    """Attach every plugin's provider adapters to the gateway."""
    gw.providers = collect_providers(gw.pm, gw.settings)


def preflight(settings: Settings) -> None:
    """Check, before any server process starts, what would otherwise fail inside startup:
    plugins load, auth backend names and ranker categories resolve, job names and crons
    are valid, provider names are unique.  Raises ``ConfigError``/``PluginError`` with
    one line naming the problem."""
    from freeway.auth.backends import load_backends
    from freeway.catalogue.rankers import collect_rankers
    from freeway.jobs.registry import collect_jobs

    pm = get_plugin_manager(settings)
    load_backends(pm, settings)
    collect_rankers(pm, settings)
    collect_jobs(pm)
    collect_providers(pm, settings)


async def _startup(gw: Gateway) -> None:
    if not os.environ.get(SKIP_MIGRATE_ENV):
        await upgrade(gw.db)
    if gw.settings.redis_url:
        from redis.asyncio import Redis

        gw.redis = Redis.from_url(gw.settings.redis_url)
    gw.http = shared_client(gw.settings)
    await start_project_cache(gw)
    await start_auth(gw)
    load_providers(gw)
    gw.rate_limiter = build_rate_limiter(gw.settings, gw.redis)
    gw.router = Router.from_gateway(gw)
    await start_usage(gw)
    await start_catalogue_and_jobs(gw)
    gw.started = True


async def _shutdown(gw: Gateway) -> None:
    await stop_catalogue_and_jobs(gw)
    for provider in gw.providers.values():
        close = getattr(provider, "aclose", None)
        if close is not None:
            await close()
    await close_shared_client()
    await stop_project_cache(gw)
    if gw.redis is not None:
        await gw.redis.aclose()
    await stop_usage(gw)
    await gw.db.dispose()


def create_app(
    settings: Settings | None = None,
    *,
    plugin_manager: pluggy.PluginManager | None = None,
    extra_plugins: list[tuple[str, Any]] | None = None,
) -> Litestar:
    """Build the Freeway ASGI app.  With no arguments, settings come from the environment."""
    settings = settings or load_settings()
    configure_logging(settings)
    pm = plugin_manager or get_plugin_manager(settings, extra_plugins=extra_plugins)
    gw = Gateway(settings=settings, pm=pm, db=create_database(settings))

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await _startup(gw)
        try:
            yield
        finally:
            await _shutdown(gw)

    cors = (
        CORSConfig(allow_origins=settings.allowed_origins, allow_credentials=True)
        if settings.allowed_origins
        else None
    )
    app = Litestar(
        route_handlers=call_list_hook(pm, "freeway_routes"),
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[request_id_middleware],
        cors_config=cors,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Freeway",
            version=__version__,
            path="/schema",
            description="OpenAI-compatible AI gateway.",
            render_plugins=[],
        ),
        # Litestar's default config sets the root logger to INFO behind a queue
        # thread, so every library's per-request INFO line (httpx logs each
        # upstream call) would cost CPU on the hot path; freeway.logs owns logging.
        logging_config=None,
        debug=False,
    )
    app.state.gateway = gw
    return app
