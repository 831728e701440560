"""Freeway provider plugin: Hugging Face Inference Providers (the router).  Settings:
``HUGGINGFACE_API_KEY`` (or ``HF_TOKEN``), ``HUGGINGFACE_BASE_URL``,
``HUGGINGFACE_IMAGE_MODELS`` (comma-separated text-to-image models on hf-inference)."""

from __future__ import annotations

import logging

from freeway.hookspecs import hookimpl
from freeway.providers import Provider
from freeway.settings import Settings

log = logging.getLogger(__name__)


@hookimpl
def freeway_providers(settings: Settings) -> list[Provider]:
    """The Hugging Face provider when ``HUGGINGFACE_API_KEY`` or ``HF_TOKEN`` is set."""
    api_key = settings.provider_setting("huggingface", "api_key") or settings.raw.get("HF_TOKEN")
    if not api_key:
        log.info("huggingface: neither HUGGINGFACE_API_KEY nor HF_TOKEN set; provider disabled")
        return []
    from freeway.http import shared_client
    from freeway_provider_huggingface.provider import DEFAULT_BASE_URL, HuggingFaceProvider

    image_models = settings.provider_setting("huggingface", "image_models") or ""
    return [
        HuggingFaceProvider(
            api_key=api_key,
            client=shared_client(settings),
            base_url=settings.provider_setting("huggingface", "base_url") or DEFAULT_BASE_URL,
            image_models=[m.strip() for m in image_models.split(",") if m.strip()],
        )
    ]
