"""Raw ASGI responses for the proxied endpoints.

Litestar's ``Response``/``Stream`` are general (cookies, header normalization, an anyio
task group and cancel scope per stream); the hot path needs none of that, so it
returns these small ASGI apps instead (the handler is annotated ``-> ASGIApp``).

:class:`JSONBody` sends one finished JSON body.  :class:`SSERelay` writes each
upstream chunk as its own server-sent event the moment it arrives, watches for the
client going away (which cancels the upstream call), enforces the request deadline
with one timer, turns a mid-stream failure into an OpenAI error event, always ends with
``[DONE]`` and queues the usage record at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec

from freeway.api.proxy import Call
from freeway.errors import FreewayError, ProviderTimeout, error_envelope
from freeway.providers.types import ChatChunk, ChatRequest
from freeway.routing import chat_cost, estimate_prompt_tokens, usage_cost

log = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode
DATA = b"data: "
END = b"\n\n"
DONE = b"data: [DONE]\n\n"
_JSON_HEADERS = [(b"content-type", b"application/json")]
_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx and friends: do not buffer the stream
]


def _raw_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode()) for k, v in headers.items()]


class JSONBody:
    """An ASGI app answering 200 with a ready JSON body."""

    __slots__ = ("body", "headers")

    def __init__(self, body: bytes, headers: dict[str, str]) -> None:
        self.body = body
        self.headers = headers

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        raw = [*_JSON_HEADERS, (b"content-length", str(len(self.body)).encode())]
        raw += _raw_headers(self.headers)
        await send({"type": "http.response.start", "status": 200, "headers": raw})
        await send({"type": "http.response.body", "body": self.body})


def error_event(exc: BaseException) -> bytes:
    """The last bytes of a failed stream: an OpenAI error event, then ``[DONE]``."""
    if isinstance(exc, FreewayError):
        body = exc.to_envelope()
    else:
        body = error_envelope(
            "internal error while streaming", "server_error", None, "server_error"
        )
    return DATA + _encode(body) + END + DONE


class SSERelay:
    """An ASGI app relaying an upstream chat stream as server-sent events."""

    def __init__(
        self,
        call: Call,
        chat: ChatRequest,
        first: ChatChunk,
        rest: AsyncIterator[ChatChunk],
        deadline: float,
    ) -> None:
        self.call = call
        self.chat = chat
        self.first = first
        self.rest = rest
        self.deadline = deadline
        options = chat.stream_options
        self.include_usage = options is not None and options.include_usage
        self.finished = False
        self.disconnected = False
        self.expired = False

    async def _watch(self, receive: Any, task: asyncio.Task[Any]) -> None:
        """Cancel the relay when the client goes away (not when we finished)."""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                if not self.finished:
                    self.disconnected = True
                    task.cancel()
                return

    def _expire(self, task: asyncio.Task[Any]) -> None:
        if not self.finished:
            self.expired = True
            task.cancel()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        call = self.call
        candidate = call.attempt.candidate
        assert candidate is not None
        gateway_id = candidate.gateway_id
        rest = self.rest
        include_usage = self.include_usage
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        timer = loop.call_at(self.deadline, self._expire, task)
        watcher: asyncio.Task[None] | None = None
        usage = None
        model = candidate.model
        cost = 0.0
        ttft_ms: float | None = None
        chars = pieces = 0
        status, error_code = "ok", None
        created = self.first.created or int(time.time())
        headers = _SSE_HEADERS + _raw_headers(call.headers())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            chunk: ChatChunk | None = self.first
            while chunk is not None:
                if chunk.usage is not None:
                    usage = chunk.usage
                    # The provider's own charge (OpenRouter) is logged, not passed on.
                    cost = usage_cost(model, usage)
                    usage.cost = None
                    if not include_usage:
                        if not chunk.choices:
                            chunk = await anext(rest, None)
                            continue
                        chunk.usage = None
                if chunk.choices:
                    content = chunk.choices[0].delta.content
                    if content:
                        chars += len(content)
                        pieces += 1
                chunk.model = gateway_id
                if not chunk.created:
                    chunk.created = created
                await send(
                    {
                        "type": "http.response.body",
                        "body": DATA + _encode(chunk) + END,
                        "more_body": True,
                    }
                )
                if ttft_ms is None:
                    ttft_ms = (time.perf_counter() - call.started) * 1000
                    # Watch for a disconnect from here on: started once the first chunk
                    # is out, so its cost is not in the time to the first chunk (a
                    # client that left earlier is seen at once: receive() says so).
                    watcher = loop.create_task(self._watch(receive, task))
                chunk = await anext(rest, None)
            self.finished = True
            await send({"type": "http.response.body", "body": DONE, "more_body": False})
        except asyncio.CancelledError:
            if not (self.disconnected or self.expired):
                status = "cancelled"
                raise  # the server is shutting down: let the cancellation through
            task.uncancel()
            if self.disconnected:
                status = "cancelled"
            else:
                status, error_code = "error", "deadline_exceeded"
                timeout = ProviderTimeout(
                    "the stream exceeded the request deadline", code=error_code
                )
                await self._end(send, timeout)
        except FreewayError as exc:
            status, error_code = "error", exc.code
            call.gw.router.record_stream_failure(candidate.provider.name, exc)
            await self._end(send, exc)
        except Exception as exc:
            log.warning("stream from %s broke: %r", gateway_id, exc)
            status, error_code = "error", "server_error"
            await self._end(send, exc)
        finally:
            self.finished = True
            timer.cancel()
            if watcher is not None:
                watcher.cancel()
            self._record(usage, cost, status, error_code, ttft_ms, chars, pieces)
            if status != "ok":
                aclose = getattr(rest, "aclose", None)
                if aclose is not None:
                    # Closing the upstream must not replace how the stream ended.
                    with contextlib.suppress(Exception, asyncio.CancelledError):
                        await aclose()

    async def _end(self, send: Any, exc: BaseException) -> None:
        self.finished = True
        with contextlib.suppress(Exception):
            await send({"type": "http.response.body", "body": error_event(exc), "more_body": False})

    def _record(
        self,
        usage: Any,
        cost: float,
        status: str,
        error_code: str | None,
        ttft_ms: float | None,
        chars: int,
        pieces: int,
    ) -> None:
        call = self.call
        candidate = call.attempt.candidate
        model = candidate.model if candidate is not None else None
        if usage is not None:
            prompt = usage.prompt_tokens
            completion = usage.completion_tokens
            total = usage.total_tokens
        else:
            # The upstream's usage never came (client left, stream broke): estimate what
            # was consumed so far rather than record zero.
            prompt = estimate_prompt_tokens(self.chat)
            completion = max(pieces, -(-chars // 4))
            total = prompt + completion
            cost = chat_cost(model, prompt, completion)
        call.record(
            status,
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=total,
            cost_usd=cost,
            ttft_ms=ttft_ms,
            error_code=error_code,
        )
