"""Litestar guards for every area: ``guards=[require_admin]`` on a handler or controller.

``authenticate(connection)`` runs the auth backends once per request and keeps the
result in ``scope["state"]["principal"]``; the guards and :func:`principal_of` reuse it.
Missing or invalid credentials → 401 (:class:`AuthError`); valid credentials that may
not do this → 403 (:class:`ForbiddenError`).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from freeway.auth.principal import Principal
from freeway.errors import AuthError, ForbiddenError
from freeway.state import gateway_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNSET = object()

Connection = ASGIConnection[Any, Any, Any, Any]


async def authenticate(connection: Connection) -> Principal | None:
    """The request's principal (backends tried in order, first match wins), or ``None``.

    Runs once per request; later calls return the cached result.
    """
    state = connection.scope.setdefault("state", {})  # type: ignore[typeddict-item]
    cached = state.get("principal", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[no-any-return]
    principal: Principal | None = None
    auth = gateway_of(connection.app).auth
    for backend in auth.backends if auth is not None else ():
        principal = await backend.authenticate(connection)
        if principal is not None:
            break
    state["principal"] = principal
    return principal


def principal_of(connection: Connection) -> Principal:
    """The principal a guard already established; :class:`AuthError` if there is none."""
    principal = connection.scope.get("state", {}).get("principal")
    if principal is None:
        raise AuthError("authentication required: send an API key or a bearer token")
    return principal  # type: ignore[no-any-return]


async def _required(connection: Connection) -> Principal:
    principal = await authenticate(connection)
    if principal is None:
        if _has_credentials(connection):
            raise AuthError("invalid API key or token")
        raise AuthError(
            "authentication required: send an API key in X-Api-Key or "
            "'Authorization: Bearer <key or token>'"
        )
    return principal


def _has_credentials(connection: Connection) -> bool:
    headers = connection.headers
    return bool(headers.get("x-api-key") or headers.get("authorization"))


async def require_admin(connection: Connection, _: BaseRouteHandler | None = None) -> None:
    """The admin key, or a user whose role is ``admin``."""
    principal = await _required(connection)
    if not principal.is_admin:
        raise ForbiddenError("this endpoint needs the admin key or an admin user")


async def require_reader(connection: Connection, _: BaseRouteHandler | None = None) -> None:
    """An admin; or, for GET/HEAD/OPTIONS, also a ``viewer`` user (read-only admin)."""
    principal = await _required(connection)
    if principal.is_admin:
        return
    if principal.kind == "user" and principal.role == "viewer":
        if connection.scope.get("method") in SAFE_METHODS:
            return
        raise ForbiddenError("viewers have read-only access; this needs an admin")
    raise ForbiddenError("this endpoint needs the admin key or a panel user")


async def require_user(connection: Connection, _: BaseRouteHandler | None = None) -> None:
    """Any logged-in user (a JWT), whatever the role."""
    principal = await _required(connection)
    if principal.kind != "user":
        raise ForbiddenError("this endpoint needs a user token (log in at /auth/login)")


async def require_project(connection: Connection, _: BaseRouteHandler | None = None) -> None:
    """A project key of an active project (inactive → 403, unknown → 401)."""
    principal = await _required(connection)
    if principal.kind != "project" or principal.project is None:
        raise ForbiddenError("this endpoint needs a project API key (fw_…)")
    if not principal.project.is_active:
        raise ForbiddenError(
            f"project {principal.project.name!r} is inactive", code="project_inactive"
        )
