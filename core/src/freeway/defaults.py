"""Freeway's own default hook implementations, registered as the plugin ``core``.

Each area contributes its built-ins here exactly as a third-party plugin would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from freeway.hookspecs import hookimpl

if TYPE_CHECKING:
    from freeway.providers import Provider
    from freeway.settings import Settings


@hookimpl
def freeway_routes() -> list[Any]:
    """The core API controllers."""
    from freeway.api import core_route_handlers

    return core_route_handlers()


@hookimpl
def freeway_auth_backends(settings: Settings) -> list[Any]:
    """The built-in backends ``admin_key``, ``project_key`` and ``jwt``."""
    from freeway.auth.backends import builtin_backends

    return list(builtin_backends(settings))


@hookimpl
def freeway_providers(settings: Settings) -> list[Provider]:
    """One generic OpenAI-compatible adapter per ``[providers.<name>]`` table.

    ``api_key`` falls back to ``<NAME>_API_KEY`` so the secret can stay out of the
    file; ``models`` (optional) replaces the upstream's ``/models`` list.
    """
    from freeway.http import shared_client
    from freeway.providers.openai_compatible import OpenAICompatibleProvider

    return [
        OpenAICompatibleProvider(
            name,
            base_url=config.base_url,
            api_key=config.api_key or settings.provider_setting(name, "api_key"),
            client=shared_client(settings),
            models=config.models or None,
        )
        for name, config in settings.providers.items()
    ]


@hookimpl
def freeway_usage_sinks(settings: Settings) -> list[Any]:
    """The database sink, and the JSON-lines file sink when ``USAGE_JSONL_PATH`` is set."""
    from freeway.usage.sinks import DatabaseSink, JsonlSink

    sinks: list[Any] = [DatabaseSink()]
    if settings.usage_jsonl_path is not None:
        sinks.append(JsonlSink(settings.usage_jsonl_path))
    return sinks


@hookimpl
def freeway_rankers() -> list[Any]:
    """The built-in rankers ``free``, ``paid`` and ``image``."""
    from freeway.catalogue.rankers import builtin_rankers

    return builtin_rankers()


@hookimpl
def freeway_jobs() -> list[Any]:
    """``refresh-models`` (00:00 UTC), ``refresh-project-cache`` (01:00 UTC) and
    ``prune-usage-logs`` (02:30 UTC, applies ``USAGE_LOG_RETENTION_DAYS``)."""
    from freeway.analytics.retention import retention_job
    from freeway.jobs.builtin import builtin_jobs

    return [*builtin_jobs(), retention_job()]
