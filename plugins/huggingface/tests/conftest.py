"""Shared helpers for the Hugging Face plugin tests: a scripted mock router."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from freeway_provider_huggingface.provider import HuggingFaceProvider

FIXTURES = Path(__file__).parent / "fixtures"

Answer = str | Callable[[httpx.Request], httpx.Response]


def fixture_bytes(name: str) -> bytes:
    """The raw content of a fixture file."""
    return (FIXTURES / name).read_bytes()


def _file(name: str, headers: dict[str, str] | None = None) -> httpx.Response:
    kinds = {".sse": "text/event-stream", ".png": "image/png", ".html": "text/html"}
    kind = kinds.get(Path(name).suffix, "application/json")
    return httpx.Response(
        200, content=fixture_bytes(name), headers={"content-type": kind, **(headers or {})}
    )


class Router:
    """A mock ``router.huggingface.co``: models, chat (plain and streamed), hf-inference.

    ``chat`` / ``stream`` / ``image`` name the fixture (or give a response factory)
    for the next calls; every request is recorded.
    """

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.chat: Answer = "chat_response.json"
        self.stream: Answer = "stream.sse"
        self.image: Answer = "image.png"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/v1/models":
            return _file("models.json")
        if path == "/v1/chat/completions":
            wanted = self.stream if json.loads(request.content).get("stream") else self.chat
        elif path.startswith("/hf-inference/models/"):
            wanted = self.image
        else:
            return httpx.Response(404, json={"error": f"no route {path}"})
        if callable(wanted):
            return wanted(request)
        return _file(wanted, {"x-inference-provider": "groq"})

    def bodies(self) -> list[dict[str, Any]]:
        """Decoded JSON bodies of the POST requests received."""
        return [json.loads(r.content) for r in self.requests if r.method == "POST"]

    def fail_with(
        self, name: str, status: int, headers: dict[str, str] | None = None, kind: str = ""
    ) -> None:
        """Answer every chat and image call with error fixture ``name``."""

        def answer(request: httpx.Request) -> httpx.Response:
            all_headers = {"content-type": kind} if kind else {}
            all_headers.update(headers or {})
            return httpx.Response(status, content=fixture_bytes(name), headers=all_headers)

        self.chat = self.stream = self.image = answer

    @staticmethod
    def json(name: str) -> Any:
        """A decoded JSON fixture."""
        return json.loads(fixture_bytes(name))

    @staticmethod
    def png() -> bytes:
        """The image fixture's bytes."""
        return fixture_bytes("image.png")


@pytest.fixture
def router() -> Router:
    return Router()


@pytest.fixture
async def client(router: Router) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(router)) as client:
        yield client


@pytest.fixture
def provider(client: httpx.AsyncClient) -> HuggingFaceProvider:
    return HuggingFaceProvider(
        api_key="hf_test", client=client, image_models=["black-forest-labs/FLUX.1-schnell"]
    )
