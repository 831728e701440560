"""Freeway provider plugin: OpenAI (https://platform.openai.com).

Settings: ``OPENAI_API_KEY`` (required), ``OPENAI_BASE_URL`` (default
``https://api.openai.com/v1``), ``OPENAI_ORGANIZATION`` / ``OPENAI_PROJECT``
(optional ``OpenAI-Organization`` / ``OpenAI-Project`` headers).
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
    """The OpenAI provider when ``OPENAI_API_KEY`` is set, else none."""
    api_key = settings.provider_setting("openai", "api_key")
    if not api_key:
        log.info("openai: no OPENAI_API_KEY set; provider disabled")
        return []
    from freeway.http import shared_client
    from freeway_provider_openai.provider import DEFAULT_BASE_URL, OpenAIProvider

    return [
        OpenAIProvider(
            api_key=api_key,
            client=shared_client(settings),
            base_url=settings.provider_setting("openai", "base_url") or DEFAULT_BASE_URL,
            organization=settings.provider_setting("openai", "organization"),
            project=settings.provider_setting("openai", "project"),
        )
    ]
