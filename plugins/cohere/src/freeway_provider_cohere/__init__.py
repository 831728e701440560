"""Freeway provider plugin for Cohere (native v2 Chat API).

Settings: ``COHERE_API_KEY`` (required; sent as ``Authorization: Bearer``) and
``COHERE_BASE_URL`` (the host root, default ``https://api.cohere.com``: chat is
``/v2/chat``, the model list ``/v1/models``).
"""

from __future__ import annotations

import logging

from freeway.hookspecs import hookimpl
from freeway.http import shared_client
from freeway.settings import Settings

from .provider import DEFAULT_BASE_URL, CohereProvider

log = logging.getLogger("freeway.providers.cohere")


@hookimpl
def freeway_providers(settings: Settings) -> list[CohereProvider]:
    """The Cohere adapter, or none when ``COHERE_API_KEY`` is not set."""
    api_key = settings.provider_setting("cohere", "api_key")
    if not api_key:
        log.info("cohere provider off: COHERE_API_KEY is not set")
        return []
    base_url = settings.provider_setting("cohere", "base_url") or DEFAULT_BASE_URL
    return [CohereProvider(api_key, shared_client(settings), base_url)]
