"""The ``freeway_providers`` hook: off without a key, configured from settings with one."""

from __future__ import annotations

import logging

import httpx

import freeway_provider_cohere
from freeway_provider_cohere.provider import DEFAULT_BASE_URL, CohereProvider


def test_no_key_means_no_provider_and_an_info_log(make_settings, caplog) -> None:
    logger = logging.getLogger("freeway.providers.cohere")
    logger.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.INFO)
    old = logger.level
    logger.setLevel(logging.INFO)
    try:
        assert freeway_provider_cohere.freeway_providers(make_settings()) == []
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(old)
    record = next(r for r in caplog.records if "COHERE_API_KEY" in r.getMessage())
    assert record.levelno == logging.INFO


async def test_key_and_base_url_come_from_settings(make_settings, monkeypatch, cohere) -> None:
    upstream = cohere()
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    monkeypatch.setattr(freeway_provider_cohere, "shared_client", lambda settings: client)
    settings = make_settings(COHERE_API_KEY="k-9", COHERE_BASE_URL="https://eu.cohere.test/")
    [provider] = freeway_provider_cohere.freeway_providers(settings)
    assert isinstance(provider, CohereProvider) and provider.name == "cohere"
    await provider.list_models()
    await client.aclose()
    sent = upstream.requests[0]
    assert str(sent.url).startswith("https://eu.cohere.test/v1/models?")
    assert sent.headers["authorization"] == "Bearer k-9"


def test_default_base_url_is_the_host_root() -> None:
    assert DEFAULT_BASE_URL == "https://api.cohere.com"


def test_the_plugin_is_found_through_its_entry_point(make_settings) -> None:
    from freeway.plugins import get_plugin_manager

    settings = make_settings(COHERE_API_KEY="k")
    pm = get_plugin_manager(settings)
    providers = [p for group in pm.hook.freeway_providers(settings=settings) for p in group]
    assert any(isinstance(p, CohereProvider) for p in providers)
