"""``/admin/analytics``: summary, usage report, raw logs and their CSV export.

Readable by the admin key, admin users and viewer users.  The handlers only parse
the query string and call :class:`freeway.analytics.AnalyticsService`.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Stream

from freeway.analytics import analytics_of
from freeway.analytics.export import csv_stream
from freeway.analytics.queries import GROUP_COLUMNS, LogFilters
from freeway.analytics.ranges import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    parse_datetime_range,
    parse_day_range,
    parse_positive_int,
    parse_project_id,
    parse_status,
)
from freeway.analytics.schemas import LogPage, Summary, UsageReport
from freeway.auth.guards import require_reader
from freeway.errors import ValidationFailed
from freeway.state import gateway_of

# Parameters arrive as text and are parsed by freeway.analytics.ranges, so every bad
# value gets a message naming the parameter and what to send instead.
Query = Annotated[str | None, QueryParameter(required=False)]
FromQuery = Annotated[
    str | None,
    QueryParameter(
        name="from", required=False, description="ISO date or datetime (UTC), inclusive"
    ),
]
ToQuery = Annotated[
    str | None,
    QueryParameter(
        required=False, description="ISO date (whole day included) or datetime, inclusive"
    ),
]


def _log_filters(
    project_id: str | None,
    from_: str | None,
    to: str | None,
    model: str | None,
    status: str | None,
) -> LogFilters:
    start, end = parse_datetime_range(from_, to)
    return LogFilters(
        project_id=parse_project_id(project_id),
        start=start,
        end=end,
        model=model or None,
        status=parse_status(status),
    )


class AnalyticsController(Controller):
    """Usage analytics for the admin panel and the admin API."""

    path = "/admin/analytics"
    guards = [require_reader]
    tags = ["analytics"]

    @get("/summary")
    async def summary(self, request: Request[Any, Any, Any]) -> Summary:
        """Projects, and requests/cost/tokens/errors today and this month (UTC)."""
        return await analytics_of(gateway_of(request)).summary()

    @get("/usage")
    async def usage(
        self,
        request: Request[Any, Any, Any],
        from_: FromQuery = None,
        to: ToQuery = None,
        project_id: Query = None,
        group_by: Query = None,
    ) -> UsageReport:
        """Totals and per-day/model/provider/project rows from the daily rollups.

        Datetimes count their whole UTC day; the default range is the last 30 days.
        """
        service = analytics_of(gateway_of(request))
        group = (group_by or "day").strip().lower()
        if group not in GROUP_COLUMNS:
            raise ValidationFailed(
                f"group_by: must be one of {', '.join(GROUP_COLUMNS)}, got {group_by!r}",
                param="group_by",
            )
        first, last = parse_day_range(from_, to, service.today())
        return await service.usage(
            first=first, last=last, project_id=parse_project_id(project_id), group_by=group
        )

    @get("/logs")
    async def logs(
        self,
        request: Request[Any, Any, Any],
        from_: FromQuery = None,
        to: ToQuery = None,
        project_id: Query = None,
        model: Query = None,
        status: Query = None,
        page: Query = None,
        page_size: Query = None,
        before_id: Query = None,
    ) -> LogPage:
        """Raw usage logs, newest first, with page/page_size or the ``before_id`` cursor."""
        filters = _log_filters(project_id, from_, to, model, status)
        return await analytics_of(gateway_of(request)).logs(
            filters,
            page=parse_positive_int(page, "page", 1),
            page_size=parse_positive_int(page_size, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
            before_id=parse_positive_int(before_id, "before_id", 0) or None,
        )

    @get("/logs.csv")
    async def logs_csv(
        self,
        request: Request[Any, Any, Any],
        from_: FromQuery = None,
        to: ToQuery = None,
        project_id: Query = None,
        model: Query = None,
        status: Query = None,
    ) -> Stream:
        """Every matching log as CSV, newest first, streamed as it is read."""
        filters = _log_filters(project_id, from_, to, model, status)
        batches = analytics_of(gateway_of(request)).iter_logs(filters)
        return Stream(
            csv_stream(batches),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="usage-logs.csv"'},
        )
