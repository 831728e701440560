"""OpenRouter chat and streaming quirks (providers.md §2.2–§2.7)."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from freeway.errors import (
    ProviderUnavailable,
    RateLimited,
    UpstreamAuthError,
    UpstreamBadRequest,
)
from freeway.providers import ChatRequest, decode_chat_request
from freeway_provider_openrouter import freeway_providers
from freeway_provider_openrouter.provider import OpenRouterProvider


def request(model: str = "deepseek/deepseek-r1", **fields) -> ChatRequest:
    body = {"model": model, "messages": [{"role": "user", "content": "Capital of France?"}]}
    body.update(fields)
    return decode_chat_request(json.dumps(body).encode())


async def collect(provider, req: ChatRequest) -> list:
    return [chunk async for chunk in provider.stream_chat(req)]


# --- request mapping -------------------------------------------------------------


async def test_openrouter_routing_fields_reach_upstream_unchanged(provider, upstream) -> None:
    extras = {
        "provider": {"order": ["DeepInfra"], "allow_fallbacks": False, "sort": "price"},
        "models": ["deepseek/deepseek-r1", "openai/gpt-4o-mini"],
        "reasoning": {"effort": "high", "exclude": False},
        "transforms": ["middle-out"],
        "top_k": 40,
    }
    await provider.chat(request(**extras))

    sent = upstream.bodies()[0]
    for key, value in extras.items():
        assert sent[key] == value
    assert sent["model"] == "deepseek/deepseek-r1"
    assert "stream" not in sent


async def test_calls_carry_the_key_and_optional_attribution_headers(upstream) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as client:
        plain = OpenRouterProvider(api_key="sk-or-v1-a", client=client)
        branded = OpenRouterProvider(
            api_key="sk-or-v1-b", client=client, site_url="https://example.org", app_name="Freeway"
        )
        await plain.chat(request())
        await branded.chat(request())

    first, second = upstream.requests
    assert first.headers["authorization"] == "Bearer sk-or-v1-a"
    assert "http-referer" not in first.headers and "x-title" not in first.headers
    assert second.headers["http-referer"] == "https://example.org"
    assert second.headers["x-title"] == "Freeway"
    assert str(first.url) == "https://openrouter.ai/api/v1/chat/completions"


# --- responses -------------------------------------------------------------------


async def test_reasoning_is_kept_and_extra_fields_do_not_break_parsing(provider) -> None:
    response = await provider.chat(request())

    message = response.choices[0].message
    assert message.content == "Paris is the capital of France."
    assert message.reasoning == "The user asks for the capital of France. That is Paris."
    assert response.id.startswith("gen-")
    assert response.usage.prompt_tokens == 14
    assert response.usage.cost == pytest.approx(0.0000611)  # what OpenRouter charged, USD
    assert response.usage.completion_tokens_details == {"reasoning_tokens": 13, "image_tokens": 0}


async def test_response_reports_the_model_that_actually_served(provider, upstream) -> None:
    upstream.chat = "chat_auto_routed.json"
    response = await provider.chat(request("openrouter/auto"))

    assert upstream.bodies()[0]["model"] == "openrouter/auto"
    assert response.model == "anthropic/claude-3.5-haiku"
    # The normalized reason, not native_finish_reason ("max_tokens").
    assert response.choices[0].finish_reason == "length"


async def test_tool_calls_with_empty_content_are_an_answer(provider, upstream) -> None:
    upstream.chat = "chat_tool_calls.json"
    response = await provider.chat(request("openai/gpt-4o-mini"))

    call = response.choices[0].message.tool_calls[0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert response.choices[0].finish_reason == "tool_calls"


async def test_finish_reason_error_in_a_200_answer_is_a_retryable_failure(
    provider, upstream
) -> None:
    upstream.chat = "chat_error_finish.json"
    with pytest.raises(ProviderUnavailable) as caught:
        await provider.chat(request("google/gemma-3-27b-it:free"))

    assert caught.value.retryable
    assert "Provider returned error" in caught.value.message
    assert "Chutes" in caught.value.message  # metadata.provider_name is named


async def test_empty_200_answer_is_retryable_not_an_empty_reply(provider, upstream) -> None:
    upstream.chat = "chat_empty_content.json"
    with pytest.raises(ProviderUnavailable) as caught:
        await provider.chat(request("meta-llama/llama-3.3-70b-instruct"))
    assert caught.value.retryable
    assert "no content" in caught.value.message


async def test_empty_answer_cut_off_by_max_tokens_is_returned(provider, upstream) -> None:
    data = upstream.json("chat_empty_content.json")
    data["choices"][0]["finish_reason"] = "length"
    upstream.chat = lambda r: httpx.Response(200, json=data)

    response = await provider.chat(request(max_tokens=1))
    assert response.choices[0].finish_reason == "length"


# --- streaming -------------------------------------------------------------------


@pytest.mark.parametrize("piece_size", [1, 7, 64, 100_000])
async def test_processing_comments_are_skipped_at_any_chunk_boundary(
    provider, upstream, piece_size
) -> None:
    upstream.stream = upstream.in_pieces("stream.sse", piece_size)
    chunks = await collect(provider, request(stream=True))

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Paris is the capital."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[0].choices[0].delta.reasoning == "Capital of France"


async def test_stream_usage_arrives_last_even_when_not_asked(provider, upstream) -> None:
    chunks = await collect(provider, request(stream=True))

    assert upstream.bodies()[0]["stream"] is True
    assert chunks[-1].choices == []
    assert chunks[-1].usage.total_tokens == 23
    assert chunks[-1].usage.cost == pytest.approx(0.0000236)
    assert all(c.usage is None for c in chunks[:-1])


async def test_mid_stream_error_event_raises_after_the_tokens_sent(provider, upstream) -> None:
    upstream.stream = "stream_midstream_error.sse"
    received = []
    with pytest.raises(ProviderUnavailable) as caught:
        async for chunk in provider.stream_chat(request("google/gemma-3-27b-it:free", stream=True)):
            received.append(chunk)

    assert [c.choices[0].delta.content for c in received] == ["The first"]
    assert "Provider disconnected unexpectedly" in caught.value.message


async def test_finish_reason_error_without_error_object_still_fails(provider, upstream) -> None:
    event = {
        "id": "gen-x",
        "model": "m",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
    }
    body = f"data: {json.dumps(event)}\n\ndata: [DONE]\n\n".encode()
    upstream.stream = lambda r: httpx.Response(200, content=body)

    with pytest.raises(ProviderUnavailable):
        await collect(provider, request(stream=True))


async def test_streamed_tool_call_fragments_pass_through_in_order(provider, upstream) -> None:
    upstream.stream = "stream_tool_calls.sse"
    chunks = await collect(provider, request("openai/gpt-4o-mini", stream=True))

    calls = [tc for c in chunks for ch in c.choices for tc in ch.delta.tool_calls or []]
    assert calls[0]["id"] == "call_abc123"
    assert calls[0]["function"]["name"] == "get_weather"
    assert "".join(tc["function"]["arguments"] for tc in calls) == '{"city":"Paris"}'
    assert chunks[-1].usage.completion_tokens == 16


async def test_streamed_images_arrive_in_delta_images(provider, upstream) -> None:
    upstream.stream = "stream_image.sse"
    chunks = await collect(provider, request("google/gemini-2.5-flash-image", stream=True))

    images = [i for c in chunks for ch in c.choices for i in ch.delta.images or []]
    assert images[0]["image_url"]["url"].startswith("data:image/png;base64,")


# --- errors ----------------------------------------------------------------------


async def test_out_of_credits_402_is_not_retried(provider, upstream) -> None:
    upstream.fail_with("error_402.json", 402)
    with pytest.raises(UpstreamBadRequest) as caught:
        await provider.chat(request())
    assert caught.value.retryable is False
    assert caught.value.code == "insufficient_quota"
    assert "requires more credits" in caught.value.message


async def test_moderation_403_is_a_content_policy_refusal(provider, upstream) -> None:
    upstream.fail_with("error_403_moderation.json", 403)
    with pytest.raises(UpstreamBadRequest) as caught:
        await provider.chat(request("openai/gpt-4o-mini"))
    assert caught.value.code == "content_filter"
    assert caught.value.retryable is False
    assert "flagged" in caught.value.message


async def test_bad_key_401_is_an_upstream_auth_error(provider, upstream) -> None:
    upstream.fail_with("error_401.json", 401)
    with pytest.raises(UpstreamAuthError) as caught:
        await provider.chat(request())
    assert caught.value.retryable is False
    assert "No auth credentials found" in caught.value.message


async def test_429_uses_metadata_retry_after_when_no_header(provider, upstream) -> None:
    upstream.fail_with("error_429.json", 429)
    with pytest.raises(RateLimited) as caught:
        await provider.chat(request("google/gemma-3-27b-it:free"))
    assert caught.value.retry_after == pytest.approx(17)
    assert "temporarily rate-limited upstream" in caught.value.message

    with pytest.raises(RateLimited) as streamed:
        await collect(provider, request("google/gemma-3-27b-it:free", stream=True))
    assert streamed.value.retry_after == pytest.approx(17)


async def test_429_retry_after_header_wins_over_metadata(provider, upstream) -> None:
    upstream.fail_with("error_429.json", 429, headers={"retry-after": "3"})
    with pytest.raises(RateLimited) as caught:
        await provider.chat(request())
    assert caught.value.retry_after == pytest.approx(3)


@pytest.mark.parametrize(("fixture", "status"), [("error_502.json", 502), ("error_503.json", 503)])
async def test_provider_down_is_retryable_and_named(provider, upstream, fixture, status) -> None:
    upstream.fail_with(fixture, status)
    with pytest.raises(ProviderUnavailable) as caught:
        await provider.chat(request())
    assert caught.value.retryable
    if status == 502:
        assert "Together" in caught.value.message


async def test_invalid_model_400_is_a_bad_request(provider, upstream) -> None:
    upstream.fail_with("error_400.json", 400)
    with pytest.raises(UpstreamBadRequest) as caught:
        await provider.chat(request())
    assert "is not a valid model ID" in caught.value.message


# --- plugin hook -----------------------------------------------------------------


def test_plugin_without_key_offers_nothing_and_says_why(make_settings, caplog) -> None:
    with caplog.at_level(logging.INFO):
        assert freeway_providers(settings=make_settings()) == []
    assert "OPENROUTER_API_KEY" in caplog.text


def test_plugin_reads_key_base_url_and_attribution_settings(make_settings) -> None:
    settings = make_settings(
        OPENROUTER_API_KEY="sk-or-v1-live",
        OPENROUTER_BASE_URL="https://or.internal/api/v1/",
        OPENROUTER_SITE_URL="https://example.org",
        OPENROUTER_APP_NAME="Freeway",
    )
    [provider] = freeway_providers(settings=settings)

    assert provider.name == "openrouter"
    assert provider.url("/models") == "https://or.internal/api/v1/models"
    headers = provider.headers()
    assert headers["authorization"] == "Bearer sk-or-v1-live"
    assert headers["HTTP-Referer"] == "https://example.org"
    assert headers["X-Title"] == "Freeway"


def test_plugin_defaults_to_the_public_base_url(make_settings) -> None:
    [provider] = freeway_providers(settings=make_settings(OPENROUTER_API_KEY="k"))
    assert provider.url("/chat/completions") == "https://openrouter.ai/api/v1/chat/completions"
