"""Freeway's bundled web panel: a plugin contributing routes under ``/panel``.

The panel is registered through the ``freeway`` entry point ``panel`` exactly like a
third-party plugin; ``FREEWAY_DISABLE_PLUGINS=panel`` removes it and nothing else.
Its pages are server-rendered (Jinja2), enhanced with a vendored htmx, and call the
same services as the JSON API (``freeway.auth``, ``freeway.projects``,
``freeway.catalogue``, ``freeway.analytics``): no rule is implemented twice.
"""

from __future__ import annotations

from typing import Any

from freeway.hookspecs import hookimpl


@hookimpl
def freeway_routes() -> list[Any]:
    """The panel's Litestar router, mounted at ``/panel``."""
    from freeway_panel.router import panel_router

    return [panel_router()]
