"""The session cookie carrying a user's JWT: one definition for the JSON API and the panel.

HttpOnly (scripts cannot read it), SameSite=Strict (no cross-site sends), path ``/``
(so the JSON API's GET endpoints, e.g. the CSV export, accept it), and ``Secure``
whenever the browser reached us over HTTPS, directly or through a TLS proxy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from freeway.auth.backends import TOKEN_COOKIE
from freeway.auth.tokens import IssuedToken


def is_https(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the browser reached us over HTTPS (directly or via ``X-Forwarded-Proto``)."""
    if connection.url.scheme == "https":
        return True
    forwarded = connection.headers.get("x-forwarded-proto", "")
    return forwarded.split(",")[0].strip().lower() == "https"


def token_cookie(connection: ASGIConnection[Any, Any, Any, Any], issued: IssuedToken) -> Cookie:
    """The session cookie for a freshly issued token, expiring with it."""
    max_age = int((issued.expires_at - dt.datetime.now(dt.UTC)).total_seconds())
    return Cookie(
        key=TOKEN_COOKIE,
        value=issued.token,
        max_age=max(1, max_age),
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_https(connection),
    )


def clear_token_cookie(response: Response[Any]) -> None:
    """Remove the session cookie."""
    response.delete_cookie(TOKEN_COOKIE, path="/")
