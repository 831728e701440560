"""The Groq adapter: OpenAI-compatible chat with Groq's quirks (``providers.md`` §4).

* ``/models`` gives ``context_window`` and ``active`` but no prices or modalities:
  prices come from a dated table below, vision from the model name; speech and
  guard models are skipped.  With ``free_tier`` every model is listed as free.
* Groq answers 400 to ``logprobs``/``logit_bias``/``top_logprobs`` and to
  ``messages[].name``: they are dropped.  ``n`` other than 1 cannot be honoured and
  is refused before calling upstream.  ``null`` keys in assistant messages
  (``function_call: null``) are stripped.
* Streams carry usage in ``x_groq.usage`` on the last chunk, so ``stream_options``
  is not sent; the generic adapter turns it into a final ``choices: []`` chunk.
* 429 waits: ``retry-after``, else the reset header of the exhausted limit (the
  request limit is per *day*), else "try again in 5.2s" from the message.
  498 (flex capacity) is retryable like a 503.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx

from freeway.errors import ProviderUnavailable, RateLimited, UpstreamBadRequest
from freeway.providers import ChatChunk, ChatRequest, Model, Usage, make_model
from freeway.providers.openai_compatible import OpenAICompatibleProvider
from freeway.providers.upstream import parse_retry_after, upstream_message

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.groq.com/openai/v1"

# USD per 1M tokens (input, output), from https://groq.com/pricing (on-demand tier).
PRICES_AS_OF = "2025-08-07"
PRICES: dict[str, tuple[float, float]] = {
    "llama-3.1-8b-instant": (0.05, 0.08),
    "llama-3.3-70b-versatile": (0.59, 0.79),
    "meta-llama/llama-4-scout-17b-16e-instruct": (0.11, 0.34),
    "meta-llama/llama-4-maverick-17b-128e-instruct": (0.20, 0.60),
    "openai/gpt-oss-120b": (0.15, 0.75),
    "openai/gpt-oss-20b": (0.10, 0.50),
    "qwen/qwen3-32b": (0.29, 0.59),
    "moonshotai/kimi-k2-instruct": (1.00, 3.00),
    "deepseek-r1-distill-llama-70b": (0.75, 0.99),
    "gemma2-9b-it": (0.20, 0.20),
    "mistral-saba-24b": (0.79, 0.79),
}
_NOT_CHAT = ("whisper", "tts", "guard")
_VISION = ("llama-4", "vision")
_UNSUPPORTED = ("logprobs", "top_logprobs", "logit_bias")
_TRY_AGAIN = re.compile(r"try again in ((?:\d+(?:\.\d+)?(?:ms|h|m|s))+)", re.IGNORECASE)


class GroqProvider(OpenAICompatibleProvider):
    """Groq (``groq/<model>``) on the shared client."""

    supports_images = False

    def __init__(
        self,
        *,
        api_key: str,
        client: httpx.AsyncClient,
        base_url: str = DEFAULT_BASE_URL,
        free_tier: bool = False,
        name: str = "groq",
    ) -> None:
        super().__init__(name, base_url=base_url, api_key=api_key, client=client)
        self.free_tier = free_tier

    # --- models ---------------------------------------------------------------------

    def parse_model(self, raw: dict[str, Any]) -> Model | None:
        """A chat model with its context window and table price; others are skipped."""
        upstream_id: str = raw["id"]
        if raw.get("active") is False or any(k in upstream_id.lower() for k in _NOT_CHAT):
            return None
        context = raw.get("context_window")
        price = (0.0, 0.0) if self.free_tier else PRICES.get(upstream_id, (None, None))
        return make_model(
            self.name,
            upstream_id,
            context_length=context if isinstance(context, int) and context > 0 else None,
            prompt_price=price[0],
            completion_price=price[1],
            is_free=self.free_tier,
            input_modalities=(
                ["text", "image"] if any(v in upstream_id for v in _VISION) else ["text"]
            ),
            raw=raw,
        )

    # --- request --------------------------------------------------------------------

    def build_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        """The generic body without what Groq refuses."""
        if request.n not in (None, 1):
            raise UpstreamBadRequest(
                f"{self.name} supports only n=1 (got n={request.n}); send n=1 or omit it",
                provider=self.name,
                param="n",
            )
        body = super().build_body(request, stream=stream)
        body.pop("stream_options", None)  # usage comes in x_groq.usage regardless
        for key in _UNSUPPORTED:
            if body.pop(key, None) is not None:
                log.debug("groq: dropped unsupported %s", key)
        body["messages"] = [_clean_message(m) for m in body["messages"]]
        return body

    # --- stream ---------------------------------------------------------------------

    def parse_chunk(self, data: Any) -> ChatChunk | None:
        """A chunk, with ``x_groq.usage`` moved to the standard ``usage`` field."""
        chunk: ChatChunk | None = super().parse_chunk(data)
        if chunk is not None and chunk.usage is None:
            x_groq = data.get("x_groq") if isinstance(data, dict) else None
            usage = x_groq.get("usage") if isinstance(x_groq, dict) else None
            if isinstance(usage, dict):
                chunk.usage = self.convert(usage, Usage)
        return chunk

    # --- errors ---------------------------------------------------------------------

    async def check_response(self, response: httpx.Response) -> None:
        """Groq's 429 wait hints and its retryable 498."""
        if response.status_code == 498:
            body = await response.aread()
            raise ProviderUnavailable(f"{self.name}: {upstream_message(body)}", provider=self.name)
        if response.status_code == 429:
            body = await response.aread()
            message = upstream_message(body)
            raise RateLimited(
                f"{self.name}: {message}",
                retry_after=groq_retry_after(response.headers, message),
                provider=self.name,
            )
        await super().check_response(response)


def groq_retry_after(headers: httpx.Headers, message: str) -> float | None:
    """Seconds to wait after a Groq 429."""
    if headers.get("retry-after"):
        return parse_retry_after({"retry-after": headers["retry-after"]})
    for limit in ("tokens", "requests"):
        if headers.get(f"x-ratelimit-remaining-{limit}") == "0":
            reset = headers.get(f"x-ratelimit-reset-{limit}")
            if reset:
                return parse_retry_after({"x-ratelimit-reset": reset})
    match = _TRY_AGAIN.search(message)
    if match:
        return parse_retry_after({"x-ratelimit-reset": match.group(1)})
    return None


def _clean_message(message: dict[str, Any]) -> dict[str, Any]:
    """Without ``name`` (Groq answers 400) and, for assistants, without ``null`` keys."""
    cleaned = {k: v for k, v in message.items() if k != "name"}
    if cleaned.get("role") == "assistant":
        cleaned = {k: v for k, v in cleaned.items() if v is not None or k == "content"}
    return cleaned
