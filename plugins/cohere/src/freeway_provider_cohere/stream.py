"""Cohere v2 stream events to OpenAI ``chat.completion.chunk``s.

Every event's JSON names its ``type``.  Text arrives in ``content-delta``, the tool plan
(before any call) in ``tool-plan-delta``, tool calls as ``tool-call-start`` (id, name)
then ``tool-call-delta`` argument fragments, and ``message-end`` carries both the
finish reason and the usage.  There is no ``[DONE]``: ``message-end`` is the end, and a
stream that closes without it is a failure.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec

from freeway.errors import ProviderUnavailable
from freeway.http import iter_body
from freeway.providers.sse import aiter_sse
from freeway.providers.types import ChatChunk, ChunkChoice, Delta

from .translate import PROVIDER, finish_reason, response_id, usage_from

_decode = msgspec.json.Decoder(Any).decode


async def cohere_payloads(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The decoded JSON of each SSE event."""
    async for event in aiter_sse(iter_body(response)):
        if event.data.strip() in ("", "[DONE]"):
            continue
        try:
            data = _decode(event.data)
        except msgspec.DecodeError as exc:
            raise ProviderUnavailable(
                f"{PROVIDER}: malformed stream data", provider=PROVIDER
            ) from exc
        if isinstance(data, dict):
            yield data


async def stream_chunks(
    payloads: AsyncIterator[dict[str, Any]], model: str
) -> AsyncIterator[ChatChunk]:
    """OpenAI chunks for Cohere stream events, ending with a usage chunk if reported."""
    stream_id = response_id(None)
    created = int(time.time())
    calls: dict[int, int] = {}  # Cohere event index -> OpenAI tool_calls index
    started = False

    def chunk(delta: Delta | None, finish: str | None = None, usage: Any = None) -> ChatChunk:
        choices = [] if delta is None else [ChunkChoice(delta=delta, finish_reason=finish)]
        return ChatChunk(id=stream_id, model=model, created=created, choices=choices, usage=usage)

    async for data in payloads:
        kind = data.get("type")
        message = (data.get("delta") or {}).get("message") or {}
        delta: Delta | None = None
        if kind == "message-start":
            stream_id = response_id(data.get("id"))
            delta = Delta()
        elif kind == "content-delta":
            content = message.get("content") or {}
            if "thinking" in content:
                delta = Delta(reasoning=content["thinking"])
            else:
                delta = Delta(content=content.get("text", ""))
        elif kind == "tool-plan-delta":
            delta = Delta(reasoning=message.get("tool_plan", ""))
        elif kind == "tool-call-start":
            call = message.get("tool_calls") or {}
            function = call.get("function") or {}
            index = calls.setdefault(data.get("index", len(calls)), len(calls))
            fragment = {
                "index": index,
                "id": call.get("id", ""),
                "type": "function",
                "function": {
                    "name": function.get("name", ""),
                    "arguments": function.get("arguments") or "",
                },
            }
            delta = Delta(tool_calls=[fragment])
        elif kind == "tool-call-delta":
            arguments = ((message.get("tool_calls") or {}).get("function") or {}).get("arguments")
            index = calls.get(data.get("index", 0), max(calls.values(), default=0))
            delta = Delta(tool_calls=[{"index": index, "function": {"arguments": arguments or ""}}])
        elif kind == "message-end":
            end = data.get("delta") or {}
            reason = finish_reason(end.get("finish_reason"), end)
            yield chunk(Delta(role=None if started else "assistant"), reason)
            usage = usage_from(end.get("usage"))
            if usage is not None:
                yield chunk(None, usage=usage)
            return
        elif kind is None and "message" in data:  # an error body instead of an event
            raise ProviderUnavailable(f"{PROVIDER}: {data['message']}", provider=PROVIDER)
        if delta is not None:  # content-start/-end, tool-call-end, citations: nothing to say
            if not started:
                delta.role, started = "assistant", True
            yield chunk(delta)
    raise ProviderUnavailable(f"{PROVIDER}: the stream ended before message-end", provider=PROVIDER)
