"""The OpenAI adapter against fixtures written from OpenAI's API reference."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

import freeway_provider_openai as plugin
from freeway.errors import RateLimited, UpstreamBadRequest
from freeway.providers import ChatRequest, ImageRequest
from freeway.testing import FixtureUpstream, ProviderContract
from freeway_provider_openai.provider import DEFAULT_BASE_URL, OpenAIProvider

FIXTURES = Path(__file__).parent / "fixtures"
ROUTES = {
    "GET /models": "models.json",
    "POST /chat/completions": "chat.json",
    "POST /chat/completions stream": "chat_stream.sse",
    "POST /images/generations": "image_url.json",
}


def serve(**overrides: str) -> FixtureUpstream:
    """The fixture upstream; ``overrides`` map a route key to another file."""
    return FixtureUpstream(FIXTURES, {**ROUTES, **overrides})


def make(upstream, **kw) -> OpenAIProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    return OpenAIProvider(api_key="sk-test", client=client, **kw)


def chat(model: str = "gpt-4o-mini", **kw) -> ChatRequest:
    return ChatRequest(model=model, messages=[{"role": "user", "content": "hi"}], **kw)


class TestOpenAIContract(ProviderContract):
    model = "gpt-4o-mini"

    def make_provider(self, client: httpx.AsyncClient) -> OpenAIProvider:
        return OpenAIProvider(api_key="sk-test", client=client)

    def upstream(self, request: httpx.Request) -> httpx.Response:
        return serve()(request)


# --- models and prices ---------------------------------------------------------------


async def test_only_chat_and_image_models_are_listed() -> None:
    models = {m.upstream_id: m for m in await make(serve()).list_models()}
    assert set(models) == {
        "gpt-4o",
        "gpt-4o-mini-2024-07-18",
        "o3-mini",
        "gpt-3.5-turbo-0125",
        "gpt-4.5-preview",
        "dall-e-3",
        "gpt-image-1",
    }


async def test_chat_models_carry_the_price_table() -> None:
    models = {m.upstream_id: m for m in await make(serve()).list_models()}
    mini = models["gpt-4o-mini-2024-07-18"]  # a dated snapshot takes its family's row
    assert (mini.prompt_price, mini.completion_price) == (0.15, 0.60)
    assert mini.context_length == 128_000
    assert mini.input_modalities == ["text", "image"] and mini.output_modalities == ["text"]
    assert mini.is_free is False and mini.supports_tools is True
    assert models["o3-mini"].input_modalities == ["text"]
    assert models["gpt-3.5-turbo-0125"].context_length == 16_385


async def test_a_chat_model_newer_than_the_table_is_listed_unpriced() -> None:
    models = {m.upstream_id: m for m in await make(serve()).list_models()}
    newer = models["gpt-4.5-preview"]
    assert newer.prompt_price is None and newer.completion_price is None
    assert newer.context_length is None


async def test_image_models_have_a_per_image_price_and_image_output() -> None:
    models = {m.upstream_id: m for m in await make(serve()).list_models()}
    assert models["dall-e-3"].makes_images and models["dall-e-3"].image_price == 0.040
    assert models["gpt-image-1"].output_modalities == ["image"]
    assert models["gpt-image-1"].prompt_price is None


# --- chat quirks ---------------------------------------------------------------------


async def test_content_null_with_tool_calls_passes_through() -> None:
    upstream = FixtureUpstream(
        FIXTURES, {**ROUTES, "POST /chat/completions": "chat_tool_calls.json"}
    )
    response = await make(upstream).chat(chat())
    message = response.choices[0].message
    assert message.content is None
    assert message.tool_calls[0]["function"]["name"] == "get_current_weather"
    assert json.loads(message.tool_calls[0]["function"]["arguments"]) == {"location": "Boston, MA"}
    assert response.choices[0].finish_reason == "tool_calls"


async def test_refusal_is_kept_while_content_is_null() -> None:
    upstream = FixtureUpstream(FIXTURES, {**ROUTES, "POST /chat/completions": "chat_refusal.json"})
    message = (await make(upstream).chat(chat())).choices[0].message
    assert message.content is None
    assert message.refusal == "I'm sorry, I can't help with that request."


async def test_streamed_tool_call_fragments_join_into_one_call() -> None:
    upstream = FixtureUpstream(FIXTURES, {"POST /chat/completions stream": "stream_tool_calls.sse"})
    chunks = [c async for c in make(upstream).stream_chat(chat(stream=True))]
    fragments = [tc for c in chunks for ch in c.choices for tc in ch.delta.tool_calls or []]
    assert fragments[0]["id"] == "call_DdmO9pD3xa9XTPNJ32zg2hcA"
    assert fragments[0]["function"]["arguments"] == ""  # first fragment: empty arguments
    arguments = "".join(f["function"].get("arguments", "") for f in fragments)
    assert json.loads(arguments) == {"location": "Paris"}
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 75


async def test_length_cut_tool_call_keeps_its_partial_arguments_verbatim() -> None:
    upstream = FixtureUpstream(
        FIXTURES, {"POST /chat/completions stream": "stream_length_tool_call.sse"}
    )
    chunks = [c async for c in make(upstream).stream_chat(chat(stream=True))]
    fragments = [tc for c in chunks for ch in c.choices for tc in ch.delta.tool_calls or []]
    arguments = "".join(f["function"].get("arguments", "") for f in fragments)
    assert arguments == '{"text": "Once upon'  # incomplete JSON, not parsed or "fixed"
    assert [ch.finish_reason for c in chunks for ch in c.choices if ch.finish_reason] == ["length"]


async def test_reasoning_model_gets_max_completion_tokens_and_no_sampling_knobs() -> None:
    upstream = serve()
    await make(upstream).chat(chat("o3-mini", max_tokens=100, temperature=0.2, top_p=0.9))
    body = upstream.body()
    assert body["max_completion_tokens"] == 100
    assert "max_tokens" not in body and "temperature" not in body and "top_p" not in body


async def test_reasoning_model_keeps_an_explicit_max_completion_tokens() -> None:
    upstream = serve()
    await make(upstream).chat(chat("o4-mini-2025-04-16", max_tokens=10, max_completion_tokens=50))
    assert upstream.body()["max_completion_tokens"] == 50
    assert "max_tokens" not in upstream.body()


async def test_other_models_receive_the_request_unchanged() -> None:
    upstream = serve()
    request = chat("gpt-4o", max_tokens=100, temperature=0.2, extra={"service_tier": "flex"})
    await make(upstream).chat(request)
    assert upstream.body() == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 100,
        "temperature": 0.2,
        "service_tier": "flex",
    }


async def test_stream_request_forces_include_usage() -> None:
    upstream = serve()
    [c async for c in make(upstream).stream_chat(chat(stream=True))]
    assert upstream.body()["stream_options"] == {"include_usage": True}


# --- errors --------------------------------------------------------------------------


def answer(status: int, file: str, headers: dict | None = None):
    content = (FIXTURES / file).read_bytes()
    return lambda request: httpx.Response(status, content=content, headers=headers or {})


async def test_400_for_max_tokens_is_a_bad_request_with_openais_message() -> None:
    provider = make(answer(400, "error_400_max_tokens.json"))
    with pytest.raises(UpstreamBadRequest, match="max_completion_tokens") as caught:
        await provider.chat(chat("gpt-5-mini-future"))
    assert caught.value.retryable is False


async def test_insufficient_quota_429_is_not_retried() -> None:
    provider = make(answer(429, "error_429_quota.json"))
    with pytest.raises(UpstreamBadRequest, match="exceeded your current quota") as caught:
        await provider.chat(chat())
    assert caught.value.retryable is False and caught.value.code == "insufficient_quota"
    with pytest.raises(UpstreamBadRequest):
        [c async for c in provider.stream_chat(chat(stream=True))]


async def test_rate_limit_429_is_retryable_and_reads_the_reset_header() -> None:
    headers = {"x-ratelimit-reset-requests": "20s", "x-ratelimit-reset-tokens": "6m0s"}
    provider = make(answer(429, "error_429_rate_limit.json", headers))
    with pytest.raises(RateLimited) as caught:
        await provider.chat(chat())
    assert caught.value.retryable and caught.value.retry_after == 360


# --- images --------------------------------------------------------------------------


async def test_images_return_urls_with_revised_prompt() -> None:
    upstream = serve()
    result = await make(upstream).images(ImageRequest(prompt="a cat", model="dall-e-3", n=1))
    assert upstream.requests[-1].url.path == "/v1/images/generations"
    assert upstream.body() == {"prompt": "a cat", "model": "dall-e-3", "n": 1}
    assert result.data[0].url.startswith("https://")
    assert result.data[0].revised_prompt.startswith("A photorealistic")


async def test_gpt_image_returns_base64_and_token_usage() -> None:
    upstream = FixtureUpstream(FIXTURES, {"POST /images/generations": "image_b64.json"})
    result = await make(upstream).images(ImageRequest(prompt="a cat", model="gpt-image-1"))
    assert result.data[0].b64_json.startswith("iVBOR") and result.data[0].url is None
    assert result.usage["total_tokens"] == 100


# --- settings and the hook -----------------------------------------------------------


async def test_organization_and_project_headers_are_sent() -> None:
    upstream = serve()
    await make(upstream, organization="org-1", project="proj_2").chat(chat())
    sent = upstream.requests[-1].headers
    assert sent["authorization"] == "Bearer sk-test"
    assert sent["openai-organization"] == "org-1" and sent["openai-project"] == "proj_2"


def test_hook_returns_nothing_without_a_key_and_says_why(make_settings, caplog) -> None:
    with caplog.at_level(logging.INFO):
        assert plugin.freeway_providers(settings=make_settings()) == []
    assert "OPENAI_API_KEY" in caplog.text


def test_hook_builds_the_provider_from_settings(make_settings) -> None:
    [provider] = plugin.freeway_providers(
        settings=make_settings(OPENAI_API_KEY="sk-1", OPENAI_PROJECT="proj_9")
    )
    assert provider.name == "openai" and provider.base_url == DEFAULT_BASE_URL
    assert provider.headers()["OpenAI-Project"] == "proj_9"
    [custom] = plugin.freeway_providers(
        settings=make_settings(OPENAI_API_KEY="sk-1", OPENAI_BASE_URL="http://proxy.test/v1/")
    )
    assert custom.base_url == "http://proxy.test/v1"
