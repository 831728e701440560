"""Freeway provider plugin: OpenRouter.  Settings: ``OPENROUTER_API_KEY`` (required),
``OPENROUTER_BASE_URL``, ``OPENROUTER_SITE_URL`` / ``OPENROUTER_APP_NAME`` (optional
attribution headers ``HTTP-Referer`` / ``X-Title``)."""

from __future__ import annotations

import logging

from freeway.hookspecs import hookimpl
from freeway.providers import Provider
from freeway.settings import Settings

log = logging.getLogger(__name__)


@hookimpl
def freeway_providers(settings: Settings) -> list[Provider]:
    """The OpenRouter provider when ``OPENROUTER_API_KEY`` is set, else none."""
    api_key = settings.provider_setting("openrouter", "api_key")
    if not api_key:
        log.info("openrouter: no OPENROUTER_API_KEY set; provider disabled")
        return []
    from freeway.http import shared_client
    from freeway_provider_openrouter.provider import DEFAULT_BASE_URL, OpenRouterProvider

    return [
        OpenRouterProvider(
            api_key=api_key,
            client=shared_client(settings),
            base_url=settings.provider_setting("openrouter", "base_url") or DEFAULT_BASE_URL,
            site_url=settings.provider_setting("openrouter", "site_url"),
            app_name=settings.provider_setting("openrouter", "app_name"),
        )
    ]
