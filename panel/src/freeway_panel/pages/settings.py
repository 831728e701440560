"""Settings: profile, change password, theme, API connection status, logout."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from freeway.api.health import readiness
from freeway.auth.cookies import token_cookie
from freeway.errors import FreewayError, ValidationFailed
from freeway.state import gateway_of
from freeway_panel.rendering import redirect, render, safe_next, sentence
from freeway_panel.session import THEMES, Notice, current_user, theme_cookie


async def connection_status(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The body of ``GET /health/ready``, from the same function."""
    return await readiness(gateway_of(request))


async def _settings_page(
    request: Request[Any, Any, Any], *, status: int = 200, **extra: Any
) -> Response[Any]:
    user = await current_user(request)
    assert user is not None  # the guard let only users in
    profile = await gateway_of(request).auth.users.get(user.id)
    return await render(
        request,
        "settings.html",
        status=status,
        active="settings",
        profile=profile,
        themes=THEMES,
        health=await connection_status(request),
        **extra,
    )


@get("/settings", name="panel-settings")
async def settings_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Profile, password, theme and the gateway's health."""
    return await _settings_page(request)


@post("/settings/password", opt={"any_user": True}, status_code=200)
async def change_password(request: Request[Any, Any, Any]) -> Response[Any]:
    """Change the password (every other session of this user ends) and stay logged in."""
    form = await request.form()
    current = str(form.get("current_password") or "")
    new = str(form.get("new_password") or "")
    user = await current_user(request)
    assert user is not None
    try:
        if new != str(form.get("confirm_password") or ""):
            raise ValidationFailed("the two new passwords differ", param="confirm_password")
        _, issued = await gateway_of(request).auth.users.change_password(
            user,
            {"current_password": current, "new_password": new},
            request.client.host if request.client else None,
        )
    except FreewayError as exc:
        return await _settings_page(
            request,
            status=exc.status_code,
            notice=Notice(kind="error", message=sentence(exc.message)),
            field=exc.param,
        )
    response = redirect(
        request, "/panel/settings", notice="Password changed; your other sessions were logged out."
    )
    response.set_cookie(token_cookie(request, issued))
    return response


@post("/theme", opt={"public": True}, status_code=200)
async def set_theme(request: Request[Any, Any, Any]) -> Response[Any]:
    """Remember the theme in a cookie (what the theme switch does without JavaScript)."""
    form = await request.form()
    theme = str(form.get("theme") or "system")
    if theme not in THEMES:
        raise ValidationFailed(f"theme must be one of {', '.join(THEMES)}", param="theme")
    response = redirect(request, safe_next(form.get("next"), "/panel/settings"))
    response.set_cookie(theme_cookie(request, theme))
    return response


HANDLERS = [settings_page, change_password, set_theme]
