"""``/auth/*``: register, login, me, change-password, logout.

Login and change-password return ``{token, user:{id,username,role}, expiresAt}`` and
also set the token as the HttpOnly cookie ``freeway_token`` (used by the panel; the
cookie authenticates GET/HEAD only until the panel's CSRF protection exists).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Request, Response, get, post

from freeway.auth.cookies import clear_token_cookie, token_cookie
from freeway.auth.guards import authenticate, principal_of, require_user
from freeway.auth.service import UserView
from freeway.auth.tokens import IssuedToken, TokenClaims
from freeway.auth.validation import json_object, string_field
from freeway.db.models import User
from freeway.errors import AuthError
from freeway.state import gateway_of


class TokenUser(msgspec.Struct, frozen=True):
    id: str
    username: str
    role: str


class TokenResponse(msgspec.Struct, frozen=True, rename={"expires_at": "expiresAt"}):
    """The seed's login response: ``{token, user, expiresAt}``."""

    token: str
    user: TokenUser
    expires_at: dt.datetime


def _client_address(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def _token_response(
    request: Request[Any, Any, Any], user: User, issued: IssuedToken
) -> Response[TokenResponse]:
    body = TokenResponse(
        token=issued.token,
        user=TokenUser(id=str(user.id), username=user.username, role=user.role),
        expires_at=issued.expires_at,
    )
    cookie = token_cookie(request, issued)
    return Response(body, cookies=[cookie])


@post("/auth/register", status_code=201, tags=["auth"])
async def register(request: Request[Any, Any, Any]) -> UserView:
    """Create a user ``{username, password, role?}``.  The first user becomes admin;
    after that only an admin (JWT or admin key) may register users."""
    actor = await authenticate(request)
    data = json_object(await request.body(), allowed=("username", "password", "role"))
    user = await gateway_of(request).auth.users.register(data, actor)
    return UserView.of(user)


@post("/auth/login", status_code=200, tags=["auth"])
async def login(request: Request[Any, Any, Any]) -> Response[TokenResponse]:
    """``{username, password}`` → ``{token, user:{id,username,role}, expiresAt}``.

    Repeated failures for a username or from one address get 429 with ``retry-after``.
    """
    data = json_object(
        await request.body(), allowed=("username", "password"), required=("username", "password")
    )
    username, password = string_field(data, "username"), string_field(data, "password")
    user, issued = await gateway_of(request).auth.users.login(
        username, password, _client_address(request)
    )
    return _token_response(request, user, issued)


@get("/auth/me", guards=[require_user], tags=["auth"])
async def me(request: Request[Any, Any, Any]) -> UserView:
    """The logged-in user."""
    user = await gateway_of(request).auth.users.get(principal_of(request).id)
    return UserView.of(user)


@post("/auth/change-password", guards=[require_user], status_code=200, tags=["auth"])
async def change_password(request: Request[Any, Any, Any]) -> Response[TokenResponse]:
    """``{current_password, new_password}``: revokes every other token of this user and
    returns a fresh one."""
    data = json_object(
        await request.body(),
        allowed=("current_password", "new_password"),
        required=("current_password", "new_password"),
    )
    user, issued = await gateway_of(request).auth.users.change_password(
        principal_of(request), data, _client_address(request)
    )
    return _token_response(request, user, issued)


@post("/auth/logout", guards=[require_user], status_code=204, tags=["auth"])
async def logout(request: Request[Any, Any, Any]) -> Response[None]:
    """Revoke this token server-side (on every replica) and clear the cookie."""
    claims = request.scope.get("state", {}).get("token_claims")
    if not isinstance(claims, TokenClaims):
        raise AuthError("logout needs the user token in the request")
    await gateway_of(request).auth.tokens.revoke(claims)
    response: Response[None] = Response(None, status_code=204)
    clear_token_cookie(response)
    return response


AUTH_HANDLERS = [register, login, me, change_password, logout]
