"""``POST /chat/completions`` (and ``/v1/…``): the gateway's hot path.

Decode with msgspec, authenticate from the in-memory project cache (guard), count the
request against the project's limit, resolve the model, let the router find a
candidate that answers, encode with msgspec, answer with a raw ASGI response
(:mod:`freeway.api.relay`).  Streams are relayed chunk by chunk as server-sent
events; the usage record is queued at the end (never a DB write here).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
from litestar import Request, post
from litestar.types import ASGIApp

from freeway.api.proxy import Call, ClientGone, decode_body, nothing, watched
from freeway.api.relay import JSONBody, SSERelay
from freeway.auth.guards import require_project
from freeway.errors import ValidationFailed
from freeway.providers.types import ChatRequest, decode_chat_request
from freeway.routing import chat_cost, estimate_prompt_tokens, usage_cost
from freeway.state import gateway_of

_encode = msgspec.json.Encoder().encode


def _decode(body: bytes) -> ChatRequest:
    request = decode_body(decode_chat_request, body)
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
async def chat_completions(request: Request[Any, Any, Any]) -> ASGIApp:
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
            first, rest = await watched(
                request.receive, router.open_stream(chat, candidates, call.attempt, deadline)
            )
            return SSERelay(call, chat, first, rest, deadline)
        response = await watched(
            request.receive, router.chat(chat, candidates, call.attempt, deadline)
        )
    except ClientGone:
        # The client left while the upstream was working; the upstream call is closed.
        prompt = estimate_prompt_tokens(chat)
        candidate = call.attempt.candidate
        cost = chat_cost(candidate.model if candidate else None, prompt, 0)
        call.record("cancelled", prompt_tokens=prompt, cost_usd=cost)
        return nothing
    except Exception as exc:
        call.failed(exc)
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
            cost_usd=usage_cost(candidate.model, usage),
        )
        usage.cost = None  # the provider's own charge (OpenRouter) is logged, not passed on
    else:
        call.record()
    return JSONBody(_encode(response), call.headers())
