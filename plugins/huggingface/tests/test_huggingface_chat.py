"""Hugging Face router chat and streaming quirks (providers.md §7.2–§7.7)."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from freeway.errors import ProviderUnavailable, RateLimited, UpstreamBadRequest
from freeway.providers import ChatRequest, decode_chat_request, encode
from freeway_provider_huggingface import freeway_providers
from freeway_provider_huggingface.provider import MAX_BODY_BYTES


def request(model: str = "meta-llama/Llama-3.1-8B-Instruct", **fields) -> ChatRequest:
    body = {"model": model, "messages": [{"role": "user", "content": "Capital of France?"}]}
    body.update(fields)
    return decode_chat_request(json.dumps(body).encode())


async def collect(provider, req: ChatRequest) -> list:
    return [chunk async for chunk in provider.stream_chat(req)]


def sse(*events: dict) -> bytes:
    return b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events) + b"data: [DONE]\n\n"


# --- model ids and provider selection --------------------------------------------


@pytest.mark.parametrize(
    "model",
    [
        "meta-llama/Llama-3.1-8B-Instruct:groq",
        "Qwen/Qwen3-8B:fastest",
        "Qwen/Qwen3-8B:cheapest",
        "Qwen/Qwen3-8B",
    ],
)
async def test_provider_and_policy_suffixes_reach_the_router_unchanged(
    provider, router, model
) -> None:
    response = await provider.chat(request(model))

    assert router.bodies()[0]["model"] == model
    assert str(router.requests[0].url) == "https://router.huggingface.co/v1/chat/completions"
    # The router's answer names the model without the suffix; it is reported as sent.
    assert response.model == "meta-llama/llama-3.1-8b-instruct"


async def test_serving_provider_header_is_logged_at_debug(provider, caplog) -> None:
    with caplog.at_level(logging.DEBUG, logger="freeway_provider_huggingface"):
        await provider.chat(request())
    assert "served by groq" in caplog.text


async def test_serving_provider_is_not_logged_above_debug(provider, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="freeway_provider_huggingface"):
        await provider.chat(request())
    assert "served by" not in caplog.text


# --- answers ---------------------------------------------------------------------


async def test_provider_specific_fields_are_not_forwarded(provider) -> None:
    response = await provider.chat(request())

    assert response.choices[0].message.content == "Paris is the capital of France."
    assert response.usage.total_tokens == 50
    sent_to_client = json.loads(encode(response))
    assert "x_groq" not in sent_to_client
    assert "queue_time" not in sent_to_client["usage"]
    assert "reasoning_content" not in sent_to_client["choices"][0]["message"]


async def test_reasoning_content_becomes_reasoning(provider, router) -> None:
    router.chat = "chat_reasoning.json"
    response = await provider.chat(request("Qwen/Qwen3-8B"))

    message = response.choices[0].message
    assert message.reasoning == "Simple arithmetic: two plus two is four."
    assert message.content == "2 + 2 = 4."


async def test_streamed_reasoning_content_becomes_reasoning(provider, router) -> None:
    base = {"id": "c", "object": "chat.completion.chunk", "model": "Qwen/Qwen3-8B"}
    body = sse(
        {**base, "choices": [{"index": 0, "delta": {"reasoning_content": "Think."}}]},
        {**base, "choices": [{"index": 0, "delta": {"content": "Done."}, "finish_reason": "stop"}]},
        {**base, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
    )
    router.stream = lambda r: httpx.Response(200, content=body)

    chunks = await collect(provider, request(stream=True))
    assert chunks[0].choices[0].delta.reasoning == "Think."
    assert chunks[1].choices[0].delta.content == "Done."


async def test_stream_asks_for_usage_and_ends_with_it(provider, router) -> None:
    chunks = await collect(provider, request("Qwen/Qwen3-8B", stream=True))

    assert router.bodies()[0]["stream_options"] == {"include_usage": True}
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello there!"
    assert chunks[-1].usage.total_tokens == 14


async def test_groq_served_stream_usage_comes_from_x_groq(provider, router) -> None:
    router.stream = "stream_groq.sse"
    chunks = await collect(provider, request("meta-llama/Llama-3.1-8B-Instruct:groq", stream=True))

    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.prompt_tokens == 12
    assert chunks[-1].usage.completion_tokens == 2
    assert all(c.usage is None for c in chunks[:-1])  # an x_groq without usage adds none


# --- the 2 MB request limit ------------------------------------------------------


def image_message(size: int) -> list[dict]:
    data = "A" * size
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this image?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
            ],
        }
    ]


@pytest.mark.parametrize("stream", [False, True])
async def test_body_over_2mb_is_refused_before_calling_the_router(provider, router, stream) -> None:
    big = request("google/gemma-3-27b-it", messages=image_message(MAX_BODY_BYTES), stream=stream)
    with pytest.raises(UpstreamBadRequest) as caught:
        if stream:
            await collect(provider, big)
        else:
            await provider.chat(big)

    assert router.requests == []
    assert caught.value.retryable is False
    assert caught.value.param == "messages"
    assert "2 MB" in caught.value.message


async def test_body_just_under_the_limit_is_sent(provider, router) -> None:
    await provider.chat(request(messages=image_message(MAX_BODY_BYTES - 1000)))
    assert len(router.requests[0].content) <= MAX_BODY_BYTES


# --- errors ----------------------------------------------------------------------


async def test_error_as_a_bare_string_is_read(provider, router) -> None:
    router.fail_with("error_400_string.json", 400)
    with pytest.raises(UpstreamBadRequest) as caught:
        await provider.chat(request("meta-llama/Llama-3.1-8B-Instruct:nebius"))
    assert "is not supported by provider nebius" in caught.value.message


async def test_error_as_an_object_is_read(provider, router) -> None:
    router.fail_with("error_404_object.json", 404)
    with pytest.raises(UpstreamBadRequest) as caught:
        await provider.chat(request("acme/unknown-model"))
    assert "does not exist" in caught.value.message


async def test_html_error_page_becomes_a_short_message(provider, router) -> None:
    router.fail_with("error_502.html", 502, kind="text/html")
    with pytest.raises(ProviderUnavailable) as caught:
        await provider.chat(request())
    assert caught.value.retryable
    assert "HTTP 502 Bad Gateway" in caught.value.message
    assert "<html>" not in caught.value.message

    with pytest.raises(ProviderUnavailable):
        await collect(provider, request(stream=True))


async def test_exhausted_credits_402_is_not_retried(provider, router) -> None:
    router.fail_with("error_402.json", 402)
    with pytest.raises(UpstreamBadRequest) as caught:
        await provider.chat(request())
    assert caught.value.code == "insufficient_quota"
    assert caught.value.retryable is False
    assert "monthly included credits" in caught.value.message


async def test_429_wait_is_read_from_the_message_when_no_header(provider, router) -> None:
    router.fail_with("error_429.json", 429)
    with pytest.raises(RateLimited) as caught:
        await provider.chat(request())
    assert caught.value.retry_after == pytest.approx(2.5)


async def test_429_retry_after_header_wins(provider, router) -> None:
    router.fail_with("error_429.json", 429, headers={"retry-after": "9"})
    with pytest.raises(RateLimited) as caught:
        await provider.chat(request())
    assert caught.value.retry_after == pytest.approx(9)


# --- plugin hook -----------------------------------------------------------------


def test_plugin_without_a_token_offers_nothing_and_says_why(make_settings, caplog) -> None:
    with caplog.at_level(logging.INFO):
        assert freeway_providers(settings=make_settings()) == []
    assert "HUGGINGFACE_API_KEY" in caplog.text and "HF_TOKEN" in caplog.text


def test_plugin_accepts_hf_token_when_the_api_key_is_unset(make_settings) -> None:
    [provider] = freeway_providers(settings=make_settings(HF_TOKEN="hf_from_hub_cli"))
    assert provider.name == "huggingface"
    assert provider.headers()["authorization"] == "Bearer hf_from_hub_cli"
    assert provider.url("/models") == "https://router.huggingface.co/v1/models"


def test_plugin_prefers_huggingface_api_key_over_hf_token(make_settings) -> None:
    settings = make_settings(HUGGINGFACE_API_KEY="hf_primary", HF_TOKEN="hf_other")
    [provider] = freeway_providers(settings=settings)
    assert provider.headers()["authorization"] == "Bearer hf_primary"


def test_plugin_reads_base_url_and_image_models(make_settings) -> None:
    settings = make_settings(
        HUGGINGFACE_API_KEY="hf_x",
        HUGGINGFACE_BASE_URL="https://hf-proxy.internal/v1",
        HUGGINGFACE_IMAGE_MODELS=" black-forest-labs/FLUX.1-schnell , ,stabilityai/sdxl ",
    )
    [provider] = freeway_providers(settings=settings)
    assert provider.url("/chat/completions") == "https://hf-proxy.internal/v1/chat/completions"
    assert provider.image_models == ["black-forest-labs/FLUX.1-schnell", "stabilityai/sdxl"]
    assert provider.image_url("m/x") == "https://hf-proxy.internal/hf-inference/models/m/x"
