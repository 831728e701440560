"""Users: the list for everyone, and for admins create, change role, (de)activate."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from freeway.auth.principal import ROLES
from freeway.errors import FreewayError, NotFound
from freeway.state import gateway_of
from freeway_panel.rendering import redirect, render, sentence
from freeway_panel.session import Notice, current_user

PAGE_SIZE = 200


async def _users_page(
    request: Request[Any, Any, Any], *, status: int = 200, **extra: Any
) -> Response[Any]:
    page = await gateway_of(request).auth.users.list(1, PAGE_SIZE)
    me = await current_user(request)
    extra.setdefault("values", {"username": "", "role": "viewer"})
    return await render(
        request,
        "users.html",
        status=status,
        active="users",
        page=page,
        roles=ROLES,
        me_id=me.id if me else None,
        **extra,
    )


@get("/users", name="panel-users")
async def users_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Every user with role and status."""
    return await _users_page(request)


@post("/users", status_code=200)
async def create_user(request: Request[Any, Any, Any]) -> Response[Any]:
    """Register a user through the user service (an admin is the actor)."""
    form = await request.form()
    values = {
        "username": str(form.get("username") or "").strip(),
        "role": str(form.get("role") or "viewer"),
    }
    actor = await current_user(request)
    try:
        user = await gateway_of(request).auth.users.register(
            {**values, "password": str(form.get("password") or "")}, actor
        )
    except FreewayError as exc:
        return await _users_page(
            request,
            status=exc.status_code,
            values=values,
            notice=Notice(kind="error", message=sentence(exc.message)),
            field=exc.param,
        )
    return redirect(
        request, "/panel/users", notice=f"User “{user.username}” created ({user.role})."
    )


@post("/users/{user_id:str}", status_code=200)
async def update_user(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Response[Any]:
    """Change a user's role or active flag (the last admin cannot be demoted)."""
    form = await request.form()
    data: dict[str, Any] = {}
    if "role" in form:
        data["role"] = str(form.get("role"))
    if "is_active" in form:
        data["is_active"] = form.get("is_active") == "true"
    try:
        user = await gateway_of(request).auth.users.update(user_id, data)
    except NotFound:
        raise
    except FreewayError as exc:
        return redirect(request, "/panel/users", notice=sentence(exc.message), kind="error")
    state = "active" if user.is_active else "deactivated"
    return redirect(
        request, "/panel/users", notice=f"“{user.username}” is now {user.role}, {state}."
    )


HANDLERS = [users_page, create_user, update_user]
