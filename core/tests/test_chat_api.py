"""The client API in process: /v1/chat/completions, /v1/images/generations, /v1/models.

Providers are FakeProviders registered as a plugin; projects are created through the
admin API; usage is read back from the database after the queue is flushed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from freeway.app import create_app
from freeway.db.models import UsageLog
from freeway.errors import ProviderUnavailable, RateLimited, UpstreamBadRequest
from freeway.hookspecs import hookimpl
from freeway.providers.types import Usage, make_model
from freeway.state import gateway_of
from freeway.testing import FakeProvider

# With the built-in rankers: paid = [a/small, b/small] (same price, a first by id),
# image = [a/painter], free = [].
MODELS = {
    "a": [
        make_model("a", "small", context_length=8000, prompt_price=1.0, completion_price=2.0),
        make_model("a", "painter", output_modalities=["image"], image_price=0.04),
    ],
    "b": [make_model("b", "small", context_length=8000, prompt_price=1.0, completion_price=2.0)],
}


class FakePlugin:
    def __init__(self) -> None:
        self.providers = {
            name: FakeProvider(name, models=models, reply="Hello there friend")
            for name, models in MODELS.items()
        }

    @hookimpl
    def freeway_providers(self, settings):
        return list(self.providers.values())


class Gateway:
    """The test's handle: HTTP client, fake providers, admin helpers."""

    def __init__(self, client: AsyncTestClient, plugin: FakePlugin, admin_key: str) -> None:
        self.client = client
        self.providers = plugin.providers
        self.admin = {"X-Api-Key": admin_key}
        self.gw = gateway_of(client.app)

    async def project(self, **fields: Any) -> str:
        response = await self.client.post("/admin/projects", json=fields, headers=self.admin)
        assert response.status_code == 201, response.text
        return response.json()["api_key"]  # type: ignore[no-any-return]

    async def chat(self, key: str | None, **body: Any):
        body.setdefault("model", "paid")
        body.setdefault("messages", [{"role": "user", "content": "hi"}])
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return await self.client.post("/v1/chat/completions", json=body, headers=headers)

    async def logs(self) -> list[UsageLog]:
        """Usage rows, after flushing the queue.  The app runs on the test client's own
        loop (another thread), so both steps run there through its portal."""

        async def flush_and_read() -> list[UsageLog]:
            await self.gw.usage.flush()
            async with self.gw.db.sessionmaker() as session:
                rows = await session.scalars(select(UsageLog).order_by(UsageLog.id))
                return list(rows.all())

        return self.client.blocking_portal.call(flush_and_read)  # type: ignore[no-any-return]


@pytest.fixture
async def gateway(make_settings):
    settings = make_settings(FREEWAY_USAGE_FLUSH_INTERVAL="0.05")
    plugin = FakePlugin()
    app = create_app(settings, extra_plugins=[("fakes", plugin)])
    async with AsyncTestClient(app=app) as client:
        # The startup refresh lists the fake providers' models into the catalogue.
        catalogue = gateway_of(app).catalogue
        deadline = time.monotonic() + 10
        while not all(catalogue.get(m.id) for ms in MODELS.values() for m in ms):
            assert time.monotonic() < deadline, "the catalogue never listed the fake models"
            await asyncio.sleep(0.05)
        yield Gateway(client, plugin, settings.admin_api_key)


def sse_events(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.split("\n\n") if line.startswith("data: ")]


# --- non-streamed ------------------------------------------------------------------


async def test_a_chat_completion_answers_with_gateway_headers_and_logs_usage(gateway):
    key = await gateway.project(name="app")
    response = await gateway.chat(key)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "a/small"
    assert body["choices"][0]["message"]["content"] == "Hello there friend"
    assert response.headers["x-freeway-provider"] == "a"
    assert response.headers["x-freeway-model"] == "a/small"
    assert response.headers["x-request-id"]
    assert "x-ratelimit-limit-requests" not in response.headers  # no limit set
    (log,) = await gateway.logs()
    assert log.requested_model == "paid"
    assert (log.model, log.provider, log.status, log.stream) == ("a/small", "a", "ok", False)
    assert (log.prompt_tokens, log.completion_tokens, log.total_tokens) == (10, 3, 13)
    assert log.cost_usd == pytest.approx((10 * 1.0 + 3 * 2.0) / 1e6)
    assert log.request_id == response.headers["x-request-id"]
    assert log.latency_ms > 0


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("reported", "logged"),
    [
        (0.0421, 0.0421),  # the provider's own charge wins over catalogue prices
        (0.0, 0.0),
        (-1.0, (10 * 1.0 + 3 * 2.0) / 1e6),  # nonsense: catalogue prices instead
        (float("nan"), (10 * 1.0 + 3 * 2.0) / 1e6),
    ],
)
async def test_a_provider_reported_cost_is_logged_when_sane(gateway, stream, reported, logged):
    gateway.providers["a"].usage = Usage(
        prompt_tokens=10, completion_tokens=3, total_tokens=13, cost=reported
    )
    key = await gateway.project(name="app")
    options = {"stream_options": {"include_usage": True}} if stream else {}
    response = await gateway.chat(key, stream=stream, **options)
    assert response.status_code == 200
    (log,) = await gateway.logs()
    assert log.cost_usd == pytest.approx(logged)
    # The client sees the tokens, not what the provider charged the gateway.
    if stream:
        (usage,) = [
            e["usage"]
            for e in map(msgspec.json.decode, sse_events(response.text)[:-1])
            if e.get("usage")
        ]
    else:
        usage = response.json()["usage"]
    assert usage["total_tokens"] == 13 and "cost" not in usage


async def test_x_api_key_header_works_too(gateway):
    key = await gateway.project(name="app")
    response = await gateway.client.post(
        "/chat/completions",
        json={"model": "b/small", "messages": [{"role": "user", "content": "hi"}]},
        headers={"X-Api-Key": key},
    )
    assert response.status_code == 200
    assert response.headers["x-freeway-provider"] == "b"


async def test_requests_without_a_project_key_are_refused(gateway):
    response = await gateway.chat(None)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    response = await gateway.client.post(
        "/v1/chat/completions", json={"model": "free", "messages": []}, headers=gateway.admin
    )
    assert response.status_code == 403
    assert "project API key" in response.json()["error"]["message"]


async def test_an_inactive_project_gets_403(gateway):
    key = await gateway.project(name="sleepy", is_active=False)
    response = await gateway.chat(key)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "project_inactive"
    assert gateway.providers["a"].calls == []


@pytest.mark.parametrize(
    ("body", "param", "fragment"),
    [
        ({"model": "free", "messages": "hi"}, "messages", "messages: expected array"),
        ({"messages": [{"role": "user", "content": "x"}]}, "model", "model: required field"),
        ({"model": "free", "messages": []}, "messages", "at least one message"),
        ({"model": "free", "messages": [], "temperature": "hot"}, "temperature", "temperature:"),
    ],
)
async def test_bad_bodies_get_a_400_naming_the_field(gateway, body, param, fragment):
    key = await gateway.project(name="app")
    response = await gateway.client.post(
        "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert fragment in error["message"]


async def test_invalid_json_is_a_400(gateway):
    key = await gateway.project(name="app")
    response = await gateway.client.post(
        "/v1/chat/completions",
        content=b"{not json",
        headers={"Authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]


async def test_an_unknown_model_is_a_404_naming_it(gateway):
    key = await gateway.project(name="app")
    response = await gateway.chat(key, model="nope/model-x")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "model_not_found"
    assert "'nope/model-x'" in error["message"]
    (log,) = await gateway.logs()
    assert (log.status, log.error_code, log.model) == ("error", "model_not_found", None)


async def test_the_project_rate_limit_answers_429_with_headers(gateway):
    key = await gateway.project(name="limited", rate_limit_per_minute=2)
    first = await gateway.chat(key)
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    second = await gateway.chat(key)
    assert second.headers["x-ratelimit-remaining-requests"] == "0"
    third = await gateway.chat(key)
    assert third.status_code == 429
    assert third.headers["retry-after"] == "30"
    assert third.headers["x-ratelimit-remaining-requests"] == "0"
    assert third.json()["error"]["type"] == "rate_limit_error"
    assert third.json()["error"]["code"] == "rate_limit_exceeded"
    assert len(gateway.providers["a"].calls) == 2
    assert [log.status for log in await gateway.logs()] == ["ok", "ok", "error"]


async def test_fallback_after_an_upstream_429_is_transparent_and_counted(gateway):
    key = await gateway.project(name="app")
    gateway.providers["a"].fail_next(RateLimited("a: slow down", retry_after=1))
    response = await gateway.chat(key)
    assert response.status_code == 200
    assert response.headers["x-freeway-model"] == "b/small"
    (log,) = await gateway.logs()
    assert (log.fallback_count, log.provider, log.model) == (1, "b", "b/small")
    assert log.cost_usd == pytest.approx((10 * 1.0 + 3 * 2.0) / 1e6)  # b's prices


async def test_a_non_retryable_upstream_error_is_passed_through_with_its_message(gateway):
    key = await gateway.project(name="app")
    gateway.providers["a"].fail_next(UpstreamBadRequest("a: 'tools' is not supported"))
    response = await gateway.chat(key)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "a: 'tools' is not supported"
    assert response.headers["x-freeway-provider"] == "a"
    assert gateway.providers["b"].calls == []


async def test_health_ready_shows_an_open_circuit(gateway):
    key = await gateway.project(name="app")
    gateway.providers["a"].fail_next(ProviderUnavailable("a: 503"), times=5)
    for _ in range(5):
        assert (await gateway.chat(key)).status_code == 200
    ready = (await gateway.client.get("/health/ready")).json()
    assert ready["checks"]["providers"]["a"]["circuit"] == "open"
    assert ready["checks"]["providers"]["b"]["circuit"] == "closed"


# --- streamed ------------------------------------------------------------------------


async def test_a_stream_relays_chunks_and_ends_with_done_without_usage_by_default(gateway):
    key = await gateway.project(name="app")
    response = await gateway.chat(key, stream=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-freeway-model"] == "a/small"
    events = sse_events(response.text)
    assert events[-1] == "[DONE]"
    chunks = [msgspec.json.decode(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "a/small" for c in chunks)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == (
        "Hello there friend"
    )
    assert all("usage" not in c for c in chunks)
    (log,) = await gateway.logs()
    assert (log.stream, log.status, log.total_tokens) == (True, "ok", 13)
    assert log.ttft_ms is not None and log.ttft_ms <= log.latency_ms
    # The upstream was asked for usage anyway.
    assert gateway.providers["a"].calls[0].stream_options.include_usage is True


async def test_a_stream_forwards_exactly_one_usage_chunk_when_asked(gateway):
    key = await gateway.project(name="app")
    response = await gateway.chat(key, stream=True, stream_options={"include_usage": True})
    events = sse_events(response.text)
    chunks = [msgspec.json.decode(e) for e in events[:-1]]
    with_usage = [c for c in chunks if c.get("usage")]
    assert len(with_usage) == 1
    assert with_usage[0]["choices"] == []
    assert with_usage[0]["usage"]["total_tokens"] == 13
    assert chunks[-1] is with_usage[0]


async def test_a_stream_falls_back_when_the_first_provider_fails_before_any_chunk(gateway):
    key = await gateway.project(name="app")
    gateway.providers["a"].fail_next(ProviderUnavailable("a: 502"))
    response = await gateway.chat(key, stream=True)
    assert response.status_code == 200
    assert response.headers["x-freeway-provider"] == "b"
    assert sse_events(response.text)[-1] == "[DONE]"


async def test_a_mid_stream_failure_ends_with_an_error_event_then_done(gateway):
    key = await gateway.project(name="app")
    gateway.providers["a"].fail_stream_after(1, ProviderUnavailable("a: connection reset"))
    response = await gateway.chat(key, stream=True)
    assert response.status_code == 200
    events = sse_events(response.text)
    assert events[-1] == "[DONE]"
    error = msgspec.json.decode(events[-2])["error"]
    assert error["message"] == "a: connection reset"
    assert msgspec.json.decode(events[0])["choices"][0]["delta"]["content"] == "Hello "
    (log,) = await gateway.logs()
    assert (log.status, log.error_code, log.provider) == ("error", "provider_unavailable", "a")
    assert log.completion_tokens >= 1  # estimated from what was relayed


# --- images and models ---------------------------------------------------------------


async def test_image_generation_uses_the_image_category_and_per_image_price(gateway):
    key = await gateway.project(name="app")
    response = await gateway.client.post(
        "/v1/images/generations",
        json={"prompt": "a lighthouse", "n": 2},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 2
    assert response.headers["x-freeway-model"] == "a/painter"
    (log,) = await gateway.logs()
    assert (log.endpoint, log.requested_model) == ("images", "image")
    assert log.cost_usd == pytest.approx(0.08)


async def test_image_prompt_is_required(gateway):
    key = await gateway.project(name="app")
    response = await gateway.client.post(
        "/images/generations", json={"prompt": " "}, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "prompt"


async def test_v1_models_lists_categories_and_models_in_openai_shape(gateway):
    key = await gateway.project(name="app")
    headers = {"Authorization": f"Bearer {key}"}
    body = (await gateway.client.get("/v1/models", headers=headers)).json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert ids[:3] == ["free", "paid", "image"]
    assert {"a/small", "a/painter", "b/small"} <= set(ids)
    free, paid = body["data"][:2]
    assert paid["object"] == "model" and paid["serves"] == "a/small"
    assert "serves" not in free  # no free model right now
    small = next(m for m in body["data"] if m["id"] == "a/small")
    assert small["owned_by"] == "a" and small["context_length"] == 8000
    assert small["pricing"] == {"prompt": 1.0, "completion": 2.0}
    one = await gateway.client.get("/v1/models/a/small", headers=headers)
    assert one.json()["id"] == "a/small"
    missing = await gateway.client.get("/v1/models/zzz", headers=headers)
    assert missing.status_code == 404
    assert (await gateway.client.get("/v1/models")).status_code == 401


async def test_usage_with_the_provider_reporting_nothing_still_records_the_request(gateway):
    key = await gateway.project(name="app")
    gateway.providers["b"].usage = Usage(prompt_tokens=7, completion_tokens=0, total_tokens=7)
    response = await gateway.chat(key, model="b/small")
    assert response.status_code == 200
    (log,) = await gateway.logs()
    assert (log.prompt_tokens, log.total_tokens) == (7, 7)
