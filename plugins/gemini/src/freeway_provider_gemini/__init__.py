"""Freeway provider plugin for Google Gemini (native Generative Language API).

Settings: ``GEMINI_API_KEY`` (required; sent as ``x-goog-api-key``) and
``GEMINI_BASE_URL`` (default ``https://generativelanguage.googleapis.com/v1beta``).
"""

from __future__ import annotations

import logging

from freeway.hookspecs import hookimpl
from freeway.http import shared_client
from freeway.settings import Settings

from .provider import DEFAULT_BASE_URL, GeminiProvider

log = logging.getLogger("freeway.providers.gemini")


@hookimpl
def freeway_providers(settings: Settings) -> list[GeminiProvider]:
    """The Gemini adapter, or none when ``GEMINI_API_KEY`` is not set."""
    api_key = settings.provider_setting("gemini", "api_key")
    if not api_key:
        log.info("gemini provider off: GEMINI_API_KEY is not set")
        return []
    base_url = settings.provider_setting("gemini", "base_url") or DEFAULT_BASE_URL
    return [GeminiProvider(api_key, shared_client(settings), base_url)]
