"""Cohere answers → OpenAI objects through the adapter, on a mock upstream (§6.3–§6.7)."""

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
from freeway.providers.types import ChatChunk, ChatRequest, ImageRequest, encode

MODEL = "command-a-03-2025"


def request(**fields: Any) -> ChatRequest:
    fields.setdefault("messages", [{"role": "user", "content": "Hi"}])
    return ChatRequest(model=MODEL, **fields)


async def chat(connect, upstream, **fields: Any):
    async with connect(upstream) as provider:
        return await provider.chat(request(**fields))


async def stream(connect, upstream, **fields: Any) -> list[ChatChunk]:
    async with connect(upstream) as provider:
        return [c async for c in provider.stream_chat(request(stream=True, **fields))]


def text_of(chunks: list[ChatChunk]) -> str:
    return "".join(ch.delta.content or "" for c in chunks for ch in c.choices)


def finishes(chunks: list[ChatChunk]) -> list[str]:
    return [ch.finish_reason for c in chunks for ch in c.choices if ch.finish_reason]


async def test_chat_posts_v2_chat_with_bearer_auth(connect, cohere) -> None:
    upstream = cohere()
    await chat(connect, upstream)
    sent = upstream.requests[0]
    assert str(sent.url) == "https://cohere.test/v2/chat"
    assert sent.headers["authorization"] == "Bearer test-cohere-key"
    assert json.loads(sent.content) == {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Hi"}],
    }


async def test_content_blocks_join_into_one_string(connect, cohere) -> None:
    response = await chat(connect, cohere())
    assert response.id == "chatcmpl-c14c80c3-18eb-4519-9460-6c92edd8cfb4"
    assert response.model == MODEL
    assert response.choices[0].message.content == "Hello! How can I help you today?"
    assert response.choices[0].finish_reason == "stop"


async def test_usage_reports_model_tokens_not_billed_units(connect, cohere) -> None:
    usage = (await chat(connect, cohere())).usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (71, 9, 80)
    assert usage.prompt_tokens_details == {"cached_tokens": 64}


async def test_billed_units_are_used_when_tokens_are_missing(connect, cohere) -> None:
    usage = (await chat(connect, cohere(chat="chat_thinking.json"))).usage
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (8, 20)


async def test_thinking_blocks_become_reasoning(connect, cohere) -> None:
    message = (await chat(connect, cohere(chat="chat_thinking.json"))).choices[0].message
    assert message.content == "4"
    assert message.reasoning == "2 + 2 is 4."


async def test_tool_call_finish_and_tool_plan(connect, cohere) -> None:
    response = await chat(connect, cohere(chat="chat_tool_call.json"))
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.reasoning == "I will look up the weather in Toronto."
    assert choice.message.tool_calls == [
        {
            "id": "get_weather_1byjy32y4hvq",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"location":"Toronto"}'},
        }
    ]


@pytest.mark.parametrize(
    ("native", "expected"),
    [
        ("COMPLETE", "stop"),
        ("STOP_SEQUENCE", "stop"),
        ("MAX_TOKENS", "length"),
        ("TOOL_CALL", "tool_calls"),
    ],
)
async def test_finish_reasons_map_to_openai(connect, native: str, expected: str) -> None:
    answer = {
        "id": "x",
        "finish_reason": native,
        "message": {"role": "assistant", "content": [{"type": "text", "text": "x"}]},
    }
    response = await chat(connect, lambda r: httpx.Response(200, json=answer))
    assert response.choices[0].finish_reason == expected


@pytest.mark.parametrize(
    ("native", "error"), [("ERROR", ProviderUnavailable), ("TIMEOUT", ProviderTimeout)]
)
async def test_error_and_timeout_finishes_are_gateway_errors(
    connect, native: str, error: type
) -> None:
    answer = {"id": "x", "finish_reason": native, "message": {"role": "assistant", "content": []}}
    with pytest.raises(error) as caught:
        await chat(connect, lambda r: httpx.Response(200, json=answer))
    assert caught.value.retryable


async def test_stream_sends_stream_true_and_ends_without_done(connect, cohere) -> None:
    upstream = cohere()
    chunks = await stream(connect, upstream)
    sent = json.loads(upstream.requests[0].content)
    assert sent["stream"] is True
    assert upstream.requests[0].headers["accept"] == "text/event-stream"
    assert text_of(chunks) == "Hello there!"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert sum(ch.delta.role == "assistant" for c in chunks for ch in c.choices) == 1
    assert {c.id for c in chunks} == {"chatcmpl-29f14a5a-11de-4cae-9800-25e4747408ea"}
    assert finishes(chunks) == ["stop"]
    for chunk in chunks:
        json.loads(encode(chunk))


async def test_message_end_carries_finish_and_usage(connect, cohere) -> None:
    chunks = await stream(connect, cohere())
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (69, 3)
    assert [c for c in chunks if c.usage is not None] == [chunks[-1]]


async def test_stream_tool_plan_comes_before_reassembled_tool_calls(connect, cohere) -> None:
    chunks = await stream(connect, cohere(stream="stream_tool_call.sse"))
    kinds = []
    for c in chunks:
        for ch in c.choices:
            if ch.delta.reasoning:
                kinds.append("plan")
            if ch.delta.tool_calls:
                kinds.append("call")
    assert kinds.index("plan") < kinds.index("call")
    plan = "".join(ch.delta.reasoning or "" for c in chunks for ch in c.choices)
    assert plan == "I will check both cities."
    calls: dict[int, dict[str, Any]] = {}
    for c in chunks:
        for ch in c.choices:
            for piece in ch.delta.tool_calls or []:
                call = calls.setdefault(piece["index"], {"id": None, "name": None, "arguments": ""})
                call["id"] = piece.get("id") or call["id"]
                call["name"] = piece.get("function", {}).get("name") or call["name"]
                call["arguments"] += piece["function"].get("arguments", "")
    assert sorted(calls) == [0, 1]
    assert calls[0]["id"] == "get_weather_abc" and calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"location": "Toronto"}
    assert json.loads(calls[1]["arguments"]) == {"location": "Paris"}
    assert finishes(chunks) == ["tool_calls"]
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 994


async def test_error_finish_mid_stream_raises_after_partial_text(connect, cohere) -> None:
    received: list[ChatChunk] = []
    async with connect(cohere(stream="stream_error.sse")) as provider:
        with pytest.raises(ProviderUnavailable, match="internal generation error"):
            async for chunk in provider.stream_chat(request(stream=True)):
                received.append(chunk)
    assert text_of(received) == "Partial"


async def test_stream_closed_before_message_end_is_an_error(connect, cohere) -> None:
    with pytest.raises(ProviderUnavailable, match="message-end"):
        await stream(connect, cohere(stream="stream_truncated.sse"))


async def test_invalid_key_is_an_auth_error(connect, load) -> None:
    error = load("error_unauthorized.json")
    async with connect(lambda r: httpx.Response(401, json=error)) as provider:
        with pytest.raises(UpstreamAuthError, match="invalid api token") as caught:
            await provider.chat(request())
        assert caught.value.retryable is False
        with pytest.raises(UpstreamAuthError):
            await provider.list_models()


async def test_trial_key_429_is_rate_limited(connect, load) -> None:
    error = load("error_rate_limited.json")
    async with connect(lambda r: httpx.Response(429, json=error)) as provider:
        with pytest.raises(RateLimited, match="Trial key") as caught:
            await provider.chat(request())
    assert caught.value.retryable


async def test_too_many_tokens_400_is_a_bad_request_with_the_message(connect, load) -> None:
    error = load("error_too_many_tokens.json")
    async with connect(lambda r: httpx.Response(400, json=error)) as provider:
        with pytest.raises(UpstreamBadRequest, match="too many tokens"):
            await provider.chat(request())


async def test_billing_402_is_insufficient_quota_and_not_retried(connect) -> None:
    async with connect(
        lambda r: httpx.Response(402, json={"message": "Please add a payment method"})
    ) as provider:
        with pytest.raises(UpstreamBadRequest) as caught:
            await provider.chat(request())
    assert caught.value.code == "insufficient_quota" and caught.value.retryable is False


async def test_models_come_from_v1_paged_and_chat_only(connect, cohere) -> None:
    upstream = cohere()
    async with connect(upstream) as provider:
        models = {m.upstream_id: m for m in await provider.list_models()}
    first, second = upstream.requests
    assert first.url.path == "/v1/models" and first.url.params["endpoint"] == "chat"
    assert second.url.params["page_token"] == "page-2-token"
    assert set(models) == {"command-a-03-2025", "command-a-vision-07-2025", "command-r7b-12-2024"}
    command_a = models["command-a-03-2025"]
    assert command_a.id == "cohere/command-a-03-2025" and command_a.context_length == 256000
    assert command_a.supports_tools is True and command_a.is_free is False
    assert command_a.prompt_price is None and command_a.completion_price is None
    assert models["command-a-vision-07-2025"].input_modalities == ["text", "image"]
    assert models["command-a-vision-07-2025"].supports_tools is False


async def test_images_are_refused(connect, cohere) -> None:
    async with connect(cohere()) as provider:
        assert provider.supports_images is False
        with pytest.raises(UpstreamBadRequest, match="no image"):
            await provider.images(ImageRequest(prompt="a cat"))
