"""The OpenRouter adapter: OpenAI-compatible chat with OpenRouter's quirks.

What differs from the generic adapter (``providers.md`` §2): ``/models`` hides image
generators unless asked with ``?output_modalities=image``; error bodies carry a numeric
``code`` and ``metadata``; a mid-stream failure is a ``data:`` event with ``error``
while HTTP stays 200; a 200 answer may hold no content (cold start); images come from
chat with ``modalities: ["image", "text"]`` as ``data:`` URLs in ``message.images``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from typing import Any

import httpx
import msgspec

from freeway.errors import ProviderError, ProviderUnavailable, RateLimited, UpstreamBadRequest
from freeway.providers import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ImageData,
    ImageRequest,
    ImageResponse,
    Model,
    Usage,
)
from freeway.providers.openai_compatible import OpenAICompatibleProvider
from freeway.providers.upstream import error_from_status, parse_retry_after
from freeway_provider_openrouter.models import merge_listings, parse_model

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
# Aspect ratios OpenRouter's ``image_config.aspect_ratio`` accepts.
ASPECT_RATIOS = frozenset({"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"})


class OpenRouterProvider(OpenAICompatibleProvider):
    """OpenRouter (``openrouter/<author>/<model>[:variant]``) on the shared client.

    ``site_url`` / ``app_name`` become the optional attribution headers
    ``HTTP-Referer`` / ``X-Title``.
    """

    def __init__(
        self,
        *,
        api_key: str,
        client: httpx.AsyncClient,
        base_url: str = DEFAULT_BASE_URL,
        site_url: str | None = None,
        app_name: str | None = None,
        name: str = "openrouter",
    ) -> None:
        attribution = (("HTTP-Referer", site_url), ("X-Title", app_name))
        headers = {key: value for key, value in attribution if value}
        super().__init__(name, base_url=base_url, api_key=api_key, client=client, headers=headers)

    # --- models ---------------------------------------------------------------------

    async def list_models(self) -> list[Model]:
        """Text models and image generators (the default listing omits the latter)."""
        text, image = await asyncio.gather(
            self.get_json("/models"), self.get_json("/models?output_modalities=image")
        )
        return [
            parse_model(self.name, raw)
            for raw in merge_listings(self.model_entries(text), self.model_entries(image))
        ]

    def parse_model(self, raw: dict[str, Any]) -> Model | None:
        """One OpenRouter ``/models`` record, prices normalized to USD per 1M tokens."""
        return parse_model(self.name, raw)

    # --- errors ---------------------------------------------------------------------

    async def check_response(self, response: httpx.Response) -> None:
        """Map a non-2xx answer using OpenRouter's error ``metadata``."""
        if not response.is_success:
            body = await response.aread()
            raise openrouter_error(self.name, response.status_code, response.headers, body)

    def stream_error(self, data: dict[str, Any]) -> ProviderError:
        """An ``error`` object inside a 200 answer or stream; its ``code`` is the status."""
        error = data.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        status = code if isinstance(code, int) and 400 <= code <= 599 else 502
        return openrouter_error(self.name, status, {}, data)

    # --- chat -----------------------------------------------------------------------

    def parse_response(self, data: Any) -> ChatResponse:
        """A completion; ``finish_reason: "error"`` or an empty answer is a failure."""
        response: ChatResponse = super().parse_response(data)
        if any(choice.finish_reason == "error" for choice in response.choices):
            raise ProviderUnavailable(
                f"{self.name}: the upstream model failed while answering", provider=self.name
            )
        if response.choices and not any(_has_output(c) for c in response.choices):
            # Cold starts answer 200 with nothing in it; another try or model may work.
            raise ProviderUnavailable(
                f"{self.name}: the upstream model returned no content", provider=self.name
            )
        return response

    def parse_chunk(self, data: Any) -> ChatChunk | None:
        """A stream chunk; ``finish_reason: "error"`` without an error object still fails."""
        chunk: ChatChunk | None = super().parse_chunk(data)
        if chunk is not None and any(c.finish_reason == "error" for c in chunk.choices):
            raise ProviderUnavailable(
                f"{self.name}: the upstream model failed mid-stream", provider=self.name
            )
        return chunk

    # --- images ---------------------------------------------------------------------

    async def images(self, request: ImageRequest) -> ImageResponse:
        """Generate ``n`` images through chat (OpenRouter has no images endpoint)."""
        chat, count = self.image_chat_request(request), max(1, request.n or 1)
        responses = await asyncio.gather(*(self.chat(chat) for _ in range(count)))
        data = [i for r in responses for i in self.images_of(r, request.response_format)]
        used = [r.usage or Usage() for r in responses]
        usage = {
            "input_tokens": sum(u.prompt_tokens for u in used),
            "output_tokens": sum(u.completion_tokens for u in used),
            "total_tokens": sum(u.total_tokens for u in used),
        }
        return ImageResponse(created=int(time.time()), data=data, usage=usage)

    def image_chat_request(self, request: ImageRequest) -> ChatRequest:
        """The chat asking for an image of the prompt; the client's ``modalities`` and
        ``image_config`` win, else a ``size`` like ``1920x1080`` becomes an aspect ratio."""
        extra = dict(request.extra)
        modalities = extra.pop("modalities", None) or ["image", "text"]
        if "image_config" not in extra and request.size:
            ratio = aspect_ratio(request.size)
            if ratio:
                extra["image_config"] = {"aspect_ratio": ratio}
        return ChatRequest(
            model=request.model,
            messages=[{"role": "user", "content": request.prompt}],
            modalities=list(modalities),
            user=request.user,
            extra=extra,
        )

    def images_of(self, response: ChatResponse, response_format: str | None) -> list[ImageData]:
        """The images of one chat answer; ``data:`` URLs become ``b64_json``."""
        found: list[ImageData] = []
        text = ""
        for choice in response.choices:
            if isinstance(choice.message.content, str):
                text += choice.message.content
            for image in choice.message.images or []:
                url = (image.get("image_url") or {}).get("url")
                if isinstance(url, str) and url:
                    found.append(_image_data(url, response_format))
        if not found:
            if text.strip():
                # The model answered in words only: a refusal or not an image model.
                raise UpstreamBadRequest(
                    f"{self.name}: {response.model} answered without an image: {text[:300]}",
                    provider=self.name,
                    param="model",
                )
            raise ProviderUnavailable(
                f"{self.name}: {response.model} returned no image", provider=self.name
            )
        return found


def _has_output(choice: Any) -> bool:
    """Whether a choice is a real answer (an empty cut-off or filtered one counts)."""
    if choice.finish_reason in ("length", "content_filter"):
        return True
    message = choice.message
    return bool(message.content or message.tool_calls or message.images or message.refusal)


def _image_data(url: str, response_format: str | None) -> ImageData:
    if url.startswith("data:") and response_format != "url":
        _, _, payload = url.partition("base64,")
        if payload:
            return ImageData(b64_json=payload)
    return ImageData(url=url)


def aspect_ratio(size: str) -> str | None:
    """``"1024x1024"`` → ``"1:1"``; ``None`` when not a ``WxH`` size OpenRouter knows."""
    width, sep, height = size.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        return None
    w, h = int(width), int(height)
    if not w or not h:
        return None
    divisor = math.gcd(w, h)
    ratio = f"{w // divisor}:{h // divisor}"
    return ratio if ratio in ASPECT_RATIOS else None


def openrouter_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes | str | Any
) -> ProviderError:
    """The Freeway error for an OpenRouter error answer: a 403 with moderation ``reasons``
    is a content-policy refusal, 402 exhausted credits, a 429 may say
    ``metadata.retry_after_seconds``, "Provider returned error" gains the raw message."""
    error = _error_object(body)
    metadata = v if isinstance(v := error.get("metadata"), dict) else {}
    message = v if isinstance(v := error.get("message"), str) else None
    detail = _detail(metadata)
    if message and detail:
        body = {"error": {"message": f"{message} ({detail})"}}
    if status == 403 and (metadata.get("reasons") or metadata.get("flagged_input")):
        text = message or "input flagged by moderation"
        return UpstreamBadRequest(f"{provider}: {text}", provider=provider, code="content_filter")
    exc = error_from_status(provider, status, headers, body)
    if status == 402:
        exc.code = "insufficient_quota"
    if isinstance(exc, RateLimited) and exc.retry_after is None:
        exc.retry_after = _retry_after(metadata)
    return exc


def _error_object(body: bytes | str | Any) -> dict[str, Any]:
    try:
        data = msgspec.json.decode(body) if isinstance(body, (bytes, str)) else body
    except msgspec.DecodeError:
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def _detail(metadata: dict[str, Any]) -> str:
    raw = metadata.get("raw")
    parts = (metadata.get("provider_name"), raw[:300] if isinstance(raw, str) else None)
    return ": ".join(str(p) for p in parts if p)


def _retry_after(metadata: dict[str, Any]) -> float | None:
    headers = v if isinstance(v := metadata.get("headers"), dict) else {}
    value = metadata.get("retry_after_seconds", headers.get("Retry-After"))
    return None if value is None else parse_retry_after({"retry-after": str(value)})
