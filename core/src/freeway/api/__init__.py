"""HTTP API: Litestar controllers, one module per area, and the OpenAI error envelope."""

from __future__ import annotations

from typing import Any


def core_route_handlers() -> list[Any]:
    """Route handlers of the core API (registered through the ``core`` plugin)."""
    from freeway.api.auth import AUTH_HANDLERS
    from freeway.api.docs import api_reference, docs_assets
    from freeway.api.health import health, ready
    from freeway.api.projects import ProjectController
    from freeway.api.users import UserController

    return [
        health,
        ready,
        api_reference,
        docs_assets,
        *AUTH_HANDLERS,
        ProjectController,
        UserController,
    ]
