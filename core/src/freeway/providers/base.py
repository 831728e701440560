"""The Provider protocol every adapter implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from freeway.providers.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ImageRequest,
    ImageResponse,
    Model,
)


@runtime_checkable
class Provider(Protocol):
    """An upstream model provider.

    ``name`` is the gateway prefix of its model ids (``groq`` in ``groq/llama-3.1-8b``).
    The request's ``model`` given to ``chat``/``stream_chat``/``images`` is the
    *upstream* id (without the ``<provider>/`` prefix).  Adapters raise only
    :mod:`freeway.errors` errors (``RateLimited``, ``ProviderUnavailable``,
    ``ProviderTimeout``, ``UpstreamBadRequest``, ``UpstreamAuthError``).
    ``stream_chat`` must always yield a final chunk carrying ``usage`` when the
    upstream reports it.  ``images`` is optional (``supports_images``).
    """

    name: str

    async def list_models(self) -> list[Model]:
        """Every model this provider offers, normalized."""
        ...

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """One non-streaming chat completion."""
        ...

    def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Stream chat completion chunks; the upstream call is cancelled when closed."""
        ...

    async def images(self, request: ImageRequest) -> ImageResponse:
        """Generate images (raise ``UpstreamBadRequest`` if unsupported)."""
        ...

    async def aclose(self) -> None:
        """Release resources the adapter owns (not the shared HTTP client)."""
        ...
