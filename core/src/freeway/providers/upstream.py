"""Mapping upstream HTTP failures to Freeway's error tree (one place for all adapters).

``error_from_response`` turns a non-2xx upstream answer into a ``ProviderError``
subclass; ``upstream_errors()`` wraps an ``httpx`` call so transport failures become
``ProviderTimeout`` / ``ProviderUnavailable`` and never leak as ``httpx`` exceptions.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import msgspec

from freeway.errors import (
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    UpstreamAuthError,
    UpstreamBadRequest,
)

_DURATION = re.compile(
    r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$"
)


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait, from ``retry-after`` (seconds or HTTP date) or the
    ``x-ratelimit-reset*`` family (seconds, ``1m30s``/``250ms`` durations or epoch)."""
    now = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if "," in value else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - now)
    candidates = [
        headers.get(name)
        for name in (
            "x-ratelimit-reset-requests",
            "x-ratelimit-reset-tokens",
            "x-ratelimit-reset",
        )
    ]
    waits = [w for w in (_parse_reset(c, now) for c in candidates if c) if w is not None]
    return max(waits) if waits else None


def _parse_reset(value: str, now: float) -> float | None:
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        match = _DURATION.match(value)
        if not match or not any(match.groups()):
            return None
        h, m, s, ms = (float(g) if g else 0.0 for g in match.groups())
        return h * 3600 + m * 60 + s + ms / 1000
    if number > 1e12:  # epoch milliseconds
        return max(0.0, number / 1000 - now)
    if number > 1e9:  # epoch seconds
        return max(0.0, number - now)
    return number


def upstream_message(body: bytes | str | Any) -> str:
    """The human message inside an upstream error body, whatever its shape."""
    if isinstance(body, (bytes, str)):
        try:
            data: Any = msgspec.json.decode(body)
        except msgspec.DecodeError:
            text = body.decode(errors="replace") if isinstance(body, bytes) else body
            return text.strip()[:500] or "no error message"
    else:
        data = body
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            for key in ("message", "msg", "detail"):
                if isinstance(error.get(key), str):
                    return str(error[key])
            if isinstance(error.get("detail"), list) and error["detail"]:
                return str(error["detail"][0].get("msg", error["detail"][0]))
        if isinstance(error, str):
            return error
        for key in ("message", "detail"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return str(data)[:500]


def error_from_status(
    provider: str, status: int, headers: Mapping[str, str], body: bytes | str | Any
) -> ProviderError:
    """The Freeway error for an upstream answer with HTTP ``status``."""
    message = f"{provider}: {upstream_message(body)}"
    if status == 429:
        return RateLimited(message, retry_after=parse_retry_after(headers), provider=provider)
    if status in (401, 403):
        return UpstreamAuthError(message, provider=provider)
    if status == 408:
        return ProviderTimeout(message, provider=provider)
    if status >= 500:
        return ProviderUnavailable(message, provider=provider)
    return UpstreamBadRequest(message, provider=provider)


async def raise_for_upstream(provider: str, response: httpx.Response) -> None:
    """Raise the mapped error when ``response`` is not 2xx (reads the body if streaming)."""
    if response.is_success:
        return
    body = await response.aread()
    raise error_from_status(provider, response.status_code, response.headers, body)


@contextmanager
def upstream_errors(provider: str) -> Iterator[None]:
    """Translate ``httpx`` transport errors raised inside the block."""
    try:
        yield
    except ProviderError:
        raise
    except httpx.TimeoutException as exc:
        raise ProviderTimeout(f"{provider}: upstream timed out", provider=provider) from exc
    except (httpx.TransportError, httpx.StreamError) as exc:
        raise ProviderUnavailable(
            f"{provider}: cannot reach upstream ({type(exc).__name__})", provider=provider
        ) from exc
