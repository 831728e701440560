"""The ``freeway_providers`` hook: off without a key, configured from settings with one."""

from __future__ import annotations

import logging

import httpx

import freeway_provider_gemini
from freeway_provider_gemini.provider import DEFAULT_BASE_URL, GeminiProvider


def test_no_key_means_no_provider_and_an_info_log(make_settings, caplog) -> None:
    logger = logging.getLogger("freeway.providers.gemini")
    logger.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.INFO)
    old = logger.level
    logger.setLevel(logging.INFO)
    try:
        assert freeway_provider_gemini.freeway_providers(make_settings()) == []
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(old)
    record = next(r for r in caplog.records if "GEMINI_API_KEY" in r.getMessage())
    assert record.levelno == logging.INFO


async def test_key_and_base_url_come_from_settings(make_settings, monkeypatch, gemini) -> None:
    upstream = gemini()
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    monkeypatch.setattr(freeway_provider_gemini, "shared_client", lambda settings: client)
    settings = make_settings(GEMINI_API_KEY="k-123", GEMINI_BASE_URL="https://proxy.test/v1beta/")
    [provider] = freeway_provider_gemini.freeway_providers(settings)
    assert isinstance(provider, GeminiProvider) and provider.name == "gemini"
    await provider.list_models()
    await client.aclose()
    sent = upstream.requests[0]
    assert str(sent.url).startswith("https://proxy.test/v1beta/models?")
    assert sent.headers["x-goog-api-key"] == "k-123"


def test_default_base_url_is_v1beta() -> None:
    assert DEFAULT_BASE_URL == "https://generativelanguage.googleapis.com/v1beta"


def test_the_plugin_is_found_through_its_entry_point(make_settings) -> None:
    from freeway.plugins import get_plugin_manager

    pm = get_plugin_manager(make_settings(GEMINI_API_KEY="k"))
    providers = [
        p
        for group in pm.hook.freeway_providers(settings=make_settings(GEMINI_API_KEY="k"))
        for p in group
    ]
    assert any(isinstance(p, GeminiProvider) for p in providers)
