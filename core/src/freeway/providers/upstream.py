"""Mapping upstream HTTP failures to Freeway's error tree (one place for all adapters).

``error_from_response`` turns a non-2xx upstream answer into a ``ProviderError``
subclass; ``upstream_errors()`` wraps an ``httpx`` call so transport failures become
``ProviderTimeout`` / ``ProviderUnavailable`` and never leak as ``httpx`` exceptions.
"""

from __future__ import annotations

import email.utils
import math
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
    ``x-ratelimit-reset*`` family (seconds, ``1m30s``/``250ms`` durations or epoch).

    Always ``None`` or a finite number ≥ 0, whatever the upstream sent."""
    now = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        wait = _parse_retry_after_value(value.strip(), now)
        if wait is not None:
            return wait
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


def _finite_wait(seconds: float) -> float | None:
    """A usable wait: non-finite values are ignored, negative ones mean "now"."""
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _parse_retry_after_value(value: str, now: float) -> float | None:
    try:
        return _finite_wait(float(value))
    except ValueError:
        pass
    if "," not in value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return _finite_wait(parsed.timestamp() - now)


def _parse_reset(value: str, now: float) -> float | None:
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        match = _DURATION.match(value)
        if not match or not any(match.groups()):
            return None
        h, m, s, ms = (float(g) if g else 0.0 for g in match.groups())
        return _finite_wait(h * 3600 + m * 60 + s + ms / 1000)
    if number > 1e12:  # epoch milliseconds
        return _finite_wait(number / 1000 - now)
    if number > 1e9:  # epoch seconds
        return _finite_wait(number - now)
    return _finite_wait(number)


def upstream_message(body: bytes | str | Any, _depth: int = 0) -> str:
    """The human message inside an upstream error body, whatever its shape.

    Handles ``{"error": {"message"}}``, ``{"message"}``, pydantic-style ``detail``
    lists (``loc: msg``), and a ``message`` that is itself an object or a JSON string.
    """
    if isinstance(body, (bytes, str)):
        try:
            data: Any = msgspec.json.decode(body)
        except msgspec.DecodeError:
            text = body.decode(errors="replace") if isinstance(body, bytes) else body
            return text.strip()[:500] or "no error message"
        if isinstance(data, str):
            return data.strip()[:500] or "no error message"
    else:
        data = body
    if _depth > 3:
        return str(data)[:500]
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, dict):
        if isinstance(data.get("msg"), str):  # one pydantic validation item
            loc = ".".join(str(part) for part in data.get("loc") or [])
            return f"{loc}: {data['msg']}" if loc else str(data["msg"])
        error = data.get("error", data)
        if isinstance(error, str):
            return error
        if isinstance(error, dict):
            for key in ("message", "detail"):
                value = error.get(key)
                if isinstance(value, str) and not value.lstrip().startswith(("{", "[")):
                    return value
                if isinstance(value, (str, dict, list)) and value:
                    return upstream_message(value, _depth + 1)
            if isinstance(error.get("msg"), str):
                return str(error["msg"])
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
    except (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL) as exc:
        raise ProviderUnavailable(
            f"{provider}: cannot reach upstream ({type(exc).__name__})", provider=provider
        ) from exc
