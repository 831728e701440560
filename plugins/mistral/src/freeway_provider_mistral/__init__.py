"""Freeway provider plugin: Mistral La Plateforme (https://docs.mistral.ai).

Settings: ``MISTRAL_API_KEY`` (required), ``MISTRAL_BASE_URL`` (default
``https://api.mistral.ai/v1``; ``/v1`` is added when missing), ``MISTRAL_FREE_TIER``
(``true`` when the key is on the free "Experiment" plan: models are listed as free).
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
    """The Mistral provider when ``MISTRAL_API_KEY`` is set, else none."""
    api_key = settings.provider_setting("mistral", "api_key")
    if not api_key:
        log.info("mistral: no MISTRAL_API_KEY set; provider disabled")
        return []
    from freeway.http import shared_client
    from freeway_provider_mistral.provider import DEFAULT_BASE_URL, MistralProvider

    free_tier = (settings.provider_setting("mistral", "free_tier") or "").lower()
    return [
        MistralProvider(
            api_key=api_key,
            client=shared_client(settings),
            base_url=settings.provider_setting("mistral", "base_url") or DEFAULT_BASE_URL,
            free_tier=free_tier in ("1", "true", "yes", "on"),
        )
    ]
