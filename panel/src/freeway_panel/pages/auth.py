"""Login, first-run (create the first admin) and logout."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from freeway.auth.cookies import clear_token_cookie, token_cookie
from freeway.errors import AuthError, Conflict, RateLimitExceeded, ValidationFailed
from freeway.state import gateway_of
from freeway_panel.rendering import redirect, render, safe_next, sentence
from freeway_panel.session import (
    Notice,
    current_user,
    rotate_csrf,
    token_claims,
)

PUBLIC = {"public": True}


def _address(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@get("/login", opt=PUBLIC, name="panel-login")
async def login_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """The login form; the first-run screen instead while there are no users."""
    target = safe_next(request.query_params.get("next"))
    users = gateway_of(request).auth.users
    if await users.count() == 0:
        return redirect(request, "/panel/setup")
    if await current_user(request) is not None:
        return redirect(request, target)
    return await render(request, "login.html", next=target, username="")


@post("/login", opt=PUBLIC, status_code=200)
async def login_submit(request: Request[Any, Any, Any]) -> Response[Any]:
    """Check the password with the user service and set the session cookie."""
    form = await request.form()
    username, password = _text(form, "username").strip(), _text(form, "password")
    target = safe_next(form.get("next"))
    try:
        if not username or not password:
            raise AuthError("enter your username and password")
        _, issued = await gateway_of(request).auth.users.login(
            username, password, _address(request)
        )
    except (AuthError, RateLimitExceeded) as exc:
        status = 429 if isinstance(exc, RateLimitExceeded) else 401
        headers = dict(exc.headers)
        if isinstance(exc, RateLimitExceeded) and exc.retry_after is not None:
            headers["retry-after"] = str(max(1, round(exc.retry_after)))
        return await render(
            request,
            "login.html",
            status=status,
            headers=headers,
            next=target,
            username=username,
            notice=Notice(kind="error", message=sentence(exc.message)),
        )
    rotate_csrf(request)
    response = redirect(request, target)
    response.set_cookie(token_cookie(request, issued))
    return response


@get("/setup", opt=PUBLIC)
async def setup_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """First run: create the admin account (only while there are no users)."""
    if await gateway_of(request).auth.users.count() > 0:
        return redirect(request, "/panel/login")
    return await render(request, "setup.html", username="")


@post("/setup", opt=PUBLIC, status_code=200)
async def setup_submit(request: Request[Any, Any, Any]) -> Response[Any]:
    """Register the first user (the service makes it admin) and log it in."""
    users = gateway_of(request).auth.users
    if await users.count() > 0:
        return redirect(
            request, "/panel/login", notice="An admin already exists; log in.", kind="error"
        )
    form = await request.form()
    username, password = _text(form, "username").strip(), _text(form, "password")
    try:
        if password != _text(form, "confirm"):
            raise ValidationFailed("the two passwords differ", param="confirm")
        await users.register({"username": username, "password": password}, None)
        _, issued = await users.login(username, password, _address(request))
    except (ValidationFailed, Conflict, AuthError) as exc:
        return await render(
            request,
            "setup.html",
            status=exc.status_code,
            username=username,
            notice=Notice(kind="error", message=sentence(exc.message)),
        )
    rotate_csrf(request)
    response = redirect(
        request, "/panel/", notice=f"Welcome, {username}. You are the admin of this gateway."
    )
    response.set_cookie(token_cookie(request, issued))
    return response


@post("/logout", opt={"any_user": True}, status_code=200)
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    """Revoke this session's token server-side and drop the cookie."""
    claims = token_claims(request)
    if claims is not None:
        await gateway_of(request).auth.tokens.revoke(claims)
    rotate_csrf(request)
    response = redirect(request, "/panel/login", notice="You are logged out.")
    clear_token_cookie(response)
    return response


HANDLERS = [login_page, login_submit, setup_page, setup_submit, logout]
