"""refresh-models: fetch, categorize, store, swap — and never lose models to a failure."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select

from freeway.catalogue.refresh import refresh_models
from freeway.db.models import CatalogueModel
from freeway.errors import ProviderUnavailable
from freeway.hookspecs import hookimpl
from freeway.jobs.runtime import standalone_gateway
from freeway.providers.types import Model, make_model
from freeway.state import Gateway
from freeway.testing import FakeProvider


class Providers:
    """A test plugin offering the given provider objects."""

    def __init__(self, *providers: Any) -> None:
        self.providers = list(providers)

    @hookimpl
    def freeway_providers(self, settings: Any) -> list[Any]:
        return self.providers


class SlowProvider(FakeProvider):
    async def list_models(self) -> list[Model]:
        await asyncio.sleep(5)
        return await super().list_models()


def free(provider: str, uid: str, ctx: int) -> Model:
    return make_model(provider, uid, context_length=ctx, prompt_price=0, completion_price=0)


def paid(provider: str, uid: str, p: float, c: float, ctx: int = 8192) -> Model:
    return make_model(provider, uid, context_length=ctx, prompt_price=p, completion_price=c)


def image(provider: str, uid: str, price: float | None) -> Model:
    return make_model(provider, uid, image_price=price, output_modalities=["image"])


@asynccontextmanager
async def gateway(
    make_settings, database_url: str, *providers: Any, **env: Any
) -> AsyncIterator[Gateway]:
    settings = make_settings(DATABASE_URL=database_url, FREEWAY_PLUGINS="core", **env)
    async with standalone_gateway(
        settings, role="cli", extra_plugins=[("fakes", Providers(*providers))]
    ) as gw:
        yield gw


async def rows(gw: Gateway) -> dict[str, CatalogueModel]:
    async with gw.db.sessionmaker() as session:
        return {r.id: r for r in (await session.scalars(select(CatalogueModel))).all()}


def ids(models: list[Model]) -> list[str]:
    return [m.id for m in models]


async def test_refresh_ranks_every_providers_models_and_stores_them(make_settings, database_url):
    a = FakeProvider(
        "a",
        models=[
            free("a", "small:free", 8_000),
            paid("a", "pricey", 5, 15),
            image("a", "painter", 0.04),
        ],
    )
    b = FakeProvider(
        "b",
        models=[
            free("b", "huge", 1_000_000),
            paid("b", "cheap", 0.1, 0.2),
            image("b", "sketch", 0.01),
        ],
    )
    async with gateway(make_settings, database_url, a, b) as gw:
        assert gw.catalogue.all() == []  # empty database: nothing yet
        report = await refresh_models(gw)
        assert [p.ok for p in report.providers] == [True, True]
        cat = gw.catalogue
        assert ids(cat.ranked("free")) == ["b/huge", "a/small:free"]
        assert ids(cat.ranked("paid")) == ["b/cheap", "a/pricey"]
        assert ids(cat.ranked("image")) == ["b/sketch", "a/painter"]
        assert cat.selected("free").id == "b/huge"
        assert cat.refreshed_at is not None
        stored = await rows(gw)
        assert stored["b/huge"].categories == ["free"]
        assert stored["b/cheap"].categories == ["paid"]
        assert stored["a/painter"].categories == ["image"]
        assert stored["b/cheap"].prompt_price == 0.1
        assert all(r.available for r in stored.values())


async def test_a_failing_provider_keeps_its_previous_models_and_is_reported(
    make_settings, database_url
):
    a = FakeProvider("a", models=[free("a", "one:free", 32_000)])
    b = FakeProvider("b", models=[free("b", "two:free", 64_000), paid("b", "p", 1, 1)])
    async with gateway(make_settings, database_url, a, b) as gw:
        await refresh_models(gw)
        b.models_error = ProviderUnavailable("upstream returned 503", provider="b")
        a.model_specs = [free("a", "one:free", 32_000), free("a", "new:free", 200_000)]
        report = await refresh_models(gw)
        failed = {p.provider: p.error for p in report.providers if not p.ok}
        assert failed == {"b": "ProviderUnavailable: upstream returned 503"}
        assert report.outcome == "partial"
        assert "b failed" in report.summary()
        # b's models survive; a's new model arrived
        assert ids(gw.catalogue.ranked("free")) == ["a/new:free", "b/two:free", "a/one:free"]
        assert gw.catalogue.get("b/p") is not None
        stored = await rows(gw)
        assert stored["b/two:free"].available and stored["b/p"].available


async def test_every_provider_failing_never_empties_the_catalogue(make_settings, database_url):
    a = FakeProvider("a", models=[free("a", "one:free", 32_000)])
    async with gateway(make_settings, database_url, a) as gw:
        await refresh_models(gw)
        a.models_error = RuntimeError("boom")
        report = await refresh_models(gw)
        assert not report.providers[0].ok
        assert ids(gw.catalogue.ranked("free")) == ["a/one:free"]


async def test_a_provider_listing_nothing_keeps_its_previous_models(make_settings, database_url):
    a = FakeProvider("a", models=[free("a", "one:free", 32_000)])
    async with gateway(make_settings, database_url, a) as gw:
        await refresh_models(gw)
        a.model_specs = []
        report = await refresh_models(gw)
        assert report.providers[0].error == "listed no models"
        assert gw.catalogue.get("a/one:free") is not None


async def test_a_slow_provider_times_out_without_holding_up_the_others(make_settings, database_url):
    slow = SlowProvider("slow", models=[free("slow", "s:free", 1_000)])
    quick = FakeProvider("quick", models=[free("quick", "q:free", 1_000)])
    async with gateway(make_settings, database_url, slow, quick) as gw:
        loop = asyncio.get_running_loop()
        started = loop.time()
        report = await refresh_models(gw, timeout=0.2)
        assert loop.time() - started < 2
        outcome = {p.provider: p for p in report.providers}
        assert outcome["slow"].error == "no answer within 0.2s"
        assert outcome["quick"].ok
        assert ids(gw.catalogue.ranked("free")) == ["quick/q:free"]


async def test_models_gone_upstream_become_unavailable_but_are_not_deleted(
    make_settings, database_url
):
    a = FakeProvider("a", models=[free("a", "stays:free", 8_000), free("a", "goes:free", 9_000)])
    async with gateway(make_settings, database_url, a) as gw:
        await refresh_models(gw)
        a.model_specs = [free("a", "stays:free", 8_000)]
        await refresh_models(gw)
        assert gw.catalogue.get("a/goes:free") is None
        assert ids(gw.catalogue.ranked("free")) == ["a/stays:free"]
        stored = await rows(gw)
        assert stored["a/goes:free"].available is False  # kept for old usage logs
        first_seen = stored["a/goes:free"].first_seen_at
        a.model_specs = [free("a", "stays:free", 8_000), free("a", "goes:free", 9_000)]
        await refresh_models(gw)
        stored = await rows(gw)
        assert stored["a/goes:free"].available is True
        assert stored["a/goes:free"].first_seen_at == first_seen
        assert gw.catalogue.selected("free").id == "a/goes:free"


async def test_the_catalogue_is_served_from_the_database_before_any_refresh(
    make_settings, database_url
):
    a = FakeProvider("a", models=[free("a", "one:free", 8_000), paid("a", "p", 1, 2)])
    async with gateway(make_settings, database_url, a) as gw:
        await refresh_models(gw)
    down = FakeProvider("a")
    down.models_error = ProviderUnavailable("down")
    async with gateway(make_settings, database_url, down) as gw:
        # a fresh process: nothing fetched yet, the stored catalogue already serves
        assert ids(gw.catalogue.ranked("free")) == ["a/one:free"]
        model = gw.catalogue.get("a/p")
        assert model is not None and model.prompt_price == 1 and model.completion_price == 2
        assert model.supports_tools is None
        assert gw.catalogue.refreshed_at is not None


async def test_models_of_a_provider_no_longer_configured_are_not_served(
    make_settings, database_url
):
    a = FakeProvider("a", models=[free("a", "one:free", 8_000)])
    b = FakeProvider("b", models=[free("b", "two:free", 8_000)])
    async with gateway(make_settings, database_url, a, b) as gw:
        await refresh_models(gw)
    async with gateway(make_settings, database_url, FakeProvider("a", models=[])) as gw:
        assert gw.catalogue.get("b/two:free") is None  # b is gone from this gateway
        assert gw.catalogue.get("a/one:free") is not None
        await refresh_models(gw)
        stored = await rows(gw)
        assert stored["b/two:free"].available is False
        assert stored["a/one:free"].available is True  # a listed nothing: kept


async def test_a_bare_upstream_id_resolves_in_provider_priority_order(make_settings, database_url):
    shared = "meta/llama-3:free"
    a = FakeProvider("a", models=[free("a", shared, 8_000)])
    b = FakeProvider("b", models=[free("b", shared, 8_000)])
    async with gateway(make_settings, database_url, a, b, FREEWAY_PROVIDER_PRIORITY="b,a") as gw:
        await refresh_models(gw)
        assert ids(gw.catalogue.by_upstream_id(shared)) == [f"b/{shared}", f"a/{shared}"]
        assert gw.catalogue.by_upstream_id("nope") == []


async def test_supports_tools_survives_a_restart(make_settings, database_url):
    a = FakeProvider("a", models=["tooly"])  # FakeProvider marks string models supports_tools
    async with gateway(make_settings, database_url, a) as gw:
        await refresh_models(gw)
        assert gw.catalogue.get("a/tooly").supports_tools is True
    async with gateway(make_settings, database_url, FakeProvider("a", models=[])) as gw:
        model = gw.catalogue.get("a/tooly")
        assert model is not None and model.supports_tools is True and model.raw == {}
