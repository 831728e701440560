"""The Gemini adapter: native Generative Language API (``/v1beta``), not its OpenAI layer."""

from __future__ import annotations

import math
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec

from freeway.errors import ProviderUnavailable, ValidationFailed
from freeway.http import build_request, fetch, stream
from freeway.providers.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ImageData,
    ImageRequest,
    ImageResponse,
    Model,
    make_model,
)
from freeway.providers.upstream import upstream_errors

from .stream import gemini_payloads, stream_chunks
from .translate import PROVIDER, from_gemini, gemini_error, read_parts, to_gemini

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
MAX_MODEL_PAGES = 50  # a guard against an upstream that keeps returning a page token

# The models API has no prices.  USD per 1M tokens (prompts up to 200k tokens, paid
# tier) from https://ai.google.dev/gemini-api/docs/pricing as of 2025-07; unknown models
# keep ``None``.
PRICES: dict[str, tuple[float, float]] = {
    "gemini-2.5-pro": (1.25, 10.00),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.0-flash": (0.10, 0.40),
    "gemini-2.0-flash-lite": (0.075, 0.30),
}
_ASPECT_RATIOS = frozenset(
    {"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"}
)
_SIZES = {"1792x1024": "16:9", "1024x1792": "9:16"}
_decode = msgspec.json.Decoder(Any).decode


class GeminiProvider:
    """Google Gemini through ``generateContent`` / ``streamGenerateContent?alt=sse``."""

    name = PROVIDER
    supports_images = True

    def __init__(
        self, api_key: str, client: httpx.AsyncClient, base_url: str = DEFAULT_BASE_URL
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._headers = {"x-goog-api-key": api_key, "content-type": "application/json"}

    async def list_models(self) -> list[Model]:
        """Every model that supports ``generateContent``, across all pages."""
        models: list[Model] = []
        params: dict[str, Any] = {"pageSize": 1000}
        with upstream_errors(PROVIDER):
            for _ in range(MAX_MODEL_PAGES):
                response = await self._client.get(
                    f"{self._base}/models", params=params, headers=self._headers
                )
                data = self._checked(response)
                for record in data.get("models") or []:
                    methods = record.get("supportedGenerationMethods") or []
                    if record.get("name") and "generateContent" in methods:
                        models.append(model_from(record))
                if not data.get("nextPageToken"):
                    break
                params["pageToken"] = data["nextPageToken"]
        return models

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """One ``generateContent`` call, translated both ways."""
        body = msgspec.json.encode(to_gemini(request))
        with upstream_errors(PROVIDER):
            response = await fetch(
                self._client, self._request(request.model, "generateContent", body)
            )
            return from_gemini(self._checked(response), request.model)

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """``streamGenerateContent?alt=sse`` as OpenAI chunks (usage chunk last)."""
        body = msgspec.json.encode(to_gemini(request))
        upstream = self._request(request.model, "streamGenerateContent", body, alt="sse")
        with upstream_errors(PROVIDER):
            async with stream(self._client, upstream) as response:
                if not response.is_success:
                    raise gemini_error(
                        response.status_code, response.headers, await response.aread()
                    )
                async for chunk in stream_chunks(gemini_payloads(response), request.model):
                    yield chunk

    async def images(self, request: ImageRequest) -> ImageResponse:
        """Images from a Gemini image model: ``inlineData`` parts become ``b64_json``."""
        config: dict[str, Any] = {"responseModalities": ["TEXT", "IMAGE"]}
        if request.n and request.n > 1:
            config["candidateCount"] = request.n
        if request.size and request.size != "auto":
            config["imageConfig"] = {"aspectRatio": _aspect_ratio(request.size)}
        body: dict[str, Any] = {
            "contents": [{"role": "user", "parts": [{"text": request.prompt}]}],
            "generationConfig": config,
        }
        with upstream_errors(PROVIDER):
            upstream = self._request(request.model, "generateContent", msgspec.json.encode(body))
            data = self._checked(await fetch(self._client, upstream))
        images = []
        for candidate in data.get("candidates") or []:
            for image in read_parts((candidate.get("content") or {}).get("parts") or []).images:
                url = image["image_url"]["url"]
                if request.response_format == "url":
                    images.append(ImageData(url=url))  # a data: URL; Gemini hosts nothing
                else:
                    images.append(ImageData(b64_json=url.partition(",")[2]))
        if not images:
            raise gemini_error(400, {}, {"error": {"message": "the model returned no image"}})
        return ImageResponse(created=int(time.time()), data=images)

    async def aclose(self) -> None:
        """Nothing to release: the HTTP client is shared and owned by the gateway."""

    def _url(self, model: str, method: str) -> str:
        return f"{self._base}/models/{model.removeprefix('models/')}:{method}"

    def _request(self, model: str, method: str, body: bytes, **params: str) -> httpx.Request:
        url = httpx.URL(self._url(model, method), params=params or None)
        return build_request("POST", url, self._headers, body)

    def _checked(self, response: httpx.Response) -> dict[str, Any]:
        if not response.is_success:
            raise gemini_error(response.status_code, response.headers, response.content)
        try:
            data = _decode(response.content)
        except msgspec.DecodeError as exc:
            raise ProviderUnavailable(f"{PROVIDER}: malformed answer", provider=PROVIDER) from exc
        return data if isinstance(data, dict) else {}


def model_from(record: dict[str, Any]) -> Model:
    """A catalogue model from a Gemini ``models`` record (``models/`` prefix stripped)."""
    upstream_id = record["name"].removeprefix("models/")
    prices = PRICES.get(re.sub(r"-\d{3}$", "", upstream_id))
    gemini = upstream_id.startswith("gemini")
    outputs = ["text", "image"] if "image" in upstream_id else ["text"]
    if "-tts" in upstream_id:
        outputs = ["audio"]
    return make_model(
        PROVIDER,
        upstream_id,
        name=record.get("displayName") or upstream_id,
        context_length=record.get("inputTokenLimit"),
        prompt_price=prices[0] if prices else None,
        completion_price=prices[1] if prices else None,
        input_modalities=["text", "image"] if gemini else ["text"],
        output_modalities=outputs,
        is_free=False,
        supports_tools=(outputs == ["text"]) if gemini else False,
        raw=record,
    )


def _aspect_ratio(size: str) -> str:
    if size in _SIZES:
        return _SIZES[size]
    width, _, height = size.partition("x")
    if width.isdigit() and height.isdigit() and int(width) and int(height):
        divisor = math.gcd(int(width), int(height))
        ratio = f"{int(width) // divisor}:{int(height) // divisor}"
        if ratio in _ASPECT_RATIOS:
            return ratio
    raise ValidationFailed(
        f"size: gemini supports the aspect ratios {', '.join(sorted(_ASPECT_RATIOS))}",
        param="size",
    )
