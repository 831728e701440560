"""What one proxied request leaves behind: the :class:`UsageRecord`, and the sink protocol."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Protocol

import msgspec

Status = Literal["ok", "error", "cancelled"]
Endpoint = Literal["chat", "images"]


class UsageRecord(msgspec.Struct, kw_only=True):
    """One request: who asked for what, what served it, what it cost and how it went.

    ``model`` is the gateway id (``<provider>/<upstream id>``) that served the request,
    ``None`` when none did; ``cost_usd`` is computed from catalogue prices at request
    time; ``fallback_count`` is how many candidates failed before the one that
    answered (or before giving up).
    """

    request_id: str
    project_id: str | None
    created_at: dt.datetime
    requested_model: str
    model: str | None = None
    provider: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    status: Status = "ok"
    error_code: str | None = None
    stream: bool = False
    fallback_count: int = 0
    endpoint: Endpoint = "chat"


class UsageSink(Protocol):
    """Receives batches of usage records, off the request path.

    ``write`` may raise: the queue retries it with backoff and then spills the batch
    to disk for replay on the next start, so a sink should be idempotent per batch
    only as far as it can be (the database sink writes each batch in one transaction).
    """

    name: str

    async def write(self, batch: list[UsageRecord]) -> None:
        """Persist or forward one batch."""
        ...


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC (the ``created_at`` of a record)."""
    return dt.datetime.now(dt.UTC)
