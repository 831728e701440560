"""The plugin author's test kit: FakeProvider, FixtureUpstream and the contract itself."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from freeway.errors import ProviderUnavailable, RateLimited
from freeway.providers import ChatRequest, ImageRequest, Provider, Usage, make_model
from freeway.providers.openai_compatible import OpenAICompatibleProvider
from freeway.testing import FakeProvider, FixtureUpstream, ProviderContract

FIXTURES = Path(__file__).parent / "fixtures" / "openai_compatible"


def request(model: str = "fake-model") -> ChatRequest:
    return ChatRequest(model=model, messages=[{"role": "user", "content": "hi"}])


# --- FakeProvider ---------------------------------------------------------------


def test_fake_provider_implements_the_provider_protocol() -> None:
    assert isinstance(FakeProvider(), Provider)


async def test_fake_lists_configured_models_with_gateway_ids() -> None:
    custom = make_model("fake", "paid-one", prompt_price=1.5, completion_price=3.0)
    models = await FakeProvider(models=["a", custom]).list_models()
    assert [m.id for m in models] == ["fake/a", "fake/paid-one"]
    assert models[0].is_free and models[0].context_length == 8192
    assert models[1].prompt_price == 1.5


async def test_fake_chat_answers_the_reply_with_usage_and_records_the_call() -> None:
    fake = FakeProvider(
        reply="Bonjour", usage=Usage(prompt_tokens=4, completion_tokens=1, total_tokens=5)
    )
    response = await fake.chat(request("m"))
    assert response.choices[0].message.content == "Bonjour"
    assert response.model == "m"
    assert response.usage == Usage(prompt_tokens=4, completion_tokens=1, total_tokens=5)
    assert fake.calls == [request("m")]


async def test_fake_stream_yields_chunks_then_finish_then_usage() -> None:
    chunks = [c async for c in FakeProvider(chunks=["Hel", "lo"]).stream_chat(request())]
    assert [c.choices[0].delta.content for c in chunks[:2]] == ["Hel", "lo"]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[2].choices[0].finish_reason == "stop"
    assert chunks[3].choices == [] and chunks[3].usage is not None
    assert chunks[3].usage.completion_tokens == 2
    assert len({c.id for c in chunks}) == 1


async def test_fake_default_chunks_join_back_to_the_reply() -> None:
    fake = FakeProvider(reply="one two three")
    chunks = [c async for c in fake.stream_chat(request())]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two three"


async def test_fake_fails_the_next_n_calls_then_recovers() -> None:
    fake = FakeProvider()
    fake.fail_next(RateLimited("busy", retry_after=2, provider="fake"), times=2)
    with pytest.raises(RateLimited):
        await fake.chat(request())
    with pytest.raises(RateLimited):
        [c async for c in fake.stream_chat(request())]
    assert (await fake.chat(request())).choices
    assert len(fake.calls) == 3


async def test_fake_stream_can_fail_after_some_chunks() -> None:
    fake = FakeProvider(chunks=["a", "b", "c"])
    fake.fail_stream_after(2, ProviderUnavailable("gone", provider="fake"))
    seen = []
    with pytest.raises(ProviderUnavailable):
        async for chunk in fake.stream_chat(request()):
            seen.append(chunk.choices[0].delta.content)
    assert seen == ["a", "b"]
    assert len([c async for c in fake.stream_chat(request())]) == 5  # only once


async def test_fake_counts_streams_closed_early() -> None:
    fake = FakeProvider(chunks=["a", "b"])
    stream = fake.stream_chat(request())
    await anext(stream)
    await stream.aclose()
    assert fake.cancelled == 1


async def test_fake_latency_delays_the_answer() -> None:
    fake = FakeProvider(latency=0.05)
    start = time.perf_counter()
    await fake.chat(request())
    assert time.perf_counter() - start >= 0.045


async def test_fake_chunk_delay_spaces_the_stream() -> None:
    fake = FakeProvider(chunks=["a", "b", "c"], chunk_delay=0.03)
    start = time.perf_counter()
    [c async for c in fake.stream_chat(request())]
    assert time.perf_counter() - start >= 0.055


async def test_fake_models_error_makes_list_models_fail() -> None:
    fake = FakeProvider()
    fake.models_error = ProviderUnavailable("down", provider="fake")
    with pytest.raises(ProviderUnavailable):
        await fake.list_models()


async def test_fake_images_returns_n_urls_or_base64() -> None:
    fake = FakeProvider()
    urls = await fake.images(ImageRequest(prompt="cat", n=2))
    assert len(urls.data) == 2 and all(d.url for d in urls.data)
    b64 = await fake.images(ImageRequest(prompt="cat", response_format="b64_json"))
    assert b64.data[0].b64_json and b64.data[0].url is None


async def test_fake_latency_is_cancellable() -> None:
    fake = FakeProvider(latency=10)
    task = asyncio.create_task(fake.chat(request()))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# --- FixtureUpstream ------------------------------------------------------------


async def test_fixture_upstream_routes_by_method_path_and_stream_flag() -> None:
    upstream = FixtureUpstream(
        FIXTURES,
        {
            "GET /models": "models.json",
            "POST /chat/completions": "chat.json",
            "POST /chat/completions stream": "chat_stream.sse",
        },
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as client:
        plain = await client.post("http://u/v1/chat/completions", json={"stream": False})
        stream = await client.post("http://u/v1/chat/completions", json={"stream": True})
        missing = await client.get("http://u/v1/nothing")
    assert plain.json()["object"] == "chat.completion"
    assert stream.headers["content-type"] == "text/event-stream"
    assert missing.status_code == 404
    assert upstream.body(1) == {"stream": True}


async def test_fixture_upstream_routes_by_query_parameter() -> None:
    upstream = FixtureUpstream(
        FIXTURES,
        {"GET /models": "models.json", "GET /models?page_token": "chat.json"},
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as client:
        first = await client.get("http://u/v1/models")
        second = await client.get("http://u/v1/models", params={"page_token": "p2"})
        empty = await client.get("http://u/v1/models", params={"page_token": ""})
    assert "data" in first.json()
    assert second.json()["object"] == "chat.completion"
    assert "data" in empty.json()  # an empty token is no token
    assert len(upstream.requests) == 3


# --- the contract, run against the generic adapter ---------------------------------


class TestOpenAICompatibleContract(ProviderContract):
    """The generic adapter passes the contract every plugin runs."""

    model = "llama3.2:3b"
    fixtures = FixtureUpstream(
        FIXTURES,
        {
            "GET /models": "models.json",
            "POST /chat/completions": "chat.json",
            "POST /chat/completions stream": "chat_stream.sse",
        },
    )

    def make_provider(self, client: httpx.AsyncClient) -> OpenAICompatibleProvider:
        return OpenAICompatibleProvider(
            "local", base_url="http://ollama.test/v1", api_key=None, client=client
        )

    def upstream(self, request: httpx.Request) -> httpx.Response:
        return self.fixtures(request)


class TestFakeProviderContract(ProviderContract):
    """FakeProvider passes the parts of the contract that do not involve HTTP."""

    model = "fake-model"

    def make_provider(self, client: httpx.AsyncClient) -> FakeProvider:
        return FakeProvider()

    def upstream(self, request: httpx.Request) -> httpx.Response:
        raise AssertionError("FakeProvider never calls HTTP")

    # The HTTP-error parts of the contract do not apply to an in-memory provider.
    test_contract_429_is_rate_limited_with_retry_after = None  # type: ignore[assignment]
    test_contract_5xx_is_provider_unavailable = None  # type: ignore[assignment]
    test_contract_timeout_is_provider_timeout = None  # type: ignore[assignment]
    test_contract_400_is_a_bad_request_that_is_not_retried = None  # type: ignore[assignment]
    test_contract_connection_failure_never_leaks_httpx = None  # type: ignore[assignment]


class BrokenAdapter(OpenAICompatibleProvider):
    """An adapter that forgets to ask for usage when streaming."""

    def build_body(self, request: ChatRequest, *, stream: bool) -> dict:
        body = super().build_body(request, stream=stream)
        body.pop("stream_options", None)
        return body


async def test_the_contract_catches_an_adapter_that_loses_stream_usage() -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        # A faithful upstream: usage only when asked for.
        lines = (FIXTURES / "chat_stream.sse").read_text().split("\n\n")
        if b"include_usage" not in request.content:
            lines = [line for line in lines if '"usage"' not in line]
        return httpx.Response(200, content="\n\n".join(lines).encode())

    class Contract(ProviderContract):
        model = "llama3.2:3b"

        def make_provider(self, client: httpx.AsyncClient) -> BrokenAdapter:
            return BrokenAdapter("local", base_url="http://u/v1", api_key=None, client=client)

    contract = Contract()
    contract.upstream = upstream  # type: ignore[method-assign]
    with pytest.raises(AssertionError, match="usage"):
        await contract.test_contract_stream_yields_content_and_ends_with_usage()
