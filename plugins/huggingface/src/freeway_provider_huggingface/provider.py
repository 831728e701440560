"""The Hugging Face Inference Providers adapter (the OpenAI-compatible router).

What differs from the generic adapter (``providers.md`` §7): model ids may pin a
provider or policy (``org/model:groq``, ``:fastest``, ``:cheapest``) and pass through
unchanged; the answer may carry provider leftovers (``reasoning_content``,
``x_groq.usage`` instead of ``usage`` on Groq-served streams); error bodies are an
object, a bare string or an HTML page; the router refuses bodies over about 2 MB;
text-to-image runs on the ``hf-inference`` route and answers raw image bytes.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import time
from typing import Any

import httpx

from freeway.errors import ProviderUnavailable, RateLimited, UpstreamBadRequest
from freeway.providers import (
    ChatChunk,
    ChatResponse,
    ImageData,
    ImageRequest,
    ImageResponse,
    Model,
    Usage,
)
from freeway.providers.openai_compatible import OpenAICompatibleProvider
from freeway.providers.upstream import error_from_status, upstream_errors
from freeway_provider_huggingface.models import image_model, parse_model

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://router.huggingface.co/v1"
# The router's request size limit (about 2 MB); base64 images reach it quickly.
MAX_BODY_BYTES = 2 * 1024 * 1024
# "Please try again in 2.5s" / "in 1m3s" / "in 250ms" (Groq-served models, no header).
_TRY_AGAIN = re.compile(r"try again in (?:(\d+)m)?(\d+(?:\.\d+)?)(ms|s)\b")


class HuggingFaceProvider(OpenAICompatibleProvider):
    """Hugging Face router models (``huggingface/<org>/<model>[:provider]``).

    ``image_models`` are text-to-image model ids served by ``hf-inference``; the
    router's ``/models`` lists chat models only, so they are configured.
    """

    def __init__(
        self,
        *,
        api_key: str,
        client: httpx.AsyncClient,
        base_url: str = DEFAULT_BASE_URL,
        image_models: list[str] | None = None,
        name: str = "huggingface",
    ) -> None:
        super().__init__(name, base_url=base_url, api_key=api_key, client=client)
        self.image_models = list(image_models or [])

    # --- models ---------------------------------------------------------------------

    async def list_models(self) -> list[Model]:
        """Router chat models (authenticated: gated models are listed too) and image models."""
        models = await super().list_models()
        return models + [image_model(self.name, m) for m in self.image_models]

    def parse_model(self, raw: dict[str, Any]) -> Model | None:
        """One router record; models without a live provider are skipped."""
        return parse_model(self.name, raw)

    # --- requests and answers -------------------------------------------------------

    def encode_body(self, body: dict[str, Any]) -> bytes:
        """JSON bytes, refused here when the router would refuse them (over ~2 MB)."""
        data = super().encode_body(body)
        if len(data) > MAX_BODY_BYTES:
            raise UpstreamBadRequest(
                f"{self.name}: the request body is {len(data) / 1e6:.1f} MB but the Hugging Face"
                " router accepts at most 2 MB; send fewer or smaller images, or image URLs"
                " instead of base64 data",
                provider=self.name,
                param="messages",
                code="request_too_large",
            )
        return data

    def parse_response(self, data: Any) -> ChatResponse:
        """A completion; ``reasoning_content`` becomes the gateway's ``reasoning``."""
        if isinstance(data, dict):
            for choice in _dicts(data.get("choices")):
                _adopt_reasoning(choice.get("message"))
        return super().parse_response(data)

    def parse_chunk(self, data: Any) -> ChatChunk | None:
        """A chunk; ``x_groq.usage`` counts as usage, ``reasoning_content`` as reasoning."""
        if isinstance(data, dict):
            for choice in _dicts(data.get("choices")):
                _adopt_reasoning(choice.get("delta"))
        chunk: ChatChunk | None = super().parse_chunk(data)
        groq = data.get("x_groq") if isinstance(data, dict) else None
        groq_usage = groq.get("usage") if isinstance(groq, dict) else None
        if chunk is not None and chunk.usage is None and isinstance(groq_usage, dict):
            chunk.usage = self.convert(groq_usage, Usage)
        return chunk

    async def check_response(self, response: httpx.Response) -> None:
        """Map errors whatever their body; note which provider served (DEBUG)."""
        if response.is_success:
            if log.isEnabledFor(logging.DEBUG):
                served = response.headers.get("x-inference-provider")
                log.debug("%s: served by %s", self.name, served or "unknown provider")
            return
        body: Any = await response.aread()
        if "html" in response.headers.get("content-type", "") or body.lstrip().startswith(b"<"):
            # A proxy's error page says nothing a client can use beyond the status.
            body = {"error": f"HTTP {response.status_code} {response.reason_phrase}".strip()}
        exc = error_from_status(self.name, response.status_code, response.headers, body)
        if response.status_code == 402:
            exc.code = "insufficient_quota"
        if isinstance(exc, RateLimited) and exc.retry_after is None:
            exc.retry_after = _try_again_seconds(exc.message)
        raise exc

    # --- images ---------------------------------------------------------------------

    def image_url(self, model: str) -> str:
        """The ``hf-inference`` text-to-image route of ``model`` (beside ``/v1``)."""
        root = self.base_url.removesuffix("/v1")
        return f"{root}/hf-inference/models/{model}"

    async def images(self, request: ImageRequest) -> ImageResponse:
        """``n`` text-to-image calls on the ``hf-inference`` route (raw bytes back)."""
        model, _, pinned = request.model.partition(":")
        if pinned and pinned != "hf-inference":
            raise UpstreamBadRequest(
                f"{self.name}: images run on the hf-inference provider only, not {pinned!r}",
                provider=self.name,
                param="model",
            )
        body = self.encode_body({"inputs": request.prompt, **_image_parameters(request)})
        count = max(1, request.n or 1)
        images = await asyncio.gather(*(self._one_image(model, body) for _ in range(count)))
        if request.response_format == "url":
            data = [ImageData(url=f"data:{kind};base64,{b64}") for kind, b64 in images]
        else:
            data = [ImageData(b64_json=b64) for _, b64 in images]
        return ImageResponse(created=int(time.time()), data=data)

    async def _one_image(self, model: str, body: bytes) -> tuple[str, str]:
        headers = self.headers() | {"accept": "image/*"}
        with upstream_errors(self.name):
            response = await self.client.post(self.image_url(model), content=body, headers=headers)
            await self.check_response(response)
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        if not kind.startswith("image/") or not response.content:
            raise ProviderUnavailable(
                f"{self.name}: {model} answered {kind or 'nothing'} instead of an image",
                provider=self.name,
            )
        return kind, base64.b64encode(response.content).decode()


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _adopt_reasoning(message: Any) -> None:
    """DeepSeek-style ``reasoning_content`` → the gateway's one field, ``reasoning``."""
    if isinstance(message, dict) and message.get("reasoning") is None:
        text = message.get("reasoning_content")
        if isinstance(text, str) and text:
            message["reasoning"] = text


def _image_parameters(request: ImageRequest) -> dict[str, Any]:
    """``size`` → ``width``/``height``; a client's own ``parameters`` pass through."""
    parameters = dict(request.extra.get("parameters") or {})
    width, sep, height = (request.size or "").lower().partition("x")
    if sep and width.isdigit() and height.isdigit():
        parameters.setdefault("width", int(width))
        parameters.setdefault("height", int(height))
    return {"parameters": parameters} if parameters else {}


def _try_again_seconds(message: str) -> float | None:
    match = _TRY_AGAIN.search(message)
    if not match:
        return None
    minutes, amount, unit = match.groups()
    seconds = float(amount) / (1000 if unit == "ms" else 1)
    return seconds + 60 * int(minutes or 0)
