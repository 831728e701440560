"""The analytics service: typed questions in, response Structs out.

Handlers parse the query string (``freeway.analytics.ranges``) and call one method
here; the clock is injected so "today" and "this month" are testable.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from freeway.analytics import queries
from freeway.analytics.queries import SUM_COLUMNS, LogFilters
from freeway.analytics.schemas import (
    LogItem,
    LogPage,
    Summary,
    UsageMetrics,
    UsageReport,
    UsageRow,
)
from freeway.db.engine import Database
from freeway.errors import ValidationFailed
from freeway.usage.buckets import HISTOGRAM_SIZE, add_histograms, percentile_ms

Clock = Callable[[], dt.datetime]

# Counting stops here: an exact count of millions of rows costs more than the page.
COUNT_CAP = 10_000
# OFFSET walks every skipped row; deeper pages must use the `before_id` cursor.
MAX_OFFSET = 100_000
EXPORT_BATCH = 5_000


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Totals:
    """Running sums of rollup rows (ints stay exact; the histogram is summed per slot)."""

    def __init__(self) -> None:
        self.sums: list[float] = [0] * len(SUM_COLUMNS)
        self.histogram: list[int] = [0] * HISTOGRAM_SIZE

    def add(self, sums: Sequence[Any], histogram: Sequence[int]) -> None:
        self.sums = [a + b for a, b in zip(self.sums, sums, strict=True)]
        self.histogram = add_histograms(self.histogram, histogram)

    def metrics(self) -> dict[str, Any]:
        sums = dict(zip(SUM_COLUMNS, self.sums, strict=True))
        requests = int(sums["requests"])
        latency_sum = float(sums.pop("latency_ms_sum"))
        values: dict[str, Any] = {
            name: float(value) if name == "cost_usd" else int(value) for name, value in sums.items()
        }
        values["error_rate"] = values["errors"] / requests if requests else 0.0
        values["avg_latency_ms"] = latency_sum / requests if requests else None
        values["p50_latency_ms"] = percentile_ms(self.histogram, 0.50)
        values["p95_latency_ms"] = percentile_ms(self.histogram, 0.95)
        return values


def _split_row(row: Sequence[Any]) -> tuple[Any, list[Any], list[int]]:
    """``(key, sums, histogram)`` from one ``usage_by_group`` row.

    Postgres returns ``numeric`` sums of bigint columns as Decimal; normalize them.
    """
    key = row[0]
    n = len(SUM_COLUMNS)
    sums = [
        float(v) if name in ("cost_usd", "latency_ms_sum") else int(v)
        for name, v in zip(SUM_COLUMNS, row[1 : 1 + n], strict=True)
    ]
    histogram = [int(v) for v in row[1 + n :]]
    return key, sums, histogram


def _key_text(value: Any) -> str:
    """A group key as JSON text: ISO date, project id, model or provider."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


class AnalyticsService:
    """Summary, usage and logs over one database."""

    def __init__(self, db: Database, now: Clock = utcnow) -> None:
        self.db = db
        self.now = now

    @asynccontextmanager
    async def _rollup_session(self) -> AsyncIterator[AsyncSession]:
        """A read session for rollup aggregates.

        asyncpg prepares statements, and after five runs Postgres may switch to a
        generic plan that cannot see how many days ``day BETWEEN $1 AND $2`` covers;
        it then drops the parallel scan and the 90-day report takes twice as long.
        Custom plans cost a fraction of a millisecond to plan here.
        """
        async with self.db.sessionmaker() as session:
            if self.db.dialect == "postgresql":
                await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            yield session

    def today(self) -> dt.date:
        """The current UTC day."""
        return self.now().astimezone(dt.UTC).date()

    async def summary(self) -> Summary:
        """Projects, and requests/cost/tokens/errors today and this month (UTC)."""
        now = self.now().astimezone(dt.UTC)
        today = now.date()
        async with self._rollup_session() as session:
            total, active = (await session.execute(queries.project_counts())).one()
            usage = (
                await session.execute(queries.summary_usage(today, today.replace(day=1)))
            ).one()
        req_d, cost_d, tok_d, err_d, req_m, cost_m, tok_m, err_m = usage
        return Summary(
            total_projects=int(total),
            active_projects=int(active),
            total_requests_today=int(req_d),
            total_requests_this_month=int(req_m),
            total_cost_today_usd=float(cost_d),
            total_cost_this_month_usd=float(cost_m),
            total_tokens_today=int(tok_d),
            total_tokens_this_month=int(tok_m),
            errors_today=int(err_d),
            errors_this_month=int(err_m),
            error_rate_today=int(err_d) / int(req_d) if req_d else 0.0,
            error_rate_this_month=int(err_m) / int(req_m) if req_m else 0.0,
            as_of=now,
        )

    async def usage(
        self,
        *,
        first: dt.date,
        last: dt.date,
        project_id: uuid.UUID | None = None,
        group_by: str = "day",
    ) -> UsageReport:
        """Totals over ``first..last`` (inclusive UTC days) and one row per group.

        Day rows cover every day of the range (zeros included, for charts); other
        groupings are ordered by requests, largest first.
        """
        stmt = queries.usage_by_group(group_by, first, last, project_id)
        async with self._rollup_session() as session:
            rows = (await session.execute(stmt)).all()
        totals = _Totals()
        groups: dict[str, UsageRow] = {}
        for row in rows:
            key, sums, histogram = _split_row(row)
            totals.add(sums, histogram)
            one = _Totals()
            one.add(sums, histogram)
            text = _key_text(key)
            groups[text] = UsageRow(key=text, **one.metrics())
        if group_by == "day":
            days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
            result = [groups.get(d.isoformat()) or UsageRow(key=d.isoformat()) for d in days]
        else:
            result = sorted(groups.values(), key=lambda r: (-r.requests, r.key))
        return UsageReport(
            from_=first,
            to=last,
            project_id=project_id,
            group_by=group_by,
            totals=UsageMetrics(**totals.metrics()),
            rows=result,
        )

    async def _position(self, before_id: int) -> tuple[dt.datetime, int]:
        async with self.db.sessionmaker() as session:
            created = (await session.execute(queries.log_position(before_id))).scalar()
        if created is None:
            raise ValidationFailed(
                f"before_id: no usage log with id {before_id} (it may have been pruned)",
                param="before_id",
            )
        return created, before_id

    async def logs(
        self,
        filters: LogFilters,
        *,
        page: int = 1,
        page_size: int = 50,
        before_id: int | None = None,
    ) -> LogPage:
        """One page of logs, newest first; ``before_id`` continues after that log.

        ``total`` counts matches ignoring ``before_id`` (exact up to ``COUNT_CAP``).
        """
        offset = (page - 1) * page_size
        if offset > MAX_OFFSET:
            raise ValidationFailed(
                f"page: offset pagination stops at {MAX_OFFSET} rows; continue with "
                "before_id=<id of the last log you have>",
                param="page",
            )
        before = await self._position(before_id) if before_id is not None else None

        async def fetch_page() -> list[Any]:
            stmt = queries.logs_page(filters, limit=page_size + 1, offset=offset, before=before)
            async with self.db.sessionmaker() as session:
                return list((await session.execute(stmt)).all())

        async def count() -> int:
            async with self.db.sessionmaker() as session:
                stmt = queries.logs_count(filters, COUNT_CAP + 1)
                return int((await session.execute(stmt)).scalar_one())

        # Two connections: the count and the page run at the same time.
        rows, counted = await asyncio.gather(fetch_page(), count())
        has_more = len(rows) > page_size
        items = [LogItem(**row._mapping) for row in rows[:page_size]]
        exact = counted <= COUNT_CAP
        total = counted if exact else max(COUNT_CAP, offset + len(items))
        return LogPage(
            items=items,
            total=total,
            total_is_exact=exact,
            page=page,
            page_size=page_size,
            has_more=has_more,
            next_before_id=items[-1].id if has_more and items else None,
        )

    async def iter_logs(
        self, filters: LogFilters, batch_size: int = EXPORT_BATCH
    ) -> AsyncIterator[list[Any]]:
        """Every matching log, newest first, in batches (one short query per batch).

        Keyset paging rather than a server-side cursor: no connection or transaction
        stays open while a slow client downloads.
        """
        before: tuple[dt.datetime, int] | None = None
        while True:
            stmt = queries.logs_page(filters, limit=batch_size, before=before)
            async with self.db.sessionmaker() as session:
                rows = list((await session.execute(stmt)).all())
            if rows:
                yield rows
            if len(rows) < batch_size:
                return
            before = (rows[-1].created_at, rows[-1].id)


def analytics_of(gw: Any) -> AnalyticsService:
    """The gateway's analytics service (created on first use; tests may replace it)."""
    service = gw.extras.get("analytics")
    if service is None:
        service = gw.extras["analytics"] = AnalyticsService(gw.db)
    return service  # type: ignore[no-any-return]
