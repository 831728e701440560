"""The generic OpenAI-compatible adapter against a mock upstream."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from freeway.errors import (
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    UpstreamAuthError,
    UpstreamBadRequest,
)
from freeway.providers import ChatRequest, ImageRequest, StreamOptions
from freeway.providers.openai_compatible import OpenAICompatibleProvider

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "m1",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


def sse(*events: Any) -> bytes:
    out = b""
    for event in events:
        data = event if isinstance(event, str) else json.dumps(event)
        out += f"data: {data}\n\n".encode()
    return out


def chunk(content: str | None = None, *, finish: str | None = None, usage: Any = None) -> dict:
    choices = (
        [] if usage else [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]
    )
    data = {"id": "c1", "object": "chat.completion.chunk", "model": "m1", "choices": choices}
    if usage:
        data["usage"] = usage
    return data


STREAM = sse(
    chunk("Hel"),
    chunk("lo"),
    chunk(None, finish="stop"),
    chunk(usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}),
    "[DONE]",
)


class Upstream:
    """A scripted upstream that records what it received."""

    def __init__(self, handler: Any = None) -> None:
        self.requests: list[httpx.Request] = []
        self.handler = handler

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.handler is not None:
            return self.handler(request)
        path = request.url.path
        if path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": [{"id": "m1"}]})
        if path.endswith("/chat/completions"):
            if json.loads(request.content).get("stream"):
                return httpx.Response(200, content=STREAM)
            return httpx.Response(200, json=COMPLETION)
        if path.endswith("/images/generations"):
            return httpx.Response(200, json={"created": 1, "data": [{"url": "https://x/1.png"}]})
        return httpx.Response(404, json={"error": {"message": "no route"}})

    @property
    def last_body(self) -> dict[str, Any]:
        return json.loads(self.requests[-1].content)


def make(upstream: Upstream, **kw: Any) -> OpenAICompatibleProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    kw.setdefault("api_key", "sk-test")
    return OpenAICompatibleProvider(
        "local", base_url="http://upstream.test/v1/", client=client, **kw
    )


def request(**kw: Any) -> ChatRequest:
    return ChatRequest(model="m1", messages=[{"role": "user", "content": "hi"}], **kw)


async def test_chat_posts_the_request_with_bearer_auth_and_returns_the_completion() -> None:
    upstream = Upstream()
    response = await make(upstream).chat(
        request(temperature=0.5, extra={"reasoning_effort": "low"})
    )
    sent = upstream.requests[-1]
    assert str(sent.url) == "http://upstream.test/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert upstream.last_body == {
        "model": "m1",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.5,
        "reasoning_effort": "low",
    }
    assert response.choices[0].message.content == "Hi"
    assert response.usage is not None and response.usage.total_tokens == 4


async def test_non_stream_body_drops_stream_options() -> None:
    upstream = Upstream()
    await make(upstream).chat(request(stream_options=StreamOptions(include_usage=True)))
    assert "stream_options" not in upstream.last_body


async def test_stream_always_asks_upstream_for_usage_and_stops_at_done() -> None:
    upstream = Upstream()
    chunks = [c async for c in make(upstream).stream_chat(request())]
    assert upstream.last_body["stream"] is True
    assert upstream.last_body["stream_options"] == {"include_usage": True}
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 5


async def test_closing_the_stream_early_closes_the_upstream_response() -> None:
    closed = []

    class Body(httpx.AsyncByteStream):
        async def __aiter__(self):
            yield sse(chunk("a"))
            yield sse(chunk("b"))

        async def aclose(self) -> None:
            closed.append(True)

    upstream = Upstream(lambda r: httpx.Response(200, stream=Body()))
    stream = make(upstream).stream_chat(request())
    first = await anext(stream)
    assert first.choices[0].delta.content == "a"
    await stream.aclose()
    assert closed == [True]


async def test_error_event_inside_a_stream_raises_the_mapped_error() -> None:
    body = sse(chunk("a"), {"error": {"message": "slow down", "code": "rate_limit_exceeded"}})
    upstream = Upstream(lambda r: httpx.Response(200, content=body))
    with pytest.raises(RateLimited, match="slow down"):
        [c async for c in make(upstream).stream_chat(request())]


async def test_error_event_with_numeric_code_uses_it_as_status() -> None:
    body = sse({"error": {"message": "provider down", "code": 502}})
    upstream = Upstream(lambda r: httpx.Response(200, content=body))
    with pytest.raises(ProviderUnavailable, match="provider down"):
        [c async for c in make(upstream).stream_chat(request())]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, UpstreamBadRequest),
        (401, UpstreamAuthError),
        (429, RateLimited),
        (500, ProviderUnavailable),
        (503, ProviderUnavailable),
    ],
)
async def test_http_errors_map_to_the_error_tree(status: int, error: type) -> None:
    upstream = Upstream(lambda r: httpx.Response(status, json={"error": {"message": "nope"}}))
    provider = make(upstream)
    with pytest.raises(error, match="nope"):
        await provider.chat(request())
    with pytest.raises(error, match="nope"):
        [c async for c in provider.stream_chat(request())]


async def test_timeouts_and_connect_errors_never_leak_httpx() -> None:
    def timeout(r: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=r)

    def refused(r: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=r)

    with pytest.raises(ProviderTimeout):
        await make(Upstream(timeout)).chat(request())
    with pytest.raises(ProviderUnavailable):
        [c async for c in make(Upstream(refused)).stream_chat(request())]


async def test_invalid_json_from_upstream_is_provider_unavailable() -> None:
    upstream = Upstream(lambda r: httpx.Response(200, content=b"<html>oops"))
    with pytest.raises(ProviderUnavailable, match="invalid JSON"):
        await make(upstream).chat(request())


async def test_list_models_uses_the_upstream_list_with_gateway_ids() -> None:
    models = await make(Upstream()).list_models()
    assert [m.id for m in models] == ["local/m1"]
    assert models[0].upstream_id == "m1" and models[0].prompt_price is None


async def test_configured_models_replace_the_upstream_list() -> None:
    upstream = Upstream()
    models = await make(upstream, models=["a", "b/c"]).list_models()
    assert [m.id for m in models] == ["local/a", "local/b/c"]
    assert upstream.requests == []


async def test_images_post_to_images_generations() -> None:
    upstream = Upstream()
    result = await make(upstream).images(ImageRequest(prompt="a cat", model="img-1", n=1))
    assert upstream.requests[-1].url.path == "/v1/images/generations"
    assert upstream.last_body == {"prompt": "a cat", "model": "img-1", "n": 1}
    assert result.data[0].url == "https://x/1.png"


async def test_no_auth_header_without_api_key() -> None:
    upstream = Upstream()
    await make(upstream, api_key=None).chat(request())
    assert "authorization" not in upstream.requests[-1].headers


async def test_subclasses_can_remap_http_errors_in_one_place() -> None:
    class QuotaAware(OpenAICompatibleProvider):
        async def check_response(self, response: httpx.Response) -> None:
            if response.status_code == 429:
                raise UpstreamBadRequest("out of credit", provider=self.name)
            await super().check_response(response)

    upstream = Upstream(lambda r: httpx.Response(429, json={"error": {"message": "quota"}}))
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    provider = QuotaAware("q", base_url="http://u/v1", api_key=None, client=client)
    with pytest.raises(UpstreamBadRequest, match="out of credit"):
        await provider.chat(request())
    with pytest.raises(UpstreamBadRequest, match="out of credit"):
        [c async for c in provider.stream_chat(request())]
    with pytest.raises(UpstreamBadRequest, match="out of credit"):
        await provider.list_models()


async def test_usage_on_a_chunk_with_choices_moves_to_its_own_final_chunk() -> None:
    last = chunk(None, finish="stop")
    last["usage"] = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    body = sse(chunk("a"), last, "[DONE]")
    upstream = Upstream(lambda r: httpx.Response(200, content=body))
    chunks = [c async for c in make(upstream).stream_chat(request())]
    assert [len(c.choices) for c in chunks] == [1, 1, 0]
    assert chunks[1].choices[0].finish_reason == "stop" and chunks[1].usage is None
    assert chunks[2].usage is not None and chunks[2].usage.total_tokens == 4
    assert chunks[2].id == chunks[1].id
