"""Freeway's own default hook implementations, registered as the plugin ``core``.

Each area contributes its built-ins here exactly as a third-party plugin would.
"""

from __future__ import annotations

from typing import Any

from freeway.hookspecs import hookimpl


@hookimpl
def freeway_routes() -> list[Any]:
    """The core API controllers."""
    from freeway.api import core_route_handlers

    return core_route_handlers()
