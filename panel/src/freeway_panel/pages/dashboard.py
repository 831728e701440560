"""The dashboard: counts, cost, selected models, a requests sparkline, quick links."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Response, get

from freeway.analytics import analytics_of
from freeway.state import gateway_of
from freeway_panel.pages.catalogue_view import category_overview
from freeway_panel.rendering import render

SPARK_DAYS = 14


@get("/", name="panel-dashboard")
async def dashboard(request: Request[Any, Any, Any]) -> Response[Any]:
    """The landing page after login."""
    gw = gateway_of(request)
    service = analytics_of(gw)
    summary = await service.summary()
    today = service.today()
    report = await service.usage(
        first=today - dt.timedelta(days=SPARK_DAYS - 1), last=today, group_by="day"
    )
    return await render(
        request,
        "dashboard.html",
        active="dashboard",
        summary=summary,
        daily=[(row.key, row.requests) for row in report.rows],
        week_requests=sum(row.requests for row in report.rows[-7:]),
        categories=category_overview(gw.catalogue),
        spark_days=SPARK_DAYS,
    )


HANDLERS = [dashboard]
