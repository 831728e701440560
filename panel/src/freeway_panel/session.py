"""The panel's browser session: the JWT cookie, the CSRF token, theme and flash cookies.

- ``freeway_token`` holds the user's JWT (issued by :class:`freeway.auth.service.UserService`),
  HttpOnly, SameSite=Strict, path ``/`` (so the JSON API's GET endpoints such as the CSV
  export accept it too), ``Secure`` when the request came over HTTPS (directly or as
  ``X-Forwarded-Proto: https``).
- ``freeway_csrf`` holds a random token (double submit): every non-GET request to the
  panel must repeat it in the ``_csrf`` form field or the ``X-CSRF-Token`` header, else
  403.  Pages carry it in hidden fields and in a ``<meta>`` tag htmx sends as header.
- ``freeway_theme`` is ``light``, ``dark`` or ``system``; readable by script so the
  theme switch can set it without a round trip (it is no secret).
- ``freeway_flash`` carries a one-line notice across a redirect.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import quote, unquote

import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from freeway.auth.backends import TOKEN_COOKIE
from freeway.auth.cookies import clear_token_cookie, is_https
from freeway.auth.principal import Principal
from freeway.auth.tokens import TokenClaims
from freeway.errors import AuthError, ForbiddenError
from freeway.state import gateway_of

CSRF_COOKIE = "freeway_csrf"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "x-csrf-token"
THEME_COOKIE = "freeway_theme"
FLASH_COOKIE = "freeway_flash"
THEMES = ("light", "dark", "system")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PANEL_PATH = "/panel"
YEAR = 365 * 24 * 3600

Connection = ASGIConnection[Any, Any, Any, Any]


def _state(connection: Connection) -> dict[str, Any]:
    return connection.scope.setdefault("state", {})  # type: ignore[typeddict-item,no-any-return]


# --- CSRF -----------------------------------------------------------------------------


def csrf_token(connection: Connection) -> str:
    """This browser's CSRF token; a new one is made (and set as cookie) if it has none."""
    state = _state(connection)
    token = state.get("panel_csrf")
    if token is None:
        existing = connection.cookies.get(CSRF_COOKIE, "")
        if 32 <= len(existing) <= 128:
            token = existing
        else:
            token = secrets.token_urlsafe(32)
            state["panel_csrf_new"] = True
        state["panel_csrf"] = token
    return token  # type: ignore[no-any-return]


def rotate_csrf(connection: Connection) -> None:
    """Issue a new CSRF token (at login and logout, so a token never spans sessions)."""
    state = _state(connection)
    state["panel_csrf"] = secrets.token_urlsafe(32)
    state["panel_csrf_new"] = True


async def check_csrf(request: Request[Any, Any, Any]) -> None:
    """403 unless the request repeats the cookie's token in a header or form field."""
    expected = request.cookies.get(CSRF_COOKIE)
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    if not expected or not supplied or not hmac.compare_digest(expected, supplied):
        raise ForbiddenError(
            "CSRF check failed: reload the page and submit the form again",
            code="csrf_failed",
        )


# --- the logged-in user -----------------------------------------------------------------


async def current_user(connection: Connection) -> Principal | None:
    """The user whose JWT cookie came with this request, or ``None``.

    The token is verified by the same :class:`~freeway.auth.tokens.TokenService` as
    every API request (signature, expiry, revocation, password change, deactivation).
    """
    state = _state(connection)
    if "panel_user" in state:
        return state["panel_user"]  # type: ignore[no-any-return]
    user: Principal | None = None
    token = connection.cookies.get(TOKEN_COOKIE)
    auth = gateway_of(connection).auth
    if token and auth is not None:
        try:
            claims = auth.tokens.decode(token)
            user = await auth.tokens.resolve(claims)
            state["panel_claims"] = claims
        except AuthError:
            user = None
            state["panel_stale_token"] = True
    state["panel_user"] = user
    return user


def token_claims(connection: Connection) -> TokenClaims | None:
    """The verified claims of this request's token (after :func:`current_user`)."""
    claims = _state(connection).get("panel_claims")
    return claims if isinstance(claims, TokenClaims) else None


# --- cookies on responses ---------------------------------------------------------------


def theme_of(connection: Connection) -> str:
    """The theme chosen in this browser (``system`` when none)."""
    value = connection.cookies.get(THEME_COOKIE, "system")
    return value if value in THEMES else "system"


def theme_cookie(connection: Connection, theme: str) -> Cookie:
    """A cookie remembering the theme for a year."""
    return Cookie(
        key=THEME_COOKIE,
        value=theme,
        max_age=YEAR,
        path="/",
        httponly=False,
        samesite="strict",
        secure=is_https(connection),
    )


def flash(
    response: Response[Any], connection: Connection, message: str, kind: str = "ok"
) -> Response[Any]:
    """Show ``message`` once on the next page this browser renders (``kind`` is
    ``ok`` or ``error``)."""
    _state(connection)["panel_flash_kept"] = True
    response.set_cookie(
        FLASH_COOKIE,
        quote(f"{kind}:{message[:300]}"),
        max_age=60,
        path=PANEL_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(connection),
    )
    return response


class Notice(msgspec.Struct, frozen=True):
    """A one-line message at the top of a page."""

    kind: str
    message: str


def take_flash(connection: Connection) -> Notice | None:
    """The pending notice, if any (the render step deletes the cookie)."""
    value = connection.cookies.get(FLASH_COOKIE)
    if not value:
        return None
    kind, _, message = unquote(value).partition(":")
    if kind not in ("ok", "error") or not message:
        return None
    return Notice(kind=kind, message=message)


def finish(response: Response[Any], connection: Connection) -> Response[Any]:
    """Set the cookies this request made necessary: a new CSRF token, a consumed
    flash, a stale session cookie to drop."""
    state = _state(connection)
    if state.get("panel_csrf_new"):
        response.set_cookie(
            CSRF_COOKIE,
            state["panel_csrf"],
            max_age=YEAR,
            path=PANEL_PATH,
            httponly=True,
            samesite="strict",
            secure=is_https(connection),
        )
        state["panel_csrf_new"] = False
    if connection.cookies.get(FLASH_COOKIE) and not state.get("panel_flash_kept"):
        response.delete_cookie(FLASH_COOKIE, path=PANEL_PATH)
    if state.get("panel_stale_token"):
        clear_token_cookie(response)
    return response
