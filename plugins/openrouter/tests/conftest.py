"""Shared helpers for the OpenRouter plugin tests: a scripted mock upstream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from freeway_provider_openrouter.provider import OpenRouterProvider

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    """The raw content of a fixture file."""
    return (FIXTURES / name).read_bytes()


class Upstream:
    """A mock OpenRouter: ``/models`` (with the image filter) plus scripted chat answers.

    ``chat`` / ``stream`` name the fixture (or give a response factory) used for the
    next chat calls; every request is recorded.
    """

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.chat: str | Callable[[httpx.Request], httpx.Response] = "chat_response.json"
        self.stream: str | Callable[[httpx.Request], httpx.Response] = "stream.sse"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/models"):
            if request.url.params.get("output_modalities") == "image":
                return _file("models_image.json")
            return _file("models.json")
        if request.url.path.endswith("/chat/completions"):
            wanted = self.stream if json.loads(request.content).get("stream") else self.chat
            return wanted(request) if callable(wanted) else _file(wanted)
        return httpx.Response(404, json={"error": {"code": 404, "message": "no route"}})

    def bodies(self) -> list[dict[str, Any]]:
        """Decoded JSON bodies of the chat requests received."""
        return [json.loads(r.content) for r in self.requests if r.method == "POST"]

    def fail_with(self, name: str, status: int, headers: dict[str, str] | None = None) -> None:
        """Answer every chat call (streamed or not) with error fixture ``name``."""

        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(status, content=fixture_bytes(name), headers=headers or {})

        self.chat = self.stream = answer

    @staticmethod
    def json(name: str) -> Any:
        """A decoded JSON fixture."""
        return json.loads(fixture_bytes(name))

    @staticmethod
    def in_pieces(name: str, size: int) -> Callable[[httpx.Request], httpx.Response]:
        """A stream answer sending fixture ``name`` in ``size``-byte pieces."""

        async def pieces() -> AsyncIterator[bytes]:
            content = fixture_bytes(name)
            for start in range(0, len(content), size):
                yield content[start : start + size]

        return lambda request: httpx.Response(200, content=pieces())


def _file(name: str, status: int = 200) -> httpx.Response:
    kind = "text/event-stream" if name.endswith(".sse") else "application/json"
    return httpx.Response(status, content=fixture_bytes(name), headers={"content-type": kind})


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
async def provider(upstream: Upstream) -> AsyncIterator[OpenRouterProvider]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as client:
        yield OpenRouterProvider(api_key="sk-or-v1-test", client=client)
