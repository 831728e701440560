"""The SQL of analytics, as SQLAlchemy Core statements that run on SQLite and Postgres.

Rollup queries sum rollup columns and each latency-histogram slot in the database
(``latency_histogram[i]``), so no per-row JSON reaches Python.  Reports over every
project read ``usage_daily_totals`` (no project dimension, so ~1/projects the rows);
a project filter or a per-project grouping needs ``usage_daily``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal_column, or_, select

from freeway.db.models import USAGE_DAILY_SUMS, Project, UsageDaily, UsageDailyTotal, UsageLog
from freeway.usage.buckets import HISTOGRAM_SIZE

# Group name -> column name in the rollup tables.
GROUP_COLUMNS: dict[str, str] = {
    "day": "day",
    "model": "model",
    "provider": "provider",
    "project": "project_id",
}
# Column order of every rollup aggregate row after the group key.
SUM_COLUMNS = USAGE_DAILY_SUMS
LOG_COLUMNS = (
    UsageLog.id,
    UsageLog.created_at,
    UsageLog.request_id,
    UsageLog.project_id,
    UsageLog.endpoint,
    UsageLog.requested_model,
    UsageLog.model,
    UsageLog.provider,
    UsageLog.status,
    UsageLog.error_code,
    UsageLog.stream,
    UsageLog.prompt_tokens,
    UsageLog.completion_tokens,
    UsageLog.total_tokens,
    UsageLog.cost_usd,
    UsageLog.latency_ms,
    UsageLog.ttft_ms,
    UsageLog.fallback_count,
)


@dataclass(frozen=True)
class LogFilters:
    """Filters on raw logs; ``start`` inclusive, ``end`` exclusive (UTC)."""

    project_id: uuid.UUID | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    model: str | None = None
    status: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.project_id is not None:
            where.append(UsageLog.project_id == self.project_id)
        if self.start is not None:
            where.append(UsageLog.created_at >= self.start)
        if self.end is not None:
            where.append(UsageLog.created_at < self.end)
        if self.model is not None:
            where.append(UsageLog.model == self.model)
        if self.status is not None:
            where.append(UsageLog.status == self.status)
        return where


def _histogram_sums(rollup: Any) -> list[Any]:
    return [
        func.coalesce(func.sum(rollup.latency_histogram[i].as_integer()), 0)
        for i in range(HISTOGRAM_SIZE)
    ]


def rollup_for(group_by: str, project_id: uuid.UUID | None) -> Any:
    """The smallest rollup that answers the report: the totals unless it needs projects."""
    if project_id is None and group_by != "project":
        return UsageDailyTotal
    return UsageDaily


def usage_by_group(
    group_by: str, first: dt.date, last: dt.date, project_id: uuid.UUID | None
) -> Select[Any]:
    """One row per group: key, the ``SUM_COLUMNS`` sums, then each histogram slot."""
    rollup = rollup_for(group_by, project_id)
    key = getattr(rollup, GROUP_COLUMNS[group_by])
    sums = [func.coalesce(func.sum(getattr(rollup, name)), 0) for name in SUM_COLUMNS]
    stmt = (
        select(key, *sums, *_histogram_sums(rollup))
        .where(rollup.day >= first, rollup.day <= last)
        .group_by(key)
        .order_by(key)
    )
    if project_id is not None:
        stmt = stmt.where(UsageDaily.project_id == project_id)
    return stmt


def summary_usage(today: dt.date, month_start: dt.date) -> Select[Any]:
    """Requests, cost, tokens and errors for today and for the month so far (every
    project, so from ``usage_daily_totals``)."""
    rollup = UsageDailyTotal
    is_today = rollup.day == today

    def today_sum(column: Any) -> Any:
        return func.coalesce(func.sum(case((is_today, column), else_=0)), 0)

    def month_sum(column: Any) -> Any:
        return func.coalesce(func.sum(column), 0)

    columns = (rollup.requests, rollup.cost_usd, rollup.total_tokens, rollup.errors)
    return select(*[today_sum(c) for c in columns], *[month_sum(c) for c in columns]).where(
        rollup.day >= month_start, rollup.day <= today
    )


def project_counts() -> Select[Any]:
    """Total and active projects."""
    active = func.coalesce(func.sum(case((Project.is_active.is_(True), 1), else_=0)), 0)
    return select(func.count(), active).select_from(Project)


def logs_page(
    filters: LogFilters,
    *,
    limit: int,
    offset: int = 0,
    before: tuple[dt.datetime, int] | None = None,
) -> Select[Any]:
    """Logs matching ``filters``, newest first, optionally strictly older than ``before``."""
    where = filters.conditions()
    if before is not None:
        created, row_id = before
        # The redundant `<=` gives the planner an index range; the OR breaks ties.
        where.append(UsageLog.created_at <= created)
        where.append(or_(UsageLog.created_at < created, UsageLog.id < row_id))
    stmt = select(*LOG_COLUMNS).where(*where)
    return stmt.order_by(UsageLog.created_at.desc(), UsageLog.id.desc()).limit(limit).offset(offset)


def logs_count(filters: LogFilters, cap: int) -> Select[Any]:
    """How many logs match, counting at most ``cap`` of them (cheap on huge tables)."""
    matches = (
        select(literal_column("1").label("one"))
        .select_from(UsageLog)
        .where(*filters.conditions())
        .limit(cap)
        .subquery()
    )
    return select(func.count()).select_from(matches)


def log_position(log_id: int) -> Select[Any]:
    """``created_at`` of one log, to continue a keyset page after it."""
    return select(UsageLog.created_at).where(UsageLog.id == log_id)
