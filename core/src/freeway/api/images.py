"""``POST /images/generations`` (and ``/v1/…``): image generation through the router.

``model`` defaults to ``image`` (the image ranker's choice); a gateway or upstream id
of an image model works too.  Cost = the model's per-image price × images returned.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Request, post
from litestar.types import ASGIApp

from freeway.api.proxy import Call, ClientGone, decode_body, nothing, watched
from freeway.api.relay import JSONBody
from freeway.auth.guards import require_project
from freeway.errors import ValidationFailed
from freeway.providers.types import ImageRequest, decode_image_request
from freeway.routing import image_cost
from freeway.state import gateway_of

_encode = msgspec.json.Encoder().encode


def _decode(body: bytes) -> ImageRequest:
    request = decode_body(decode_image_request, body)
    if not request.prompt.strip():
        raise ValidationFailed("prompt: must not be empty", param="prompt")
    if request.n is not None and not 1 <= request.n <= 10:
        raise ValidationFailed("n: must be between 1 and 10", param="n")
    return request


@post(
    ["/images/generations", "/v1/images/generations"],
    tags=["client"],
    summary="Generate images (OpenAI-compatible)",
    status_code=200,
)
async def image_generations(request: Request[Any, Any, Any]) -> ASGIApp:
    """OpenAI ``images.generate``; ``model`` defaults to the ``image`` category."""
    await require_project(request)
    gw = gateway_of(request)
    call = Call(gw, request.scope, "images")
    try:
        body = _decode(await request.body())
        call.requested_model = body.model
        await call.check_rate_limit(request.scope["state"]["principal"].project)
        candidates = gw.router.candidates(body.model)
        deadline = asyncio.get_running_loop().time() + gw.settings.request_deadline
        response = await watched(
            request.receive, gw.router.images(body, candidates, call.attempt, deadline)
        )
    except ClientGone:
        call.record("cancelled")  # the client left; the upstream call is closed
        return nothing
    except Exception as exc:
        call.failed(exc)
        raise
    candidate = call.attempt.candidate
    assert candidate is not None
    usage = response.usage or {}
    prompt = int(usage.get("input_tokens") or usage.get("prompt_tokens") or 0)
    completion = int(usage.get("output_tokens") or usage.get("completion_tokens") or 0)
    call.record(
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=image_cost(candidate.model, len(response.data), prompt, completion),
    )
    return JSONBody(_encode(response), call.headers())
