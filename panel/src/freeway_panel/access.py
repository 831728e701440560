"""Who may do what in the panel: one router-level guard and the error pages.

Every non-GET request must pass the CSRF check (login and first-run included).  Pages
need a logged-in user unless the handler says ``opt={"public": True}``; writes need an
admin unless the handler says ``opt={"any_user": True}`` (own password, logout, theme).
Viewers therefore get 403 from the server on every admin write, whatever the page shows.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler

from freeway.errors import ForbiddenError, FreewayError
from freeway_panel.rendering import ENV, NAV, is_htmx
from freeway_panel.session import (
    SAFE_METHODS,
    check_csrf,
    csrf_token,
    current_user,
    finish,
    theme_of,
)

log = logging.getLogger("freeway.panel")


class LoginRequired(Exception):
    """The page needs a logged-in user; answered with a redirect to the login page."""


async def panel_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """CSRF on every write, a user on every non-public page, an admin for writes."""
    unsafe = connection.scope.get("method") not in SAFE_METHODS
    if unsafe:
        await check_csrf(connection)  # type: ignore[arg-type]
    if handler.opt.get("public"):
        return
    user = await current_user(connection)
    if user is None:
        raise LoginRequired
    if unsafe and not user.is_admin and not handler.opt.get("any_user"):
        raise ForbiddenError("viewers have read-only access; ask an admin to make this change")


def login_redirect(request: Request[Any, Any, Any], _: LoginRequired) -> Response[Any]:
    """To the login page, coming back here afterwards (GET pages only)."""
    target = "/panel/login"
    if request.method == "GET" and request.url.path.rstrip("/") not in ("/panel", ""):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target += "?next=" + quote(here, safe="")
    # Any htmx request, boosted or not: a plain redirect would be swapped into the page.
    if request.headers.get("hx-request") == "true":
        response: Response[Any] = Response("", status_code=200, headers={"hx-redirect": target})
    else:
        response = Response("", status_code=303, headers={"location": target})
    return finish(response, request)


def _error_page(request: Request[Any, Any, Any], status: int, message: str) -> Response[Any]:
    # Exception handlers are synchronous: use the user the guard already resolved.
    user = request.scope.get("state", {}).get("panel_user")
    context = {
        "request": request,
        "path": request.url.path,
        "user": user,
        "is_admin": bool(user and user.is_admin),
        "can_write": bool(user and user.is_admin),
        "csrf": csrf_token(request),
        "theme": theme_of(request),
        "notice": None,
        "nav": NAV,
        "layout": "fragment.html" if is_htmx(request) else "layout.html",
        "status": status,
        "message": message,
        "error": None,
    }
    html = ENV.get_template("error.html").render(context)
    response: Response[Any] = Response(
        html, status_code=status, media_type="text/html; charset=utf-8"
    )
    return finish(response, request)


def freeway_error_page(request: Request[Any, Any, Any], exc: FreewayError) -> Response[Any]:
    """A service error (403, 404, 409…) as an HTML page."""
    return _error_page(request, exc.status_code, exc.message)


def http_error_page(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Framework errors (bad path parameter, wrong method) as an HTML page."""
    return _error_page(request, exc.status_code, str(exc.detail))


def internal_error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """An unexpected failure: logged with its traceback, shown without it."""
    log.exception("panel error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_page(request, 500, "Something went wrong on the server; it has been logged.")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    LoginRequired: login_redirect,
    FreewayError: freeway_error_page,
    HTTPException: http_error_page,
    Exception: internal_error_page,
}
