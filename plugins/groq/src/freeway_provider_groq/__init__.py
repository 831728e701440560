"""Freeway provider plugin: Groq (https://console.groq.com).

Settings: ``GROQ_API_KEY`` (required), ``GROQ_BASE_URL`` (default
``https://api.groq.com/openai/v1``), ``GROQ_FREE_TIER`` (``true`` when the key is on
Groq's free plan: every model is then listed as free, at no cost).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from freeway.hookspecs import hookimpl

if TYPE_CHECKING:
    from freeway.providers import Provider
    from freeway.settings import Settings

log = logging.getLogger(__name__)


@hookimpl
def freeway_providers(settings: Settings) -> list[Provider]:
    """The Groq provider when ``GROQ_API_KEY`` is set, else none."""
    api_key = settings.provider_setting("groq", "api_key")
    if not api_key:
        log.info("groq: no GROQ_API_KEY set; provider disabled")
        return []
    from freeway.http import shared_client
    from freeway_provider_groq.provider import DEFAULT_BASE_URL, GroqProvider

    free_tier = (settings.provider_setting("groq", "free_tier") or "").lower()
    return [
        GroqProvider(
            api_key=api_key,
            client=shared_client(settings),
            base_url=settings.provider_setting("groq", "base_url") or DEFAULT_BASE_URL,
            free_tier=free_tier in ("1", "true", "yes", "on"),
        )
    ]
