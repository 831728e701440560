"""Auth backends: the ``freeway_auth_backends`` hook's objects, and the three built-ins.

A backend has a ``name`` and ``async authenticate(connection) -> Principal | None``.
It returns ``None`` when the request carries no credential it understands (the next
backend is tried) and raises :class:`~freeway.errors.AuthError` to reject a credential
that is its own but invalid (an expired JWT).  Built-ins, registered by the ``core``
plugin exactly like a third-party backend:

- ``admin_key``: ``X-Api-Key: <ADMIN_API_KEY>``, constant-time compare;
- ``project_key``: ``X-Api-Key: fw_…`` or ``Authorization: Bearer fw_…`` (the OpenAI
  SDK's ``api_key``), looked up in the in-memory project cache;
- ``jwt``: ``Authorization: Bearer <jwt>``, or the HttpOnly ``freeway_token`` cookie for
  safe methods only (GET/HEAD) until the panel's CSRF check exists.

Order: ``FREEWAY_AUTH_BACKENDS`` (default ``admin_key,project_key,jwt``); backends not
listed follow in plugin order.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from freeway.auth.principal import ADMIN_KEY_PRINCIPAL, Principal
from freeway.errors import ConfigError
from freeway.projects.keys import looks_like_project_key
from freeway.state import gateway_of

if TYPE_CHECKING:
    import pluggy
    from litestar.connection import ASGIConnection

    from freeway.settings import Settings

API_KEY_HEADER = "x-api-key"
TOKEN_COOKIE = "freeway_token"
# Cookie auth is accepted only where a cross-site request cannot change anything.
COOKIE_SAFE_METHODS = frozenset({"GET", "HEAD"})


@runtime_checkable
class AuthBackend(Protocol):
    """Turns a request's credentials into a :class:`Principal`."""

    name: str

    async def authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Principal | None:
        """The caller, ``None`` if no credential of this kind is present; raise
        :class:`~freeway.errors.AuthError` to reject an invalid one outright."""
        ...


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token of ``Authorization: Bearer <token>``, if any."""
    value = connection.headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class AdminKeyBackend:
    """``X-Api-Key`` equal to ``ADMIN_API_KEY`` (constant-time) → the admin principal."""

    name = "admin_key"

    def __init__(self, settings: Settings) -> None:
        self._key = (settings.admin_api_key or "").encode()

    async def authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Principal | None:
        supplied = connection.headers.get(API_KEY_HEADER)
        if not supplied or not self._key:
            return None
        if hmac.compare_digest(supplied.encode(), self._key):
            return ADMIN_KEY_PRINCIPAL
        return None


class ProjectKeyBackend:
    """A ``fw_`` key in ``X-Api-Key`` or ``Authorization: Bearer`` → its project.

    A pure in-memory lookup.  An inactive project still yields a principal (the
    ``require_project`` guard answers 403); an unknown key yields ``None`` (401).
    """

    name = "project_key"

    async def authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Principal | None:
        key = connection.headers.get(API_KEY_HEADER) or bearer_token(connection)
        if not key or not looks_like_project_key(key):
            return None
        cache = gateway_of(connection.app).project_cache
        project = cache.lookup(key) if cache is not None else None
        if project is None:
            return None
        return Principal(kind="project", id=project.id, name=project.name, project=project)


def _looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


class JwtBackend:
    """A user's JWT from ``Authorization: Bearer`` or, for GET/HEAD, the cookie."""

    name = "jwt"

    async def authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Principal | None:
        token = bearer_token(connection)
        if token is None and connection.scope.get("method") in COOKIE_SAFE_METHODS:
            token = connection.cookies.get(TOKEN_COOKIE)
        if not token or not _looks_like_jwt(token):
            return None
        tokens = gateway_of(connection.app).auth.tokens
        claims = tokens.decode(token)
        principal = await tokens.resolve(claims)
        # Kept for /auth/logout, which revokes exactly this token.
        connection.scope.setdefault("state", {})["token_claims"] = claims
        return principal


def builtin_backends(settings: Settings) -> list[AuthBackend]:
    """The three built-ins, returned by the ``core`` plugin's hook implementation."""
    return [AdminKeyBackend(settings), ProjectKeyBackend(), JwtBackend()]


def load_backends(pm: pluggy.PluginManager, settings: Settings) -> list[AuthBackend]:
    """Every plugin's backends, ordered by ``FREEWAY_AUTH_BACKENDS`` (others after).

    pluggy calls the most recently registered plugin first, so the hook results are
    reversed to get plugin registration order.
    """
    results = pm.hook.freeway_auth_backends(settings=settings)
    found = [backend for result in reversed(results) for backend in (result or [])]
    names: dict[str, AuthBackend] = {}
    for backend in found:
        name = getattr(backend, "name", None)
        if not isinstance(name, str) or not callable(getattr(backend, "authenticate", None)):
            raise ConfigError(f"auth backend {backend!r} has no name or no authenticate()")
        if name in names:
            raise ConfigError(f"two auth backends are named {name!r}; rename one")
        names[name] = backend
    for name in settings.auth_backends:
        if name not in names:
            known = ", ".join(names) or "none"
            raise ConfigError(f"FREEWAY_AUTH_BACKENDS: unknown backend {name!r} (known: {known})")
    listed = [names[name] for name in settings.auth_backends]
    return listed + [b for b in found if b.name not in settings.auth_backends]
