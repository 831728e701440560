"""Fixtures for the Cohere adapter tests: a mock Cohere API served from files."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from freeway.testing import FixtureUpstream
from freeway_provider_cohere.provider import CohereProvider

FIXTURES = Path(__file__).parent / "fixtures"
API_KEY = "test-cohere-key"
BASE_URL = "https://cohere.test"


class CohereUpstream(FixtureUpstream):
    """Serves the fixtures; the second model page when ``page_token`` is sent."""

    def __init__(self, chat: str = "chat_text.json", stream: str = "stream_text.sse"):
        super().__init__(
            FIXTURES,
            {
                "GET /v1/models": "models_page1.json",
                "GET /v1/models?page_token": "models_page2.json",
                "POST /v2/chat": chat,
                "POST /v2/chat stream": stream,
            },
        )


@pytest.fixture
def load() -> Callable[[str], Any]:
    """``load(name)`` — a JSON fixture file, decoded."""
    return lambda name: json.loads((FIXTURES / name).read_text())


@pytest.fixture
def cohere() -> type[CohereUpstream]:
    """The mock upstream class: ``cohere(chat=..., stream=...)`` picks the fixtures."""
    return CohereUpstream


@pytest.fixture
def connect() -> Callable[..., Any]:
    """``async with connect(handler) as provider`` — the adapter on a mock transport."""

    @asynccontextmanager
    async def build(handler: Callable[[httpx.Request], httpx.Response]) -> AsyncIterator[Any]:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        try:
            yield CohereProvider(API_KEY, client, BASE_URL)
        finally:
            await client.aclose()

    return build
