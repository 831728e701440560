"""Gemini ``streamGenerateContent?alt=sse`` events to OpenAI ``chat.completion.chunk``s.

Each SSE event is a whole ``GenerateContentResponse`` whose text parts are deltas.
There is no ``[DONE]``: the stream ends when the connection closes, so a stream that
closes before any finish reason is reported as a failure.  ``usageMetadata`` repeats
as running totals on many events; the last one wins and goes out in a final
``choices: []`` chunk.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec

from freeway.errors import ProviderUnavailable
from freeway.http import iter_body, read_body
from freeway.providers.sse import aiter_sse
from freeway.providers.types import ChatChunk, ChunkChoice, Delta, Usage

from .translate import (
    PROVIDER,
    block_reason,
    finish_reason,
    gemini_error,
    read_parts,
    response_id,
    usage_from,
)

_decode = msgspec.json.Decoder(Any).decode


async def gemini_payloads(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The response objects of a stream: SSE events, or a JSON array when the upstream
    ignored ``alt=sse`` (then the body is one progressively written array)."""
    if response.headers.get("content-type", "").startswith("application/json"):
        data = _decoded(await read_body(response))
        for item in data if isinstance(data, list) else [data]:
            yield item
        return
    async for event in aiter_sse(iter_body(response)):
        if event.data.strip() not in ("", "[DONE]"):
            yield _decoded(event.data)


def _decoded(data: bytes | str) -> Any:
    try:
        return _decode(data)
    except msgspec.DecodeError as exc:
        raise ProviderUnavailable(f"{PROVIDER}: malformed stream data", provider=PROVIDER) from exc


async def stream_chunks(
    payloads: AsyncIterator[dict[str, Any]], model: str
) -> AsyncIterator[ChatChunk]:
    """OpenAI chunks for Gemini stream payloads, ending with a usage chunk if reported."""
    stream_id: str | None = None
    created = int(time.time())
    usage: Usage | None = None
    started: set[int] = set()
    call_counts: dict[int, int] = {}
    finished = False

    def chunk(choices: list[ChunkChoice], usage: Usage | None = None) -> ChatChunk:
        return ChatChunk(
            id=stream_id or "", model=model, created=created, choices=choices, usage=usage
        )

    async for data in payloads:
        if not isinstance(data, dict):
            continue
        if "error" in data:  # an error after the stream started
            error = data["error"] if isinstance(data["error"], dict) else {}
            raise gemini_error(int(error.get("code") or 500), {}, data)
        stream_id = stream_id or response_id(data)
        model = data.get("modelVersion") or model
        usage = usage_from(data.get("usageMetadata")) or usage  # running totals: keep last
        blocked = block_reason(data)
        if blocked:
            delta = Delta(
                role="assistant", content="", refusal=f"gemini blocked the prompt ({blocked})"
            )
            yield chunk([ChunkChoice(index=0, delta=delta, finish_reason="content_filter")])
            finished = True
            continue
        deltas, finishes = [], []
        for position, candidate in enumerate(data.get("candidates") or []):
            index = candidate.get("index", position)
            parts = read_parts((candidate.get("content") or {}).get("parts") or [])
            delta = Delta(
                content=parts.text, reasoning=parts.reasoning, images=parts.images or None
            )
            if index not in started:
                started.add(index)
                delta.role = "assistant"
            if parts.tool_calls:  # a function call arrives whole, never split
                first = call_counts.get(index, 0)
                delta.tool_calls = [
                    {"index": first + k, **call} for k, call in enumerate(parts.tool_calls)
                ]
                call_counts[index] = first + len(parts.tool_calls)
            if delta != Delta():
                deltas.append(ChunkChoice(index=index, delta=delta))
            reason = finish_reason(candidate.get("finishReason"), index in call_counts)
            if reason:
                finishes.append(ChunkChoice(index=index, delta=Delta(), finish_reason=reason))
        if deltas:
            yield chunk(deltas)
        if finishes:
            finished = True
            yield chunk(finishes)
    if not finished:
        raise ProviderUnavailable(
            f"{PROVIDER}: the stream ended before the model finished", provider=PROVIDER
        )
    if usage is not None:
        yield chunk([], usage)
