"""The Cohere adapter: native v2 Chat API (``/v2/chat``) and the v1 model list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec

from freeway.errors import ProviderUnavailable, UpstreamBadRequest
from freeway.http import build_request, fetch, stream
from freeway.providers.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ImageRequest,
    ImageResponse,
    Model,
    make_model,
)
from freeway.providers.upstream import upstream_errors

from .stream import cohere_payloads, stream_chunks
from .translate import PROVIDER, cohere_error, from_cohere, to_cohere

DEFAULT_BASE_URL = "https://api.cohere.com"
MAX_MODEL_PAGES = 50  # a guard against an upstream that keeps returning a page token
_decode = msgspec.json.Decoder(Any).decode


class CohereProvider:
    """Cohere's Command models through the v2 Chat API."""

    name = PROVIDER
    supports_images = False

    def __init__(
        self, api_key: str, client: httpx.AsyncClient, base_url: str = DEFAULT_BASE_URL
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._headers = {
            "authorization": f"Bearer {api_key}",
            "content-type": "application/json",
            "x-client-name": "freeway",
        }

    async def list_models(self) -> list[Model]:
        """Every chat model, across all pages of ``/v1/models?endpoint=chat``."""
        models: list[Model] = []
        params: dict[str, Any] = {"endpoint": "chat", "page_size": 1000}
        with upstream_errors(PROVIDER):
            for _ in range(MAX_MODEL_PAGES):
                response = await self._client.get(
                    f"{self._base}/v1/models", params=params, headers=self._headers
                )
                data = self._checked(response)
                for record in data.get("models") or []:
                    if record.get("name") and "chat" in (record.get("endpoints") or ["chat"]):
                        models.append(model_from(record))
                if not data.get("next_page_token"):
                    break
                params["page_token"] = data["next_page_token"]
        return models

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """One ``/v2/chat`` call, translated both ways."""
        body = msgspec.json.encode(to_cohere(request))
        with upstream_errors(PROVIDER):
            response = await fetch(self._client, self._chat_request(body, self._headers))
            return from_cohere(self._checked(response), request.model)

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """``/v2/chat`` with ``stream: true`` as OpenAI chunks (usage chunk last)."""
        body = msgspec.json.encode(to_cohere(request, stream=True))
        headers = {**self._headers, "accept": "text/event-stream"}
        with upstream_errors(PROVIDER):
            async with stream(self._client, self._chat_request(body, headers)) as response:
                if not response.is_success:
                    raise cohere_error(
                        response.status_code, response.headers, await response.aread()
                    )
                async for chunk in stream_chunks(cohere_payloads(response), request.model):
                    yield chunk

    async def images(self, request: ImageRequest) -> ImageResponse:
        """Cohere generates no images."""
        raise UpstreamBadRequest(f"{PROVIDER}: no image generation", provider=PROVIDER)

    async def aclose(self) -> None:
        """Nothing to release: the HTTP client is shared and owned by the gateway."""

    def _chat_request(self, body: bytes, headers: dict[str, str]) -> httpx.Request:
        return build_request("POST", httpx.URL(f"{self._base}/v2/chat"), headers, body)

    def _checked(self, response: httpx.Response) -> dict[str, Any]:
        if not response.is_success:
            raise cohere_error(response.status_code, response.headers, response.content)
        try:
            data = _decode(response.content)
        except msgspec.DecodeError as exc:
            raise ProviderUnavailable(f"{PROVIDER}: malformed answer", provider=PROVIDER) from exc
        return data if isinstance(data, dict) else {}


def model_from(record: dict[str, Any]) -> Model:
    """A catalogue model from a Cohere ``/v1/models`` record (no prices in the API)."""
    features = record.get("features") or []
    vision = "vision" in features or "vision" in record["name"]
    return make_model(
        PROVIDER,
        record["name"],
        context_length=record.get("context_length") or None,
        input_modalities=["text", "image"] if vision else ["text"],
        is_free=False,
        supports_tools=("tools" in features) if features else None,
        raw=record,
    )
