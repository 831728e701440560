"""The application's runtime state: everything the request handlers need.

One :class:`Gateway` per app, stored as ``app.state.gateway``.  Areas attach their
services to it during startup (``catalogue``, ``project_cache``, ``rate_limiter``,
``usage``, ``router``…); handlers reach them with :func:`gateway_of`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pluggy

from freeway.db.engine import Database
from freeway.settings import Settings

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.connection import ASGIConnection

Hook = Callable[["Gateway"], Awaitable[None]]


@dataclass
class Gateway:
    """Shared services of one running app."""

    settings: Settings
    pm: pluggy.PluginManager
    db: Database
    http: httpx.AsyncClient | None = None
    redis: Any = None
    providers: dict[str, Any] = field(default_factory=dict)
    # Area services, attached at startup.
    auth: Any = None
    project_cache: Any = None
    catalogue: Any = None
    rate_limiter: Any = None
    usage: Any = None
    router: Any = None
    jobs: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
    started: bool = False


def gateway_of(obj: ASGIConnection[Any, Any, Any, Any] | Litestar) -> Gateway:
    """The :class:`Gateway` of an app or of the app serving a request."""
    app = getattr(obj, "app", obj)
    return app.state.gateway  # type: ignore[no-any-return]
