"""The shared provider contract, run against the Cohere adapter on fixture files."""

from __future__ import annotations

from pathlib import Path

import httpx

from freeway.testing import FixtureUpstream, ProviderContract
from freeway_provider_cohere.provider import CohereProvider

FIXTURES = FixtureUpstream(
    Path(__file__).parent / "fixtures",
    {
        "GET /v1/models": "models_page2.json",
        "POST /v2/chat": "chat_text.json",
        "POST /v2/chat stream": "stream_text.sse",
    },
)


class TestCohereContract(ProviderContract):
    model = "command-a-03-2025"

    def make_provider(self, client: httpx.AsyncClient) -> CohereProvider:
        return CohereProvider("test-key", client, "https://cohere.test")

    def upstream(self, request: httpx.Request) -> httpx.Response:
        return FIXTURES(request)

    def error_response(self, status: int, *, retry_after: str | None = None) -> httpx.Response:
        # Cohere's error body is a bare {"message": ...}.
        headers = {"retry-after": retry_after} if retry_after is not None else {}
        return httpx.Response(status, json={"message": f"contract {status}"}, headers=headers)
