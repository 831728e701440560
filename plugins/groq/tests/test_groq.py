"""The Groq adapter against fixtures written from Groq's docs (providers.md §4)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

import freeway_provider_groq as plugin
from freeway.errors import ProviderUnavailable, RateLimited, UpstreamBadRequest
from freeway.providers import ChatRequest, ImageRequest, encode
from freeway.testing import FixtureUpstream, ProviderContract
from freeway_provider_groq.provider import DEFAULT_BASE_URL, GroqProvider

FIXTURES = Path(__file__).parent / "fixtures"
ROUTES = {
    "GET /models": "models.json",
    "POST /chat/completions": "chat.json",
    "POST /chat/completions stream": "chat_stream.sse",
}


def serve(**overrides: str) -> FixtureUpstream:
    return FixtureUpstream(FIXTURES, {**ROUTES, **overrides})


def make(upstream, **kw) -> GroqProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    return GroqProvider(api_key="gsk_test", client=client, **kw)


def chat(model: str = "llama-3.1-8b-instant", **kw) -> ChatRequest:
    kw.setdefault("messages", [{"role": "user", "content": "hi"}])
    return ChatRequest(model=model, **kw)


class TestGroqContract(ProviderContract):
    model = "llama-3.1-8b-instant"

    def make_provider(self, client: httpx.AsyncClient) -> GroqProvider:
        return GroqProvider(api_key="gsk_test", client=client)

    def upstream(self, request: httpx.Request) -> httpx.Response:
        return serve()(request)


# --- models --------------------------------------------------------------------------


async def test_models_skip_inactive_speech_and_guard_models() -> None:
    ids = [m.upstream_id for m in await make(serve()).list_models()]
    assert ids == [
        "llama-3.1-8b-instant",
        "llama-3.3-70b-versatile",
        "meta-llama/llama-4-scout-17b-16e-instruct",
        "qwen/qwen3-32b",
        "some-lab/brand-new-model",
    ]


async def test_models_take_context_window_and_table_prices() -> None:
    models = {m.upstream_id: m for m in await make(serve()).list_models()}
    fast = models["llama-3.1-8b-instant"]
    assert fast.id == "groq/llama-3.1-8b-instant" and fast.context_length == 131072
    assert (fast.prompt_price, fast.completion_price) == (0.05, 0.08)
    assert fast.is_free is False
    assert models["meta-llama/llama-4-scout-17b-16e-instruct"].input_modalities == [
        "text",
        "image",
    ]
    unknown = models["some-lab/brand-new-model"]
    assert unknown.prompt_price is None and unknown.context_length == 32768


async def test_free_tier_lists_every_model_as_free() -> None:
    models = await make(serve(), free_tier=True).list_models()
    assert all(m.is_free and m.prompt_price == 0 and m.completion_price == 0 for m in models)


# --- request mapping -----------------------------------------------------------------


async def test_unsupported_fields_and_message_names_are_dropped() -> None:
    upstream = serve()
    request = chat(
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi", "name": "alice"},
            {"role": "assistant", "content": "hello", "function_call": None, "name": "bot"},
            {"role": "user", "content": "again"},
        ],
        logprobs=True,
        top_logprobs=2,
        extra={"logit_bias": {"50256": -100}, "reasoning_format": "parsed"},
    )
    await make(upstream).chat(request)
    body = upstream.body()
    assert "logprobs" not in body and "top_logprobs" not in body and "logit_bias" not in body
    assert body["reasoning_format"] == "parsed"  # Groq's own knobs pass through
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "again"},
    ]


async def test_assistant_tool_call_with_null_content_keeps_content() -> None:
    upstream = serve()
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [call], "function_call": None},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    await make(upstream).chat(chat(messages=messages))
    assert upstream.body()["messages"][1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [call],
    }


async def test_n_above_one_is_refused_before_calling_groq() -> None:
    upstream = serve()
    with pytest.raises(UpstreamBadRequest, match="n=1") as caught:
        await make(upstream).chat(chat(n=3))
    assert caught.value.param == "n" and caught.value.retryable is False
    assert upstream.requests == []
    await make(upstream).chat(chat(n=1))
    assert upstream.body()["n"] == 1


async def test_temperature_zero_and_json_mode_with_stream_are_sent_as_given() -> None:
    upstream = serve()
    request = chat(temperature=0, response_format={"type": "json_object"}, stream=True)
    [c async for c in make(upstream).stream_chat(request)]
    body = upstream.body()
    assert body["temperature"] == 0 and body["stream"] is True
    assert body["response_format"] == {"type": "json_object"}
    assert "stream_options" not in body  # usage comes in x_groq.usage


# --- response and stream -------------------------------------------------------------


async def test_stream_usage_from_x_groq_becomes_a_final_usage_chunk() -> None:
    chunks = [c async for c in make(serve()).stream_chat(chat(stream=True))]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "Hello there!"
    )
    finish, usage = chunks[-2], chunks[-1]
    assert finish.choices[0].finish_reason == "stop" and finish.usage is None
    assert usage.choices == [] and usage.id == finish.id
    assert (usage.usage.prompt_tokens, usage.usage.completion_tokens) == (14, 3)
    assert all("x_groq" not in json.loads(encode(c)) for c in chunks)


async def test_reasoning_deltas_are_kept() -> None:
    upstream = serve(**{"POST /chat/completions stream": "stream_reasoning.sse"})
    chunks = [c async for c in make(upstream).stream_chat(chat("qwen/qwen3-32b", stream=True))]
    reasoning = "".join(ch.delta.reasoning or "" for c in chunks for ch in c.choices)
    assert reasoning == "The user says hi."
    assert chunks[-1].usage.completion_tokens_details == {"reasoning_tokens": 6}


async def test_service_tier_outside_openais_enum_is_not_forwarded() -> None:
    response = await make(serve()).chat(chat())
    assert response.usage.total_tokens == 574  # timing fields do not break parsing
    assert "service_tier" not in json.loads(encode(response))
    assert "x_groq" not in json.loads(encode(response))


async def test_think_tags_stay_inside_content() -> None:
    upstream = serve(**{"POST /chat/completions": "chat_think.json"})
    message = (await make(upstream).chat(chat("qwen/qwen3-32b"))).choices[0].message
    assert message.content.startswith("<think>") and message.content.endswith("Hello!")


async def test_images_are_refused_with_a_clear_message() -> None:
    with pytest.raises(UpstreamBadRequest, match="does not generate images"):
        await make(serve()).images(ImageRequest(prompt="a cat"))


# --- errors and rate limits ----------------------------------------------------------


def answer(status: int, file: str, headers: dict[str, str]):
    content = (FIXTURES / file).read_bytes()
    return lambda request: httpx.Response(status, content=content, headers=headers)


async def test_429_prefers_retry_after() -> None:
    headers = {"retry-after": "3", "x-ratelimit-reset-requests": "2m59.56s"}
    with pytest.raises(RateLimited, match="tokens per minute") as caught:
        await make(answer(429, "error_429_tpm.json", headers)).chat(chat())
    assert caught.value.retry_after == 3


async def test_429_waits_for_the_exhausted_limit_not_the_daily_request_reset() -> None:
    headers = {
        "x-ratelimit-limit-requests": "14400",  # per day
        "x-ratelimit-remaining-requests": "14370",
        "x-ratelimit-reset-requests": "2m59.56s",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "7.66s",
    }
    with pytest.raises(RateLimited) as caught:
        await make(answer(429, "error_429_tpm.json", headers)).chat(chat())
    assert caught.value.retry_after == pytest.approx(7.66)


async def test_429_without_headers_reads_try_again_from_the_message() -> None:
    with pytest.raises(RateLimited) as caught:
        await make(answer(429, "error_429_tpm.json", {})).chat(chat())
    assert caught.value.retry_after == pytest.approx(5.289)


async def test_498_flex_capacity_is_retryable() -> None:
    provider = make(answer(498, "error_498.json", {}))
    with pytest.raises(ProviderUnavailable, match="capacity") as caught:
        await provider.chat(chat())
    assert caught.value.retryable
    with pytest.raises(ProviderUnavailable):
        [c async for c in provider.stream_chat(chat(stream=True))]


async def test_413_request_too_large_is_not_retried() -> None:
    body = {"error": {"message": "Request too large", "type": "invalid_request_error"}}
    provider = make(lambda r: httpx.Response(413, json=body))
    with pytest.raises(UpstreamBadRequest) as caught:
        await provider.chat(chat())
    assert caught.value.retryable is False


# --- the hook ------------------------------------------------------------------------


def test_hook_returns_nothing_without_a_key_and_says_why(make_settings, caplog) -> None:
    with caplog.at_level(logging.INFO):
        assert plugin.freeway_providers(settings=make_settings()) == []
    assert "GROQ_API_KEY" in caplog.text


def test_hook_builds_the_provider_from_settings(make_settings) -> None:
    [provider] = plugin.freeway_providers(settings=make_settings(GROQ_API_KEY="gsk_1"))
    assert provider.name == "groq" and provider.base_url == DEFAULT_BASE_URL
    assert provider.free_tier is False
    [custom] = plugin.freeway_providers(
        settings=make_settings(
            GROQ_API_KEY="gsk_1", GROQ_BASE_URL="http://groq.test/v1", GROQ_FREE_TIER="true"
        )
    )
    assert custom.base_url == "http://groq.test/v1" and custom.free_tier is True
