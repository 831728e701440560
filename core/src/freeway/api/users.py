"""``/admin/users``: list users and change their role or active flag (admin; viewers read)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch
from litestar.params import FromPath, FromQuery

from freeway.auth.guards import require_reader
from freeway.auth.service import UserPage, UserView
from freeway.auth.validation import check_page, json_object
from freeway.state import gateway_of


class UserController(Controller):
    """Users of the panel; roles are ``admin`` (everything) and ``viewer`` (read-only)."""

    path = "/admin/users"
    tags = ["users"]
    guards = [require_reader]

    @get("/")
    async def list_users(
        self,
        request: Request[Any, Any, Any],
        page: FromQuery[int | None] = None,
        page_size: FromQuery[int | None] = None,
    ) -> UserPage:
        """Users, oldest first: ``{items, total, page, page_size}``."""
        page, page_size = check_page(page, page_size)
        return await gateway_of(request).auth.users.list(page, page_size)

    @get("/{user_id:str}")
    async def get_user(self, request: Request[Any, Any, Any], user_id: FromPath[str]) -> UserView:
        """One user."""
        return UserView.of(await gateway_of(request).auth.users.get(user_id))

    @patch("/{user_id:str}")
    async def update_user(
        self, request: Request[Any, Any, Any], user_id: FromPath[str]
    ) -> UserView:
        """Change ``role`` (admin | viewer) and/or ``is_active``."""
        data = json_object(await request.body(), allowed=("role", "is_active"))
        return UserView.of(await gateway_of(request).auth.users.update(user_id, data))
