"""Analytics: usage totals, requests over time, usage by model, the logs table.

Query parameters mean what they mean on ``/admin/analytics/*`` and are parsed by the
same functions (:mod:`freeway.analytics.ranges`); numbers come from
:class:`freeway.analytics.AnalyticsService`.  The CSV link points at the JSON API's
``/admin/analytics/logs.csv``, which accepts the panel's session cookie for GET.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get

from freeway.analytics import analytics_of
from freeway.analytics.queries import LogFilters
from freeway.analytics.ranges import (
    STATUSES,
    parse_datetime_range,
    parse_day_range,
    parse_positive_int,
    parse_project_id,
    parse_status,
)
from freeway.errors import ValidationFailed
from freeway.projects.service import ProjectService
from freeway.state import gateway_of
from freeway_panel.rendering import render
from freeway_panel.session import Notice

LOG_PAGE_SIZE = 25
PROJECT_CHOICES = 200


async def _project_names(request: Request[Any, Any, Any]) -> dict[str, str]:
    gw = gateway_of(request)
    page = await ProjectService(gw.db, gw.project_cache).list(page=1, page_size=PROJECT_CHOICES)
    return {p.id: p.name for p in page.items}


@get("/analytics", name="panel-analytics")
async def analytics_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Global or per-project usage over a date range, and the matching logs."""
    params = request.query_params
    raw = {
        name: (params.get(name) or "").strip()
        for name in ("from", "to", "project_id", "model", "status", "page")
    }
    service = analytics_of(gateway_of(request))
    names = await _project_names(request)
    notice = None
    try:
        project_id = parse_project_id(raw["project_id"])
        status = parse_status(raw["status"])
        page = parse_positive_int(raw["page"], "page", 1)
        first, last = parse_day_range(raw["from"] or None, raw["to"] or None, service.today())
    except ValidationFailed as exc:
        notice = Notice(kind="error", message=exc.message)
        project_id, status, page = None, None, 1
        first, last = parse_day_range(None, None, service.today())
        raw.update({"project_id": "", "status": "", "page": ""})
    start, end = parse_datetime_range(first.isoformat(), last.isoformat())
    model = raw["model"] or None
    by_day = await service.usage(first=first, last=last, project_id=project_id, group_by="day")
    by_model = await service.usage(first=first, last=last, project_id=project_id, group_by="model")
    by_project = (
        await service.usage(first=first, last=last, group_by="project")
        if project_id is None
        else None
    )
    logs = await service.logs(
        LogFilters(project_id=project_id, start=start, end=end, model=model, status=status),
        page=page,
        page_size=LOG_PAGE_SIZE,
    )
    filters = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "project_id": str(project_id) if project_id else "",
        "model": model or "",
        "status": status or "",
    }
    kept = {k: v for k, v in filters.items() if v}
    extra: dict[str, Any] = {"notice": notice} if notice else {}
    return await render(
        request,
        "analytics.html",
        active="analytics",
        filters=filters,
        project_name=names.get(str(project_id)) if project_id else None,
        project_names=names,
        statuses=STATUSES,
        model_choices=sorted({row.key for row in by_model.rows if row.key} | ({model} - {None})),
        totals=by_day.totals,
        by_day=[(row.key, row.requests) for row in by_day.rows],
        by_model=[(row.key or "(none)", row.requests) for row in by_model.rows],
        model_rows=by_model.rows,
        project_rows=by_project.rows if by_project else [],
        logs=logs,
        pages=max(1, -(-logs.total // LOG_PAGE_SIZE)),
        csv_url="/admin/analytics/logs.csv?" + urlencode(kept),
        page_url=lambda n: "/panel/analytics?" + urlencode({**kept, "page": n}),
        short_id=lambda value: str(value)[:8] if isinstance(value, uuid.UUID | str) else "",
        **extra,
    )


HANDLERS = [analytics_page]
