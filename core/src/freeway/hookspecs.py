# mypy: disable-error-code="empty-body"
"""Every Freeway hook: the plugin author's reference.

A plugin is a distribution with an entry point in the ``freeway`` group that points
at a module (or object) implementing some of these hooks, marked with
``@freeway.hookspecs.hookimpl``.  Hooks are plain sync functions that return objects;
the objects have async methods.  Each hook is documented in ``docs/plugins.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from freeway.auth.backends import AuthBackend
    from freeway.catalogue.rankers import Ranker
    from freeway.jobs.registry import Job
    from freeway.providers import Provider
    from freeway.settings import Settings
    from freeway.usage.records import UsageSink

PROJECT_NAME = "freeway"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def freeway_providers(settings: Settings) -> list[Provider]:
    """Return provider adapters for the upstreams this plugin serves.

    Read your own ``<NAME>_API_KEY`` / ``<NAME>_BASE_URL`` with
    ``settings.provider_setting(name, "api_key")``.  When the key is not set, return
    ``[]`` (and log why at INFO); ``freeway plugins`` then shows the plugin as
    inactive with the reason.  The shared ``httpx.AsyncClient`` is
    ``freeway.http.shared_client(settings)``.
    """


@hookspec
def freeway_rankers() -> list[Ranker]:
    """Return rankers: each has a ``category`` and ``rank(models) -> list[Model]``.

    A category named as ``model`` in a request (``"free"``, ``"fast"``…) is served by
    its ranker's first model unless an admin selected one.  Two rankers for one
    category fail startup unless ``[rankers] <category> = "<plugin name>"`` chooses.
    """


@hookspec
def freeway_auth_backends(settings: Settings) -> list[AuthBackend]:
    """Return auth backends: ``name`` and ``async authenticate(request) -> Principal | None``.

    Backends are tried in the order of ``FREEWAY_AUTH_BACKENDS`` (names not listed
    come after, in plugin order); the first to return a principal wins.  Raise
    :class:`freeway.errors.AuthError` to reject credentials outright.
    """


@hookspec
def freeway_usage_sinks(settings: Settings) -> list[UsageSink]:
    """Return usage sinks: ``name`` and ``async write(batch: list[UsageRecord])``.

    Batches are delivered off the request path.  A sink that raises is retried with
    backoff; its batches spill to disk and are replayed on the next start.
    """


@hookspec
def freeway_routes() -> list[Any]:
    """Return extra Litestar route handlers, controllers or routers to mount."""


@hookspec
def freeway_jobs() -> list[Job]:
    """Return jobs: ``Job(name, cron, function, timeout)``; ``function(ctx)`` is async.

    Jobs run on the SAQ worker when ``REDIS_URL`` is set, else in the embedded
    scheduler of ``freeway serve``; both also run them on demand.
    """
