"""Processes sharing a database see each other's refreshes and selections."""

from __future__ import annotations

import asyncio
from typing import Any

from freeway.catalogue.refresh import refresh_models
from freeway.catalogue.selection import select_model
from freeway.catalogue.sync import CatalogueSync
from freeway.hookspecs import hookimpl
from freeway.jobs.runtime import standalone_gateway
from freeway.providers.types import make_model
from freeway.testing import FakeProvider


class Providers:
    def __init__(self, *providers: Any) -> None:
        self.providers = list(providers)

    @hookimpl
    def freeway_providers(self, settings: Any) -> list[Any]:
        return self.providers


def free(uid: str, ctx: int) -> Any:
    return make_model("acme", uid, context_length=ctx, prompt_price=0, completion_price=0)


async def wait_for(check: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.05)


async def test_another_process_picks_up_a_refresh_and_a_selection_by_polling(make_settings):
    provider = FakeProvider("acme", models=[free("a:free", 1_000), free("b:free", 2_000)])
    settings = make_settings(FREEWAY_PLUGINS="core")
    plugin = [("acme", Providers(provider))]
    async with (
        standalone_gateway(settings, role="cli", extra_plugins=plugin) as writer,
        standalone_gateway(settings, role="cli", extra_plugins=plugin) as reader,
    ):
        sync = CatalogueSync(reader, poll_interval=0.05)
        await sync.start()
        try:
            await refresh_models(writer)
            await wait_for(lambda: reader.catalogue.selected("free") is not None)
            assert reader.catalogue.selected("free").id == "acme/b:free"
            await select_model(writer, "free", "acme/a:free", "tester")
            await wait_for(lambda: reader.catalogue.selected("free").id == "acme/a:free")
            assert reader.catalogue.selection("free").selected_by == "tester"
        finally:
            await sync.stop()


async def test_with_redis_a_change_reaches_other_processes_at_once(make_settings, redis_url):
    provider = FakeProvider("acme", models=[free("a:free", 1_000), free("b:free", 2_000)])
    settings = make_settings(FREEWAY_PLUGINS="core", REDIS_URL=redis_url)
    plugin = [("acme", Providers(provider))]
    async with (
        standalone_gateway(settings, role="cli", extra_plugins=plugin) as writer,
        standalone_gateway(settings, role="cli", extra_plugins=plugin) as reader,
    ):
        sync = CatalogueSync(reader, poll_interval=3600)  # only the message can do it
        await sync.start()
        try:
            await asyncio.sleep(0.2)  # subscribed
            await refresh_models(writer)
            await wait_for(lambda: reader.catalogue.selected("free") is not None)
            await select_model(writer, "free", "acme/a:free", "tester")
            await wait_for(lambda: reader.catalogue.selected("free").id == "acme/a:free")
            assert sync.reloads == 2
        finally:
            await sync.stop()
