"""What the proxied endpoints share: body decoding, the project's rate limit, response
headers and the usage record of one request.

Kept small and allocation-light: this runs on every chat and image request.
"""

from __future__ import annotations

import re
import time
from typing import Any

import msgspec

from freeway.errors import FreewayError, RateLimitExceeded, ValidationFailed
from freeway.routing import Attempt
from freeway.usage.records import UsageRecord, utcnow

_AT = re.compile(r"\s*-\s*at `\$\.?([^`]*)`$")
_MISSING = re.compile(r"Object missing required field `([^`]+)`(?: - at `\$\.?([^`]*)`)?")

JSON = "application/json"


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

    def record_error(self, exc: BaseException) -> None:
        """Queue the usage record of a request that failed with ``exc``."""
        code = exc.code if isinstance(exc, FreewayError) else "server_error"
        self.record("error", error_code=code)
