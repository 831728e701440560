"""/model/{category}, /models/{category} and the admin selection, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import event, select

from freeway.app import create_app
from freeway.catalogue.refresh import refresh_models
from freeway.db.models import ModelSelection
from freeway.hookspecs import hookimpl
from freeway.providers.types import Model, make_model
from freeway.state import Gateway, gateway_of
from freeway.testing import FakeProvider


class Plugin:
    """Test plugin: providers and rankers."""

    def __init__(self, providers: list[Any], rankers: list[Any] | None = None) -> None:
        self.providers = providers
        self.rankers = rankers or []

    @hookimpl
    def freeway_providers(self, settings: Any) -> list[Any]:
        return self.providers

    @hookimpl
    def freeway_rankers(self) -> list[Any]:
        return self.rankers


class FastRanker:
    """A plugin category: the models a (pretend) latency probe found fastest."""

    category = "fast"

    def rank(self, models: list[Model]) -> list[Model]:
        fast = [m for m in models if m.raw.get("tokens_per_second")]
        return sorted(fast, key=lambda m: -m.raw["tokens_per_second"])


def free(uid: str, ctx: int, **kw: Any) -> Model:
    return make_model("acme", uid, context_length=ctx, prompt_price=0, completion_price=0, **kw)


def paid(uid: str, p: float, c: float, **kw: Any) -> Model:
    return make_model("acme", uid, context_length=16_000, prompt_price=p, completion_price=c, **kw)


CATALOGUE = [
    free("gemma-3-27b-it:free", 96_000, name="Gemma 3 27B (free)"),
    free("llama-3.3-70b:free", 131_000, name="Llama 3.3 70B (free)", raw={"tokens_per_second": 90}),
    free("mistral-7b:free", 32_000, name="Mistral 7B (free)", raw={"tokens_per_second": 300}),
    paid("gpt-4o-mini", 0.15, 0.6, name="GPT-4o mini"),
    paid("claude-haiku", 0.8, 4.0, name="Claude Haiku"),
    make_model("acme", "image-1", image_price=0.02, output_modalities=["image"]),
]


def in_app(client: AsyncTestClient, fn: Any, *args: Any) -> Any:
    """Run ``await fn(*args)`` on the app's event loop (the test client runs the app,
    its database pool and its background tasks in a thread of their own)."""
    return client.blocking_portal.call(fn, *args)


async def _settle(gw: Gateway) -> None:
    scheduler = gw.jobs.scheduler
    assert scheduler is not None
    assert await scheduler.wait_leading(5)
    await scheduler.wait_idle()


def settle(client: AsyncTestClient) -> None:
    """Wait for the embedded scheduler's startup runs to finish."""
    in_app(client, _settle, gateway_of(client.app))


async def _get(gw: Gateway, model: Any, key: Any) -> Any:
    async with gw.db.sessionmaker() as session:
        return await session.get(model, key)


async def _all(gw: Gateway, model: Any) -> list[Any]:
    async with gw.db.sessionmaker() as session:
        return list((await session.scalars(select(model))).all())


@asynccontextmanager
async def client_for(
    make_settings, *, models: list[Any] | None = None, rankers: list[Any] | None = None, **env: Any
) -> AsyncIterator[tuple[AsyncTestClient, FakeProvider]]:
    provider = FakeProvider("acme", models=CATALOGUE if models is None else models)
    settings = make_settings(FREEWAY_PLUGINS="core", **env)
    app = create_app(settings, extra_plugins=[("acme", Plugin([provider], rankers))])
    async with AsyncTestClient(app=app) as client:
        settle(client)
        yield client, provider


def admin(client: AsyncTestClient) -> dict[str, str]:
    return {"X-Api-Key": gateway_of(client.app).settings.admin_api_key or ""}


async def test_models_free_lists_the_free_models_best_first(make_settings):
    async with client_for(make_settings) as (client, _):
        response = await client.get("/models/free")
        assert response.status_code == 200
        body = response.json()
        assert [m["id"] for m in body["data"]] == [
            "acme/llama-3.3-70b:free",
            "acme/gemma-3-27b-it:free",
            "acme/mistral-7b:free",
        ]
        assert body["total"] == 3 and body["selected"] == "acme/llama-3.3-70b:free"
        assert body["fallback"] is False and body["object"] == "list"
        first = body["data"][0]
        assert first == {
            "id": "acme/llama-3.3-70b:free",
            "provider": "acme",
            "name": "Llama 3.3 70B (free)",
            "context_length": 131_000,
            "prompt_price_per_million": 0.0,
            "completion_price_per_million": 0.0,
            "image_price": None,
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "is_free": True,
            "supports_tools": None,
            "available": True,
        }
        paid_ids = [m["id"] for m in (await client.get("/models/paid")).json()["data"]]
        assert paid_ids == ["acme/gpt-4o-mini", "acme/claude-haiku"]
        image = (await client.get("/model/image")).json()
        assert image["model"]["id"] == "acme/image-1" and image["model"]["image_price"] == 0.02


async def test_models_search_and_pagination(make_settings):
    async with client_for(make_settings) as (client, _):
        body = (await client.get("/models/free", params={"q": "LLAMA"})).json()
        assert [m["id"] for m in body["data"]] == ["acme/llama-3.3-70b:free"]
        assert body["total"] == 1
        body = (await client.get("/models/free", params={"q": "Gemma 3"})).json()
        assert [m["id"] for m in body["data"]] == ["acme/gemma-3-27b-it:free"]
        page2 = (await client.get("/models/free", params={"page": 2, "page_size": 2})).json()
        assert [m["id"] for m in page2["data"]] == ["acme/mistral-7b:free"]
        assert (page2["page"], page2["page_size"], page2["total"]) == (2, 2, 3)
        empty = (await client.get("/models/free", params={"page": 9})).json()
        assert empty["data"] == [] and empty["total"] == 3
        bad = await client.get("/models/free", params={"page_size": 0})
        assert bad.status_code == 400
        assert "page_size" in bad.json()["error"]["message"]


async def test_unknown_category_is_a_404_envelope_naming_it(make_settings):
    async with client_for(make_settings) as (client, _):
        for path in ("/models/cheapest", "/model/cheapest"):
            response = await client.get(path)
            assert response.status_code == 404
            error = response.json()["error"]
            assert "'cheapest'" in error["message"] and "free, paid, image" in error["message"]
            assert error["type"] == "invalid_request_error"


async def test_an_empty_category_answers_404_saying_why(make_settings):
    async with client_for(make_settings, models=[paid("only-paid", 1, 1)]) as (client, _):
        response = await client.get("/model/free")
        assert response.status_code == 404
        assert "no model is available in category 'free'" in response.json()["error"]["message"]
        assert (await client.get("/models/free")).json()["data"] == []


async def test_models_free_answers_from_memory_without_a_database_query(make_settings):
    async with client_for(make_settings) as (client, _):
        gw = gateway_of(client.app)
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(gw.db.engine.sync_engine, "before_cursor_execute", count)
        try:
            for path in (
                "/models/free",
                "/models/paid?q=gpt",
                "/model/free",
                "/models/image",
                "/model/paid",
            ):
                assert (await client.get(path)).status_code == 200
        finally:
            event.remove(gw.db.engine.sync_engine, "before_cursor_execute", count)
        assert statements == []


async def test_a_plugin_ranker_makes_a_new_category(make_settings):
    async with client_for(make_settings, rankers=[FastRanker()]) as (client, _):
        gw = gateway_of(client.app)
        assert "fast" in gw.catalogue.categories()
        body = (await client.get("/models/fast")).json()
        assert [m["id"] for m in body["data"]] == [
            "acme/mistral-7b:free",
            "acme/llama-3.3-70b:free",
        ]
        assert (await client.get("/model/fast")).json()["model"]["id"] == "acme/mistral-7b:free"
        # the gateway resolves `model: "fast"` through the same catalogue
        assert [m.id for m in gw.catalogue.candidates("fast")] == [
            "acme/mistral-7b:free",
            "acme/llama-3.3-70b:free",
        ]


async def test_two_rankers_for_one_category_stop_startup(make_settings):
    from freeway.catalogue.rankers import FreeRanker
    from freeway.errors import ConfigError

    provider = FakeProvider("acme")
    app = create_app(
        make_settings(FREEWAY_PLUGINS="core"),
        extra_plugins=[("rival", Plugin([provider], [FreeRanker()]))],
    )
    with pytest.raises(BaseException) as info:
        async with AsyncTestClient(app=app):
            pass
    error = _find(info.value, ConfigError)
    assert error is not None and "two rankers for category 'free'" in error.message


def _find(exc: BaseException, kind: type[BaseException]) -> Any:
    if isinstance(exc, kind):
        return exc
    for inner in getattr(exc, "exceptions", ()):
        if (found := _find(inner, kind)) is not None:
            return found
    return None


# --- selection -----------------------------------------------------------------------


async def test_admin_selection_is_validated_stored_and_served(make_settings, database_url):
    async with client_for(make_settings, DATABASE_URL=database_url) as (client, provider):
        gw = gateway_of(client.app)
        put = client.put

        unknown = await put(
            "/admin/model/free", json={"model_id": "acme/nope"}, headers=admin(client)
        )
        assert unknown.status_code == 400
        assert unknown.json()["error"]["param"] == "model_id"
        assert "no model 'acme/nope'" in unknown.json()["error"]["message"]

        bare = await put(
            "/admin/model/free", json={"model_id": "mistral-7b:free"}, headers=admin(client)
        )
        assert bare.status_code == 400
        assert "'acme/mistral-7b:free'" in bare.json()["error"]["message"]

        wrong = await put(
            "/admin/model/free", json={"model_id": "acme/gpt-4o-mini"}, headers=admin(client)
        )
        assert wrong.status_code == 400
        assert "not in category 'free'" in wrong.json()["error"]["message"]

        category = await put(
            "/admin/model/cheapest", json={"model_id": "acme/gpt-4o-mini"}, headers=admin(client)
        )
        assert category.status_code == 404 and "'cheapest'" in category.json()["error"]["message"]

        missing_field = await put("/admin/model/free", json={}, headers=admin(client))
        assert missing_field.status_code == 400
        assert "model_id" in missing_field.json()["error"]["message"]

        anonymous = await put("/admin/model/free", json={"model_id": "acme/mistral-7b:free"})
        assert anonymous.status_code == 401

        assert in_app(client, _all, gw, ModelSelection) == []

        ok = await put(
            "/admin/model/free", json={"model_id": "acme/mistral-7b:free"}, headers=admin(client)
        )
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["model"]["id"] == "acme/mistral-7b:free"
        assert body["source"] == "selection" and body["fallback"] is False
        assert body["selection"]["selected_by"] == "admin key"  # the principal's name

        row = in_app(client, _get, gw, ModelSelection, "free")
        assert row is not None and row.model_id == "acme/mistral-7b:free"
        assert row.selected_by == "admin key" and row.selected_at is not None

        served = (await client.get("/model/free")).json()
        assert served["model"]["id"] == "acme/mistral-7b:free"
        assert (await client.get("/models/free")).json()["selected"] == "acme/mistral-7b:free"
        assert gw.catalogue.candidates("free")[0].id == "acme/mistral-7b:free"

        # the selected model disappears upstream: the top-ranked one serves, and we say so
        provider.model_specs = [m for m in CATALOGUE if m.upstream_id != "mistral-7b:free"]
        in_app(client, refresh_models, gw)
        fallback = (await client.get("/model/free")).json()
        assert fallback["model"]["id"] == "acme/llama-3.3-70b:free"
        assert fallback["fallback"] is True and fallback["source"] == "ranking"
        assert fallback["selection"]["model_id"] == "acme/mistral-7b:free"
        assert (await client.get("/models/free")).json()["fallback"] is True

        gone = await put(
            "/admin/model/free", json={"model_id": "acme/mistral-7b:free"}, headers=admin(client)
        )
        assert gone.status_code == 400
        assert "no longer available" in gone.json()["error"]["message"]

        # it comes back: the selection applies again
        provider.model_specs = CATALOGUE
        in_app(client, refresh_models, gw)
        back = (await client.get("/model/free")).json()
        assert back["model"]["id"] == "acme/mistral-7b:free" and back["fallback"] is False

        cleared = await client.delete("/admin/model/free", headers=admin(client))
        assert cleared.status_code == 200 and cleared.json()["removed"] is True
        assert (await client.get("/model/free")).json()["model"]["id"] == "acme/llama-3.3-70b:free"


async def test_a_selection_survives_a_restart(make_settings, database_url):
    async with client_for(make_settings, DATABASE_URL=database_url) as (client, _):
        ok = await client.put(
            "/admin/model/paid", json={"model_id": "acme/claude-haiku"}, headers=admin(client)
        )
        assert ok.status_code == 200
    async with client_for(make_settings, DATABASE_URL=database_url) as (client, _):
        body = (await client.get("/model/paid")).json()
        assert body["model"]["id"] == "acme/claude-haiku" and body["source"] == "selection"


async def test_models_status_shows_categories_and_the_last_refresh(make_settings):
    async with client_for(make_settings) as (client, _):
        assert (await client.get("/admin/models/status")).status_code == 401
        body = (await client.get("/admin/models/status", headers=admin(client))).json()
        assert body["available"] == len(CATALOGUE)
        assert body["providers"] == {"acme": len(CATALOGUE)}
        assert body["categories"]["free"]["selected"] == "acme/llama-3.3-70b:free"
        assert body["last_refresh"]["providers"][0]["ok"] is True


async def test_a_plugin_category_serves_chat_requests_by_name(make_settings):
    async with client_for(make_settings, rankers=[FastRanker()]) as (client, provider):
        created = await client.post(
            "/admin/projects", json={"name": "fast-app"}, headers=admin(client)
        )
        assert created.status_code == 201, created.text
        key = created.json()["api_key"]
        response = await client.post(
            "/v1/chat/completions",
            json={"model": "fast", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["model"] == "acme/mistral-7b:free"
        assert response.headers["x-freeway-model"] == "acme/mistral-7b:free"
        assert provider.calls[-1].model == "mistral-7b:free"
