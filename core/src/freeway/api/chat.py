"""``POST /chat/completions`` (and ``/v1/…``): the gateway's hot path.

Decode with msgspec, authenticate from the in-memory project cache (guard), count the
request against the project's limit, resolve the model, let the router find a
candidate that answers, encode with msgspec.  Streams are relayed chunk by chunk as
server-sent events; the usage record is queued at the end (never a DB write here).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.response import Stream

from freeway.api.proxy import JSON, Call, invalid_body
from freeway.auth.guards import require_project
from freeway.errors import FreewayError, ProviderTimeout, ValidationFailed, error_envelope
from freeway.providers.types import ChatChunk, ChatRequest, decode_chat_request
from freeway.routing import chat_cost, estimate_prompt_tokens
from freeway.state import gateway_of

log = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode
DATA = b"data: "
END = b"\n\n"
DONE = b"data: [DONE]\n\n"
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def _decode(body: bytes) -> ChatRequest:
    try:
        request = decode_chat_request(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise invalid_body(exc) from None
    if not request.messages:
        raise ValidationFailed("messages: must contain at least one message", param="messages")
    if not request.model:
        raise ValidationFailed("model: must not be empty", param="model")
    return request


@post(
    ["/chat/completions", "/v1/chat/completions"],
    tags=["client"],
    summary="Create a chat completion (OpenAI-compatible)",
    status_code=200,
)
async def chat_completions(request: Request[Any, Any, Any]) -> Response[Any]:
    """OpenAI ``chat.completions.create``: ``model`` may be a category (``free``,
    ``paid``, ``image``…), a gateway id (``groq/llama-3.1-8b-instant``) or a bare
    upstream id.  ``stream: true`` answers with server-sent events."""
    # The guard is called here, not via guards=[...]: Litestar copies the route
    # handler for every guard call, a cost paid on each proxied request.
    await require_project(request)
    gw = gateway_of(request)
    call = Call(gw, request.scope, "chat")
    try:
        chat = _decode(await request.body())
        call.requested_model = chat.model
        call.stream = chat.stream
        await call.check_rate_limit(request.scope["state"]["principal"].project)
        router = gw.router
        candidates = router.candidates(chat.model, chat)
        deadline = asyncio.get_running_loop().time() + gw.settings.request_deadline
        if chat.stream:
            first, rest = await router.open_stream(chat, candidates, call.attempt, deadline)
            include_usage = chat.stream_options is not None and chat.stream_options.include_usage
            return Stream(
                _relay(call, chat, first, rest, include_usage, deadline),
                media_type="text/event-stream",
                headers={**SSE_HEADERS, **call.headers()},
            )
        response = await router.chat(chat, candidates, call.attempt, deadline)
    except FreewayError as exc:
        call.annotate(exc)
        call.record_error(exc)
        raise
    except Exception as exc:
        call.record_error(exc)
        raise
    candidate = call.attempt.candidate
    assert candidate is not None
    response.model = candidate.gateway_id
    if not response.created:
        response.created = int(time.time())
    usage = response.usage
    if usage is not None:
        call.record(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
            cost_usd=chat_cost(candidate.model, usage.prompt_tokens, usage.completion_tokens),
        )
    else:
        call.record()
    return Response(_encode(response), media_type=JSON, headers=call.headers())


def _error_event(exc: BaseException) -> bytes:
    if isinstance(exc, FreewayError):
        body = exc.to_envelope()
    else:
        body = error_envelope(
            "internal error while streaming", "server_error", None, "server_error"
        )
    return DATA + _encode(body) + END + DONE


async def _relay(
    call: Call,
    chat: ChatRequest,
    first: ChatChunk,
    rest: AsyncIterator[ChatChunk],
    include_usage: bool,
    deadline: float,
) -> AsyncIterator[bytes]:
    """Relay upstream chunks as SSE, one write per chunk; always end with ``[DONE]``.

    The deadline is one timer for the whole stream (cheaper than a timeout per chunk):
    when it fires, the task is cancelled and the stream ends with a timeout error.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        if task is not None:
            task.cancel()

    timer = loop.call_at(deadline, expire)
    candidate = call.attempt.candidate
    assert candidate is not None
    gateway_id = candidate.gateway_id
    created = first.created or int(time.time())
    usage = None
    ttft_ms: float | None = None
    chars = pieces = 0
    status = "ok"
    error_code: str | None = None
    finished = False
    try:
        chunk = first
        while True:
            if chunk.usage is not None:
                usage = chunk.usage
                if not include_usage:
                    if not chunk.choices:
                        chunk = await anext(rest)
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
            yield DATA + _encode(chunk) + END
            if ttft_ms is None:
                ttft_ms = (time.perf_counter() - call.started) * 1000
            try:
                chunk = await anext(rest)
            except StopAsyncIteration:
                break
        finished = True
        yield DONE
    except StopAsyncIteration:
        finished = True
        yield DONE
    except asyncio.CancelledError:
        if not expired:
            status = "cancelled"
            raise
        task.uncancel()  # type: ignore[union-attr]
        status, error_code = "error", "deadline_exceeded"
        yield _error_event(
            ProviderTimeout("the stream exceeded the request deadline", code=error_code)
        )
    except GeneratorExit:
        status = "cancelled"
        raise
    except FreewayError as exc:
        status, error_code = "error", exc.code
        call.gw.router.record_stream_failure(candidate.provider.name, exc)
        yield _error_event(exc)
    except Exception as exc:
        log.warning("stream from %s broke: %r", gateway_id, exc)
        status, error_code = "error", "server_error"
        yield _error_event(exc)
    finally:
        timer.cancel()
        _record_stream(call, chat, usage, status, error_code, ttft_ms, chars, pieces)
        if not finished:
            aclose = getattr(rest, "aclose", None)
            if aclose is not None:
                # The stream is already ending (and maybe being cancelled): a failure
                # to close the upstream must not replace that outcome.
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await aclose()


def _record_stream(
    call: Call,
    chat: ChatRequest,
    usage: Any,
    status: str,
    error_code: str | None,
    ttft_ms: float | None,
    chars: int,
    pieces: int,
) -> None:
    candidate = call.attempt.candidate
    if usage is not None:
        prompt, completion, total = usage.prompt_tokens, usage.completion_tokens, usage.total_tokens
    else:
        # The upstream's usage never came (client left, stream broke): estimate what
        # was consumed so far rather than record zero.
        prompt = estimate_prompt_tokens(chat)
        completion = max(pieces, -(-chars // 4))
        total = prompt + completion
    cost = chat_cost(candidate.model if candidate is not None else None, prompt, completion)
    call.record(
        status,
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        cost_usd=cost,
        ttft_ms=ttft_ms,
        error_code=error_code,
    )
