"""The panel's Litestar router at ``/panel``: pages, static files, guard, error pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Router
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.static_files import create_static_files_router

from freeway_panel.access import EXCEPTION_HANDLERS, panel_guard
from freeway_panel.pages import analytics, auth, dashboard, models, projects, settings, users

STATIC_DIR = Path(__file__).parent / "static"

# Pages are same-origin only: no inline script, no framing, no foreign hosts.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS = [
    ResponseHeader(name="content-security-policy", value=CONTENT_SECURITY_POLICY),
    ResponseHeader(name="x-frame-options", value="DENY"),
    ResponseHeader(name="x-content-type-options", value="nosniff"),
    ResponseHeader(name="referrer-policy", value="same-origin"),
    ResponseHeader(name="cache-control", value="no-store"),
]


def panel_router() -> Router:
    """Every panel route under ``/panel`` (hidden from the OpenAPI schema)."""
    static = create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        name="panel-static",
        opt={"public": True},
        cache_control=CacheControlHeader(max_age=86400, public=True),
        include_in_schema=False,
    )
    handlers: list[Any] = [
        *auth.HANDLERS,
        *dashboard.HANDLERS,
        *models.HANDLERS,
        *projects.HANDLERS,
        *analytics.HANDLERS,
        *settings.HANDLERS,
        *users.HANDLERS,
    ]
    pages = Router(
        path="/",
        route_handlers=handlers,
        response_headers=SECURITY_HEADERS,
        include_in_schema=False,
    )
    return Router(
        path="/panel",
        route_handlers=[pages, static],
        guards=[panel_guard],
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    )
