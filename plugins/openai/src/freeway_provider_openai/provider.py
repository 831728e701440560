"""The OpenAI adapter: the native upstream of the API the gateway speaks.

What differs from the generic adapter (``providers.md`` §1):

* ``/models`` lists ids only, and every kind of model (embeddings, speech,
  moderation…).  Only chat and image models are kept; prices, context windows and
  input modalities come from the plugin's dated table (:mod:`.prices`).
* Reasoning models (o-series, gpt-5) reject ``max_tokens`` and non-default
  ``temperature``/``top_p``: ``max_tokens`` is sent as ``max_completion_tokens``
  and the sampling knobs are dropped for them.
* ``OpenAI-Organization`` / ``OpenAI-Project`` headers when configured.
* A 429 with code ``insufficient_quota`` is exhausted credit, not a rate limit:
  it is not retried (``UpstreamBadRequest``, code ``insufficient_quota``).
* Images: ``POST /images/generations`` as the generic adapter does it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import msgspec

from freeway.errors import UpstreamBadRequest
from freeway.providers import ChatRequest, Model, make_model
from freeway.providers.openai_compatible import OpenAICompatibleProvider
from freeway.providers.upstream import upstream_message
from freeway_provider_openai.prices import IMAGE_MODELS, PRICES, family_of

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"

_CHAT = re.compile(r"^(gpt-|chatgpt-|o\d)")
# Model kinds /models lists that /chat/completions does not serve.
_NOT_CHAT = (
    "embedding",
    "tts",
    "whisper",
    "audio",
    "realtime",
    "transcribe",
    "search",
    "moderation",
    "instruct",
    "deep-research",
    "codex",
    "computer-use",
    "image",
)
_SAMPLING = ("temperature", "top_p")


class OpenAIProvider(OpenAICompatibleProvider):
    """OpenAI (``openai/<model>``) on the shared client."""

    supports_images = True

    def __init__(
        self,
        *,
        api_key: str,
        client: httpx.AsyncClient,
        base_url: str = DEFAULT_BASE_URL,
        organization: str | None = None,
        project: str | None = None,
        name: str = "openai",
    ) -> None:
        headers = {}
        if organization:
            headers["OpenAI-Organization"] = organization
        if project:
            headers["OpenAI-Project"] = project
        super().__init__(name, base_url=base_url, api_key=api_key, client=client, headers=headers)

    def parse_model(self, raw: dict[str, Any]) -> Model | None:
        """Chat and image models with the table's prices; other kinds are skipped."""
        upstream_id: str = raw["id"]
        family = family_of(upstream_id)
        price = PRICES.get(family) if family else None
        if family in IMAGE_MODELS or upstream_id.startswith(("dall-e", "gpt-image")):
            return make_model(
                self.name,
                upstream_id,
                image_price=price.image if price else None,
                input_modalities=["text"],
                output_modalities=["image"],
                supports_tools=False,
                raw=raw,
            )
        if not _CHAT.match(upstream_id) or any(kind in upstream_id for kind in _NOT_CHAT):
            return None
        if price is None:  # a model newer than the table: listed, but unpriced
            return make_model(self.name, upstream_id, raw=raw)
        return make_model(
            self.name,
            upstream_id,
            context_length=price.context,
            prompt_price=price.prompt,
            completion_price=price.completion,
            input_modalities=["text", "image"] if price.vision else ["text"],
            supports_tools=price.tools,
            raw=raw,
        )

    async def check_response(self, response: httpx.Response) -> None:
        """The generic mapping, except that exhausted quota is not retryable."""
        if response.status_code == 429:
            body = await response.aread()
            if _error_code(body) == "insufficient_quota":
                message = upstream_message(body)
                raise UpstreamBadRequest(
                    f"{self.name}: {message}", provider=self.name, code="insufficient_quota"
                )
        await super().check_response(response)

    def build_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        """The generic body, adjusted for reasoning models."""
        body = super().build_body(request, stream=stream)
        if is_reasoning_model(request.model):
            max_tokens = body.pop("max_tokens", None)
            if max_tokens is not None:
                body.setdefault("max_completion_tokens", max_tokens)
            for knob in _SAMPLING:
                if body.get(knob) not in (None, 1, 1.0):
                    log.debug("openai: dropping %s for reasoning model %s", knob, request.model)
                    body.pop(knob)
        return body


def is_reasoning_model(model_id: str) -> bool:
    """Whether ``model_id`` is a reasoning model (o-series, gpt-5 except chat)."""
    family = family_of(model_id)
    if family is not None:
        return PRICES[family].reasoning
    return bool(re.match(r"^(o\d|gpt-5)", model_id)) and "chat" not in model_id


def _error_code(body: bytes) -> str | None:
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None
