"""Fixtures for the Gemini adapter tests: a mock Generative Language API from files."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from freeway.testing import FixtureUpstream
from freeway_provider_gemini.provider import GeminiProvider

FIXTURES = Path(__file__).parent / "fixtures"
API_KEY = "test-gemini-key"
BASE_URL = "https://gemini.test/v1beta"


class GeminiUpstream(FixtureUpstream):
    """Serves the fixtures; the second model page when ``pageToken`` is sent."""

    def __init__(self, chat: str = "generate_text.json", stream: str = "stream_text.sse"):
        super().__init__(
            FIXTURES,
            {
                "GET /models": "models_page1.json",
                "GET /models?pageToken": "models_page2.json",
                "POST :generateContent": chat,
                "POST :streamGenerateContent": stream,
            },
        )


@pytest.fixture
def load() -> Callable[[str], Any]:
    """``load(name)`` — a JSON fixture file, decoded."""
    return lambda name: json.loads((FIXTURES / name).read_text())


@pytest.fixture
def gemini() -> type[GeminiUpstream]:
    """The mock upstream class: ``gemini(chat=..., stream=...)`` picks the fixtures."""
    return GeminiUpstream


@pytest.fixture
def connect() -> Callable[..., Any]:
    """``async with connect(handler) as provider`` — the adapter on a mock transport."""

    @asynccontextmanager
    async def build(handler: Callable[[httpx.Request], httpx.Response]) -> AsyncIterator[Any]:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        try:
            yield GeminiProvider(API_KEY, client, BASE_URL)
        finally:
            await client.aclose()

    return build
