"""The router: try candidates in order until one answers.

A retryable failure (timeout, connection error, 429, 5xx — ``ProviderError.retryable``)
before anything reached the client moves on to the next candidate; a non-retryable
one (400, upstream auth, content policy) goes back to the client with the upstream's
message.  Providers whose circuit is open are skipped (see :mod:`.breaker`).  The
whole request, fallbacks included, must finish within ``request_deadline`` seconds.

For streams, "before anything reached the client" means before the first chunk: the
router pulls the first chunk from a candidate before the response starts, so a
provider that fails to start streaming is replaced transparently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import msgspec

from freeway.errors import (
    FreewayError,
    NoModelAvailable,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
)
from freeway.providers.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ImageRequest,
    ImageResponse,
    StreamOptions,
)
from freeway.routing.breaker import CircuitBreaker
from freeway.routing.resolve import Candidate, fit_chat, resolve

T = TypeVar("T")

log = logging.getLogger(__name__)

_USAGE_ON = StreamOptions(include_usage=True)
_IMAGE_OUTPUT = ["image", "text"]


class Attempt:
    """What the router did for one request: the candidate that answered (or failed
    last) and how many candidates failed before it."""

    __slots__ = ("candidate", "fallbacks")

    def __init__(self) -> None:
        self.candidate: Candidate | None = None
        self.fallbacks = 0


class Router:
    """Resolution, fallback and circuit breaking over the gateway's providers."""

    def __init__(
        self,
        providers: dict[str, Any],
        catalogue: Any = None,
        *,
        gateway: Any = None,
        fallbacks: dict[str, list[str]] | None = None,
        breaker_threshold: int = 5,
        breaker_cooldown: float = 30.0,
    ) -> None:
        self.providers = providers
        self.fallbacks = fallbacks or {}
        self._catalogue = catalogue
        # With a gateway, the catalogue is read from it on every request: the
        # catalogue helper may attach or replace it after the router was built.
        self._gateway = gateway
        self._threshold = breaker_threshold
        self._cooldown = breaker_cooldown
        self._breakers = {
            name: CircuitBreaker(breaker_threshold, breaker_cooldown) for name in providers
        }

    @classmethod
    def from_gateway(cls, gw: Any) -> Router:
        """The router of a gateway whose providers are loaded."""
        return cls(
            gw.providers,
            gateway=gw,
            fallbacks=gw.settings.fallbacks,
            breaker_threshold=gw.settings.breaker_threshold,
            breaker_cooldown=gw.settings.breaker_cooldown,
        )

    @property
    def catalogue(self) -> Any:
        """The model catalogue (``None`` until one is attached)."""
        return self._gateway.catalogue if self._gateway is not None else self._catalogue

    # --- resolution ---------------------------------------------------------------

    def candidates(self, requested: str, chat: ChatRequest | None = None) -> list[Candidate]:
        """Candidates for ``requested`` (fitted to ``chat`` when given), best first, then
        those of its configured ``[fallbacks]`` (models or categories), without repeats."""
        catalogue = self.catalogue
        extra = self.fallbacks.get(requested)
        if not extra:
            found = resolve(requested, catalogue, self.providers)
        else:
            found, missing = [], None
            for name in (requested, *extra):
                try:
                    found.extend(resolve(name, catalogue, self.providers))
                except NoModelAvailable as exc:
                    missing = missing or exc
            if not found:
                assert missing is not None
                raise missing
            unique: dict[str, Candidate] = {}
            for candidate in found:
                unique.setdefault(candidate.gateway_id, candidate)
            found = list(unique.values())
        if chat is not None:
            found = fit_chat(requested, found, chat)
        return found

    # --- breakers -----------------------------------------------------------------

    def breaker(self, provider: str) -> CircuitBreaker:
        """The circuit breaker of ``provider`` (created on first use)."""
        breaker = self._breakers.get(provider)
        if breaker is None:
            breaker = self._breakers[provider] = CircuitBreaker(self._threshold, self._cooldown)
        return breaker

    def provider_states(self) -> dict[str, str]:
        """``{provider: "closed" | "open" | "half_open"}`` for ``/health/ready``."""
        return {name: self.breaker(name).current() for name in self.providers}

    def record_stream_failure(self, provider: str, error: BaseException) -> None:
        """A stream broke after it started: count it against the provider's circuit."""
        if isinstance(error, ProviderError) and error.retryable:
            self.breaker(provider).failure()

    # --- calls --------------------------------------------------------------------

    async def chat(
        self,
        request: ChatRequest,
        candidates: list[Candidate],
        attempt: Attempt,
        deadline: float,
    ) -> ChatResponse:
        """A non-streamed completion from the first candidate that answers."""

        def call(candidate: Candidate) -> Awaitable[ChatResponse]:
            return candidate.provider.chat(_for(request, candidate, stream=False))

        return await self._run(request.model, candidates, attempt, deadline, call)

    async def open_stream(
        self,
        request: ChatRequest,
        candidates: list[Candidate],
        attempt: Attempt,
        deadline: float,
    ) -> tuple[ChatChunk, AsyncIterator[ChatChunk]]:
        """The first chunk and the rest of the stream of the first candidate that
        starts streaming.  Upstream usage is always requested."""

        async def call(candidate: Candidate) -> tuple[ChatChunk, AsyncIterator[ChatChunk]]:
            stream = candidate.provider.stream_chat(_for(request, candidate, stream=True))
            try:
                first = await anext(stream)
            except StopAsyncIteration:
                raise ProviderUnavailable(
                    f"{candidate.provider.name}: the stream ended before the first chunk",
                    provider=candidate.provider.name,
                ) from None
            except BaseException:
                await _close(stream)
                raise
            return first, stream

        return await self._run(request.model, candidates, attempt, deadline, call)

    async def images(
        self,
        request: ImageRequest,
        candidates: list[Candidate],
        attempt: Attempt,
        deadline: float,
    ) -> ImageResponse:
        """Images from the first candidate that makes them."""

        def call(candidate: Candidate) -> Awaitable[ImageResponse]:
            images = getattr(candidate.provider, "images", None)
            if images is None:
                raise ProviderUnavailable(
                    f"{candidate.provider.name} does not generate images",
                    provider=candidate.provider.name,
                )
            return images(msgspec.structs.replace(request, model=candidate.upstream_id))  # type: ignore[no-any-return]

        return await self._run(request.model, candidates, attempt, deadline, call)

    async def _run(
        self,
        requested: str,
        candidates: list[Candidate],
        attempt: Attempt,
        deadline: float,
        call: Callable[[Candidate], Awaitable[T]],
    ) -> T:
        last: FreewayError | None = None
        skipped: list[str] = []
        for candidate in candidates:
            name = candidate.provider.name
            breaker = self.breaker(name)
            if not breaker.allow():
                skipped.append(name)
                continue
            attempt.candidate = candidate
            try:
                async with asyncio.timeout_at(deadline):
                    result = await call(candidate)
            except ProviderError as exc:
                if not exc.retryable:
                    breaker.success()  # it answered, just not with a result
                    raise
                breaker.failure()
                last = exc
                attempt.fallbacks += 1
                continue
            except TimeoutError:
                breaker.release()
                raise ProviderTimeout(
                    f"{requested!r}: no answer within the request deadline",
                    provider=name,
                    code="deadline_exceeded",
                ) from None
            except FreewayError:
                breaker.release()
                raise
            except Exception as exc:
                # An adapter bug must not take the route down: log it, fall back.
                log.warning("provider %s raised %r; trying the next candidate", name, exc)
                breaker.failure()
                last = ProviderUnavailable(f"{name}: adapter error ({type(exc).__name__})")
                attempt.fallbacks += 1
                continue
            except BaseException:
                breaker.release()
                raise
            breaker.success()
            return result
        if attempt.fallbacks:
            # Every attempt failed; the client sees the last upstream error.
            attempt.fallbacks -= 1
            assert last is not None
            raise last
        raise ProviderUnavailable(
            f"every provider that serves {requested!r} is failing "
            f"(circuit open: {', '.join(dict.fromkeys(skipped))}); retry later",
            code="circuit_open",
        )


def _for(request: ChatRequest, candidate: Candidate, *, stream: bool) -> ChatRequest:
    """The request as this candidate's provider should receive it."""
    changes: dict[str, Any] = {"model": candidate.upstream_id}
    if stream:
        changes["stream"] = True
        changes["stream_options"] = _USAGE_ON
    model = candidate.model
    if model is not None and request.modalities is None and model.makes_images:
        changes["modalities"] = _IMAGE_OUTPUT  # OpenRouter-style image output via chat
    return msgspec.structs.replace(request, **changes)


async def _close(stream: Any) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        # Closing a broken upstream stream must not mask the error that broke it.
        with contextlib.suppress(Exception):
            await aclose()
