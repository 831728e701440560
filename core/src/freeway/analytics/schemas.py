"""Response shapes of the analytics endpoints (msgspec Structs, JSON as documented)."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec


class Summary(msgspec.Struct, kw_only=True):
    """``GET /admin/analytics/summary``: the seed's five fields plus tokens and errors.

    "Today" and "this month" are the current UTC day and calendar month.
    """

    total_projects: int
    active_projects: int
    total_requests_today: int
    total_requests_this_month: int
    total_cost_today_usd: float
    total_cost_this_month_usd: float
    total_tokens_today: int
    total_tokens_this_month: int
    errors_today: int
    errors_this_month: int
    error_rate_today: float
    error_rate_this_month: float
    as_of: dt.datetime


class UsageMetrics(msgspec.Struct, kw_only=True):
    """Totals over a set of rollup rows.

    ``fallbacks`` is the number of fallback attempts; latencies are in ms, the
    percentiles are the upper bound of the histogram bucket holding them.
    """

    requests: int = 0
    errors: int = 0
    cancelled: int = 0
    error_rate: float = 0.0
    fallbacks: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    avg_latency_ms: float | None = None
    p50_latency_ms: float | None = None
    p95_latency_ms: float | None = None


class UsageRow(UsageMetrics, kw_only=True):
    """One group of a usage report: a day (ISO date), model, provider or project id."""

    key: str


class UsageReport(msgspec.Struct, kw_only=True):
    """``GET /admin/analytics/usage``: totals and one row per group."""

    from_: dt.date = msgspec.field(name="from")
    to: dt.date
    project_id: uuid.UUID | None
    group_by: str
    totals: UsageMetrics
    rows: list[UsageRow]


class LogItem(msgspec.Struct, kw_only=True):
    """One raw usage log."""

    id: int
    created_at: dt.datetime
    request_id: str
    project_id: uuid.UUID | None
    endpoint: str
    requested_model: str
    model: str | None
    provider: str | None
    status: str
    error_code: str | None
    stream: bool
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: float
    latency_ms: float
    ttft_ms: float | None
    fallback_count: int


class LogPage(msgspec.Struct, kw_only=True):
    """``GET /admin/analytics/logs``: one page of logs, newest first.

    ``total`` counts every match up to a cap; past it ``total_is_exact`` is false and
    ``total`` is a lower bound.  ``next_before_id`` continues after this page.
    """

    items: list[LogItem]
    total: int
    total_is_exact: bool
    page: int
    page_size: int
    has_more: bool
    next_before_id: int | None


LOG_FIELDS: tuple[str, ...] = tuple(LogItem.__struct_fields__)
