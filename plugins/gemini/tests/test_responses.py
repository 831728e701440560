"""Gemini answers → OpenAI objects through the adapter, on a mock upstream (§3.3–§3.8)."""

from __future__ import annotations

import json
import logging
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
from freeway_provider_gemini.translate import SIGNATURE_MARK, to_gemini

MODEL = "gemini-2.5-flash"


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


async def test_chat_posts_generate_content_with_the_key_header(connect, gemini) -> None:
    upstream = gemini()
    await chat(connect, upstream)
    sent = upstream.requests[0]
    assert sent.url.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == "test-gemini-key"
    assert "key" not in sent.url.params and "authorization" not in sent.headers
    assert json.loads(sent.content) == {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}


async def test_chat_text_without_thoughts_and_reasoning_apart(connect, gemini) -> None:
    response = await chat(connect, gemini())
    assert response.id == "chatcmpl-mHsxaPTFKdqJ1PIP0-2k6Q8"
    assert response.model == "gemini-2.5-flash"
    assert response.created > 0
    message = response.choices[0].message
    assert message.content == "Hello! How can I help?"
    assert message.reasoning == "I should greet the user."
    assert response.choices[0].finish_reason == "stop"


async def test_usage_counts_thoughts_as_completion_and_adds_up(connect, gemini) -> None:
    usage = (await chat(connect, gemini())).usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (12, 19, 31)
    assert usage.prompt_tokens + usage.completion_tokens == usage.total_tokens
    assert usage.prompt_tokens_details == {"cached_tokens": 4}
    assert usage.completion_tokens_details == {"reasoning_tokens": 12}


async def test_stop_with_function_calls_is_tool_calls(connect, gemini) -> None:
    response = await chat(connect, gemini(chat="generate_tool_call.json"))
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_time"]
    assert isinstance(calls[0]["function"]["arguments"], str)
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris", "unit": "celsius"}
    assert all(c["type"] == "function" and c["id"].startswith("call_") for c in calls)
    assert len({c["id"] for c in calls}) == 2


async def test_tool_call_history_replays_with_its_thought_signature(connect, gemini) -> None:
    response = await chat(connect, gemini(chat="generate_tool_call.json"))
    calls = response.choices[0].message.tool_calls or []
    assert SIGNATURE_MARK in calls[0]["id"] and SIGNATURE_MARK not in calls[1]["id"]
    history = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": calls[0]["id"], "content": "sunny"},
        {"role": "tool", "tool_call_id": calls[1]["id"], "content": "noon"},
    ]
    sent = to_gemini(request(messages=history))
    parts = sent["contents"][1]["parts"]
    assert parts[0] == {
        "functionCall": {"name": "get_weather", "args": {"city": "Paris", "unit": "celsius"}},
        "thoughtSignature": "CpwCAdHtim9sig==",
    }
    assert "thoughtSignature" not in parts[1]
    names = [p["functionResponse"]["name"] for p in sent["contents"][2]["parts"]]
    assert names == ["get_weather", "get_time"]


async def test_blocked_prompt_is_an_empty_content_filter_choice(connect, gemini) -> None:
    response = await chat(connect, gemini(chat="generate_blocked.json"))
    choice = response.choices[0]
    assert choice.finish_reason == "content_filter"
    assert choice.message.content == ""
    assert "SAFETY" in (choice.message.refusal or "")
    assert response.usage is not None and response.usage.prompt_tokens == 9


async def test_safety_stop_without_content_is_content_filter(connect, gemini) -> None:
    response = await chat(connect, gemini(chat="generate_safety.json"))
    assert response.choices[0].finish_reason == "content_filter"
    assert response.choices[0].message.content == ""


async def test_parts_with_only_a_thought_signature_are_skipped(connect, gemini) -> None:
    response = await chat(connect, gemini(chat="generate_signature_only.json"))
    assert response.choices[0].message.content == "The answer is 42."
    assert response.choices[0].message.tool_calls is None


@pytest.mark.parametrize(
    ("native", "expected"),
    [
        ("MAX_TOKENS", "length"),
        ("RECITATION", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "stop"),
        ("OTHER", "stop"),
        ("FINISH_REASON_UNSPECIFIED", "stop"),
    ],
)
async def test_finish_reasons_map_to_openai(connect, native: str, expected: str) -> None:
    answer = {"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": native}]}
    response = await chat(connect, lambda r: httpx.Response(200, json=answer))
    assert response.choices[0].finish_reason == expected


async def test_several_candidates_become_several_choices(connect) -> None:
    answer = {
        "candidates": [
            {"content": {"parts": [{"text": "B"}]}, "finishReason": "STOP", "index": 1},
            {"content": {"parts": [{"text": "A"}]}, "finishReason": "MAX_TOKENS", "index": 0},
        ]
    }
    response = await chat(connect, lambda r: httpx.Response(200, json=answer), n=2)
    assert [(c.index, c.message.content, c.finish_reason) for c in response.choices] == [
        (0, "A", "length"),
        (1, "B", "stop"),
    ]


async def test_stream_uses_alt_sse_and_ends_without_done(connect, gemini) -> None:
    upstream = gemini()
    chunks = await stream(connect, upstream)
    sent = upstream.requests[0]
    assert sent.url.path.endswith("/models/gemini-2.5-flash:streamGenerateContent")
    assert sent.url.params["alt"] == "sse"
    assert text_of(chunks) == "Hello there, friend."
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(ch.delta.role is None for c in chunks[1:] for ch in c.choices)
    assert {c.id for c in chunks} == {"chatcmpl-stream-1"}
    finishes = [ch.finish_reason for c in chunks for ch in c.choices if ch.finish_reason]
    assert finishes == ["stop"]
    for chunk in chunks:
        json.loads(encode(chunk))


async def test_stream_usage_is_the_last_report_not_a_sum(connect, gemini) -> None:
    chunks = await stream(connect, gemini())
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert usage_chunks == [chunks[-1]] and chunks[-1].choices == []
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (8, 5, 13)


async def test_stream_function_calls_arrive_whole_and_finish_as_tool_calls(connect, gemini) -> None:
    chunks = await stream(connect, gemini(stream="stream_tool_call.sse"))
    calls = [call for c in chunks for ch in c.choices for call in ch.delta.tool_calls or []]
    assert [(c["index"], c["function"]["name"]) for c in calls] == [
        (0, "get_weather"),
        (1, "get_time"),
    ]
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris"}
    assert calls[0]["id"].endswith(SIGNATURE_MARK + "c2ln")
    reasoning = "".join(ch.delta.reasoning or "" for c in chunks for ch in c.choices)
    assert reasoning == "Let me check."
    assert [ch.finish_reason for c in chunks for ch in c.choices if ch.finish_reason] == [
        "tool_calls"
    ]
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens == 20 and usage.total_tokens == 50


async def test_stream_answered_as_a_json_array_still_works(connect) -> None:
    from pathlib import Path

    body = (Path(__file__).parent / "fixtures" / "stream_array.json").read_bytes()
    chunks = await stream(
        connect,
        lambda r: httpx.Response(200, content=body, headers={"content-type": "application/json"}),
    )
    assert text_of(chunks) == "Array stream."
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 7


async def test_stream_of_a_blocked_prompt_finishes_with_content_filter(connect, gemini) -> None:
    chunks = await stream(connect, gemini(stream="stream_blocked.sse"))
    finishes = [ch.finish_reason for c in chunks for ch in c.choices if ch.finish_reason]
    assert finishes == ["content_filter"]
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 11


async def test_error_event_mid_stream_raises_after_the_partial_text(connect, gemini) -> None:
    received: list[ChatChunk] = []
    async with connect(gemini(stream="stream_error.sse")) as provider:
        with pytest.raises(ProviderUnavailable, match="overloaded"):
            async for chunk in provider.stream_chat(request(stream=True)):
                received.append(chunk)
    assert text_of(received) == "Partial"


async def test_stream_closed_before_a_finish_reason_is_an_error(connect, gemini) -> None:
    with pytest.raises(ProviderUnavailable, match="ended before"):
        await stream(connect, gemini(stream="stream_truncated.sse"))


async def test_invalid_key_400_is_an_auth_error_not_a_bad_request(connect, gemini, load) -> None:
    error = load("error_api_key_invalid.json")
    async with connect(lambda r: httpx.Response(400, json=error)) as provider:
        with pytest.raises(UpstreamAuthError) as caught:
            await provider.chat(request())
        assert caught.value.retryable is False
        assert "API key not valid" in caught.value.message
        with pytest.raises(UpstreamAuthError):
            await provider.list_models()


async def test_resource_exhausted_uses_retry_info_delay(connect, load) -> None:
    error = load("error_rate_limited.json")
    async with connect(lambda r: httpx.Response(429, json=error)) as provider:
        with pytest.raises(RateLimited) as caught:
            await provider.chat(request())
    assert caught.value.retry_after == pytest.approx(31)
    assert caught.value.retryable


async def test_unknown_model_is_a_bad_request(connect, load) -> None:
    error = load("error_not_found.json")
    async with connect(lambda r: httpx.Response(404, json=error)) as provider:
        with pytest.raises(UpstreamBadRequest, match="is not found"):
            await provider.chat(request())


async def test_deadline_exceeded_is_a_timeout(connect) -> None:
    error = {"error": {"code": 504, "message": "Deadline", "status": "DEADLINE_EXCEEDED"}}
    async with connect(lambda r: httpx.Response(504, json=error)) as provider:
        with pytest.raises(ProviderTimeout):
            await provider.chat(request())


async def test_models_are_paged_filtered_and_stripped_of_their_prefix(connect, gemini) -> None:
    upstream = gemini()
    async with connect(upstream) as provider:
        models = {m.upstream_id: m for m in await provider.list_models()}
    assert set(models) == {
        "gemini-2.5-flash",
        "gemini-2.5-flash-image",
        "gemma-3-27b-it",
        "gemini-2.5-pro",
    }
    assert upstream.requests[1].url.params["pageToken"] == "Chxtb2RlbHMvZ2VtbWEtMy0yN2ItaXQ"
    assert upstream.requests[0].headers["x-goog-api-key"] == "test-gemini-key"
    flash = models["gemini-2.5-flash"]
    assert flash.id == "gemini/gemini-2.5-flash" and flash.name == "Gemini 2.5 Flash"
    assert flash.context_length == 1048576
    assert (flash.prompt_price, flash.completion_price) == (0.30, 2.50)
    assert flash.is_free is False and flash.supports_tools is True
    assert flash.input_modalities == ["text", "image"]
    assert models["gemini-2.5-flash-image"].output_modalities == ["text", "image"]
    assert models["gemini-2.5-flash-image"].prompt_price is None
    assert models["gemma-3-27b-it"].supports_tools is False
    assert models["gemma-3-27b-it"].raw["displayName"] == "Gemma 3 27B"


async def test_images_come_from_inline_data(connect, gemini) -> None:
    upstream = gemini(chat="generate_image.json")
    async with connect(upstream) as provider:
        result = await provider.images(
            ImageRequest(prompt="a cat", model="gemini-2.5-flash-image", size="1792x1024")
        )
    assert [d.b64_json for d in result.data] == ["iVBORw0KGgoAAAANSUhEUg=="]
    config = json.loads(upstream.requests[0].content)["generationConfig"]
    assert config == {
        "responseModalities": ["TEXT", "IMAGE"],
        "imageConfig": {"aspectRatio": "16:9"},
    }


async def test_chat_surfaces_generated_images(connect, gemini) -> None:
    response = await chat(connect, gemini(chat="generate_image.json"), modalities=["text", "image"])
    message = response.choices[0].message
    assert message.content == "Here is a cat."
    assert message.images == [
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="},
        }
    ]


async def test_malformed_function_call_is_logged(connect, caplog) -> None:
    answer = {"candidates": [{"finishReason": "MALFORMED_FUNCTION_CALL"}]}
    logger = logging.getLogger("freeway.providers.gemini")
    logger.addHandler(caplog.handler)  # the app may have turned propagation off
    try:
        response = await chat(connect, lambda r: httpx.Response(200, json=answer))
    finally:
        logger.removeHandler(caplog.handler)
    assert response.choices[0].finish_reason == "stop"
    assert "MALFORMED_FUNCTION_CALL" in caplog.text
