"""What the proxied endpoints share: body decoding, the project's rate limit, response
headers and the usage record of one request.

Kept small and allocation-light: this runs on every chat and image request.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec

from freeway.errors import FreewayError, RateLimitExceeded, ValidationFailed
from freeway.routing import Attempt
from freeway.usage.records import UsageRecord, utcnow

_AT = re.compile(r"\s*-\s*at `\$\.?([^`]*)`$")
_MISSING = re.compile(r"Object missing required field `([^`]+)`(?: - at `\$\.?([^`]*)`)?")

JSON = "application/json"

T = TypeVar("T")

#: Seconds before a request starts watching for its client to leave: a quicker upstream
#: call costs one timer, not a task.  LLM calls that matter (long generations, slow
#: first tokens) take seconds.
WATCH_AFTER = 0.25


async def nothing(scope: Any, receive: Any, send: Any) -> None:
    """The ASGI app for a client that is gone: nothing to send."""


class DisconnectWatch:
    """Cancels the current task when the client disconnects while it waits upstream.

    The cancellation closes the upstream response, which hangs up on the provider so it
    stops generating (and billing).  Use around the upstream call only (the request
    body must be read already); ``stop()`` it as soon as the call returns.
    """

    __slots__ = ("_receive", "_task", "_timer", "_watcher", "gone")

    def __init__(self, receive: Any, delay: float = WATCH_AFTER) -> None:
        self._receive = receive
        self._task = asyncio.current_task()
        self._watcher: asyncio.Task[None] | None = None
        self.gone = False
        self._timer = asyncio.get_running_loop().call_later(delay, self._start)

    def _start(self) -> None:
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while (await self._receive())["type"] != "http.disconnect":
            pass
        if self._task is not None:
            self.gone = True
            self._task.cancel()

    def stop(self) -> None:
        """Stop watching (the upstream call returned or failed)."""
        self._timer.cancel()
        if self._watcher is not None:
            self._watcher.cancel()

    def settle(self) -> bool:
        """After a ``CancelledError``: ``True`` (and the cancellation consumed) when
        it was the client leaving, ``False`` when it is a real cancellation."""
        if not self.gone or self._task is None:
            return False
        self._task.uncancel()
        return True


class ClientGone(Exception):
    """The client disconnected while the upstream was working (see :func:`watched`)."""


async def watched(receive: Any, upstream: Awaitable[T]) -> T:
    """Await the ``upstream`` call under a :class:`DisconnectWatch`: the client leaving
    cancels it and raises :class:`ClientGone`; a real cancellation stays one."""
    watch = DisconnectWatch(receive)
    try:
        return await upstream
    except asyncio.CancelledError:
        if watch.settle():
            raise ClientGone from None
        raise
    finally:
        watch.stop()


def decode_body(decode: Callable[[bytes], T], body: bytes) -> T:
    """``decode(body)``; malformed JSON or a field of the wrong shape is a 400 that
    names the field (:func:`invalid_body`)."""
    try:
        return decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise invalid_body(exc) from None


def invalid_body(exc: Exception) -> ValidationFailed:
    """A 400 naming the field msgspec complained about and what it expected."""
    # ValidationError subclasses DecodeError: anything else is malformed JSON.
    if not isinstance(exc, msgspec.ValidationError):
        return ValidationFailed(f"request body is not valid JSON: {exc}", code="invalid_json")
    text = str(exc)
    missing = _MISSING.match(text)
    if missing:
        field = ".".join(p for p in (missing.group(2), missing.group(1)) if p)
        return ValidationFailed(f"{field}: required field is missing", param=field)
    at = _AT.search(text)
    if at:
        path: str | None = at.group(1) or None
        message = text[: at.start()]
        message = message[0].lower() + message[1:] if message else "invalid value"
        return ValidationFailed(
            f"{path}: {message.replace('`', '')}" if path else message, param=path
        )
    return ValidationFailed(f"request body: {text[0].lower()}{text[1:]}".replace("`", ""))


class Call:
    """One proxied request in flight: who, what, when, and what happened."""

    __slots__ = (
        "attempt",
        "created_at",
        "endpoint",
        "gw",
        "limit_headers",
        "project_id",
        "request_id",
        "requested_model",
        "started",
        "stream",
    )

    def __init__(self, gw: Any, scope: Any, endpoint: str) -> None:
        self.gw = gw
        self.started = time.perf_counter()
        self.created_at = utcnow()
        state = scope["state"]
        self.request_id: str = state.get("request_id", "")
        principal = state.get("principal")
        project = principal.project if principal is not None else None
        self.project_id: str | None = project.id if project is not None else None
        self.endpoint = endpoint
        self.requested_model = ""
        self.stream = False
        self.attempt = Attempt()
        self.limit_headers: dict[str, str] | None = None

    # --- rate limit ---------------------------------------------------------------

    async def check_rate_limit(self, project: Any) -> None:
        """Count this request against the project's limit; 429 when over it."""
        limit = project.rate_limit_per_minute if project is not None else None
        if not limit:
            return
        decision = await self.gw.rate_limiter.hit(project.id, limit)
        headers = {
            "x-ratelimit-limit-requests": str(limit),
            "x-ratelimit-remaining-requests": str(decision.remaining),
            "x-ratelimit-reset-requests": f"{decision.reset_after:.3f}s",
        }
        self.limit_headers = headers
        if not decision.allowed:
            wait = decision.retry_after
            headers["retry-after"] = str(max(1, int(-(-wait // 1))))
            raise RateLimitExceeded(
                f"rate limit of {limit} requests per minute exceeded for project "
                f"{project.name!r}; retry in {wait:.1f}s",
                retry_after=wait,
                headers=dict(headers),
            )

    # --- response headers ---------------------------------------------------------

    def headers(self) -> dict[str, str]:
        """``x-freeway-provider``/``x-freeway-model`` and the rate-limit headers."""
        headers = dict(self.limit_headers) if self.limit_headers else {}
        candidate = self.attempt.candidate
        if candidate is not None:
            headers["x-freeway-provider"] = candidate.provider.name
            headers["x-freeway-model"] = candidate.gateway_id
        return headers

    def annotate(self, exc: FreewayError) -> None:
        """Add our headers to an error on its way to the client."""
        for name, value in self.headers().items():
            exc.headers.setdefault(name, value)

    # --- usage --------------------------------------------------------------------

    def record(
        self,
        status: str = "ok",
        *,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        total_tokens: int = 0,
        cost_usd: float = 0.0,
        ttft_ms: float | None = None,
        error_code: str | None = None,
    ) -> None:
        """Queue this request's usage record (never blocks)."""
        usage = self.gw.usage
        if usage is None:
            return
        candidate = self.attempt.candidate
        usage.submit(
            UsageRecord(
                request_id=self.request_id,
                project_id=self.project_id,
                created_at=self.created_at,
                requested_model=self.requested_model,
                model=candidate.gateway_id if candidate is not None else None,
                provider=candidate.provider.name if candidate is not None else None,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                total_tokens=total_tokens or prompt_tokens + completion_tokens,
                cost_usd=cost_usd,
                latency_ms=(time.perf_counter() - self.started) * 1000,
                ttft_ms=ttft_ms,
                status=status,  # type: ignore[arg-type]
                error_code=error_code,
                stream=self.stream,
                fallback_count=self.attempt.fallbacks,
                endpoint=self.endpoint,  # type: ignore[arg-type]
            )
        )

    def failed(self, exc: BaseException) -> None:
        """The request failed with ``exc``: queue its usage record, and give a Freeway
        error our headers on its way to the client."""
        if isinstance(exc, FreewayError):
            self.annotate(exc)
            code = exc.code
        else:
            code = "server_error"
        self.record("error", error_code=code)
