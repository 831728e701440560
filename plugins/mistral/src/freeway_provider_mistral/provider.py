"""The Mistral adapter: OpenAI-compatible chat with Mistral's quirks (``providers.md`` §5).

* ``/models`` has ``max_context_length`` and ``capabilities`` (chat, vision, tools)
  but no prices: prices come from a dated table below; non-chat and deprecated
  models are skipped.  With ``free_tier`` every model is listed as free.
* Requests are rewritten for Mistral's strict validator (:mod:`.translate`):
  ``seed`` → ``random_seed``, ``max_completion_tokens`` → ``max_tokens``, ``name``
  and ``null`` keys removed, ``required``/named ``tool_choice`` → ``any``, tool-call
  ids made 9-character alphanumerics, unsupported OpenAI fields dropped.
* Answers: ``finish_reason`` ``model_length`` → ``length``, ``error`` → a retryable
  failure; list-typed content (Magistral) → text in ``content``, thinking in
  ``reasoning``.  Streams report usage on their last chunk without being asked.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx

from freeway.errors import ProviderUnavailable
from freeway.providers import ChatChunk, ChatRequest, ChatResponse, Model, make_model
from freeway.providers.openai_compatible import OpenAICompatibleProvider
from freeway_provider_mistral.translate import flatten_content, mistral_body

DEFAULT_BASE_URL = "https://api.mistral.ai/v1"

# USD per 1M tokens (input, output), from https://mistral.ai/pricing (API).
PRICES_AS_OF = "2025-08-07"
PRICES: dict[str, tuple[float, float]] = {
    "mistral-large": (2.0, 6.0),
    "mistral-medium": (0.4, 2.0),
    "mistral-small": (0.1, 0.3),
    "magistral-medium": (2.0, 5.0),
    "magistral-small": (0.5, 1.5),
    "codestral": (0.3, 0.9),
    "devstral-medium": (0.4, 2.0),
    "devstral-small": (0.1, 0.3),
    "ministral-8b": (0.1, 0.1),
    "ministral-3b": (0.04, 0.04),
    "pixtral-large": (2.0, 6.0),
    "pixtral-12b": (0.15, 0.15),
    "open-mistral-nemo": (0.15, 0.15),
    "mistral-saba": (0.2, 0.6),
}
_VERSION = re.compile(r"(-latest|-\d{4})?")
_FINISH = {"model_length": "length"}


class MistralProvider(OpenAICompatibleProvider):
    """Mistral (``mistral/<model>``) on the shared client."""

    supports_images = False

    def __init__(
        self,
        *,
        api_key: str,
        client: httpx.AsyncClient,
        base_url: str = DEFAULT_BASE_URL,
        free_tier: bool = False,
        name: str = "mistral",
    ) -> None:
        base_url = base_url.rstrip("/")
        if not base_url.endswith("/v1"):  # a bare host is a common misconfiguration
            base_url += "/v1"
        super().__init__(name, base_url=base_url, api_key=api_key, client=client)
        self.free_tier = free_tier

    # --- models ---------------------------------------------------------------------

    def parse_model(self, raw: dict[str, Any]) -> Model | None:
        """A current chat model with its capabilities and table price."""
        capabilities = raw.get("capabilities") or {}
        if capabilities.get("completion_chat") is False or _deprecated(raw.get("deprecation")):
            return None
        upstream_id: str = raw["id"]
        context = raw.get("max_context_length")
        price = (0.0, 0.0) if self.free_tier else price_of(upstream_id)
        return make_model(
            self.name,
            upstream_id,
            name=raw.get("name") or upstream_id,
            context_length=context if isinstance(context, int) and context > 0 else None,
            prompt_price=price[0],
            completion_price=price[1],
            is_free=self.free_tier,
            input_modalities=["text", "image"] if capabilities.get("vision") else ["text"],
            supports_tools=capabilities.get("function_calling"),
            raw=raw,
        )

    # --- chat -----------------------------------------------------------------------

    def build_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        """The generic body rewritten for Mistral's validator."""
        return mistral_body(super().build_body(request, stream=stream))

    def parse_response(self, data: Any) -> ChatResponse:
        """A completion with Mistral's finish reasons and list content normalized."""
        for choice in _choices(data):
            self._finish(choice)
            message = choice.get("message")
            if isinstance(message, dict) and isinstance(message.get("content"), list):
                message["content"], reasoning = flatten_content(message["content"])
                message.setdefault("reasoning", reasoning)
        return super().parse_response(data)

    def parse_chunk(self, data: Any) -> ChatChunk | None:
        """A stream chunk normalized like :meth:`parse_response`."""
        for choice in _choices(data):
            self._finish(choice)
            delta = choice.get("delta")
            if isinstance(delta, dict) and isinstance(delta.get("content"), list):
                delta["content"], reasoning = flatten_content(delta["content"])
                delta["content"] = delta["content"] or None
                delta.setdefault("reasoning", reasoning)
        return super().parse_chunk(data)

    def _finish(self, choice: dict[str, Any]) -> None:
        reason = choice.get("finish_reason")
        if reason == "error":
            raise ProviderUnavailable(
                f"{self.name}: the model failed while answering", provider=self.name
            )
        if isinstance(reason, str):
            choice["finish_reason"] = _FINISH.get(reason, reason)


def price_of(model_id: str) -> tuple[float | None, float | None]:
    """Table price of ``model_id`` (``mistral-small-2506`` → ``mistral-small``)."""
    for family, price in PRICES.items():
        if model_id.startswith(family) and _VERSION.fullmatch(model_id[len(family) :]):
            return price
    return None, None


def _choices(data: Any) -> list[dict[str, Any]]:
    choices = data.get("choices") if isinstance(data, dict) else None
    return [c for c in choices if isinstance(c, dict)] if isinstance(choices, list) else []


def _deprecated(value: Any) -> bool:
    """Whether a ``deprecation`` date (ISO 8601) has passed."""
    if not isinstance(value, str):
        return False
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when <= datetime.now(UTC)
