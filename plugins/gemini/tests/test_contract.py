"""The shared provider contract, run against the Gemini adapter on fixture files."""

from __future__ import annotations

from pathlib import Path

import httpx

from freeway.testing import FixtureUpstream, ProviderContract
from freeway_provider_gemini.provider import GeminiProvider

FIXTURES = FixtureUpstream(
    Path(__file__).parent / "fixtures",
    {
        "GET /models": "models_page2.json",
        "POST :generateContent": "generate_text.json",
        "POST :streamGenerateContent": "stream_text.sse",
    },
)


class TestGeminiContract(ProviderContract):
    model = "gemini-2.5-flash"

    def make_provider(self, client: httpx.AsyncClient) -> GeminiProvider:
        return GeminiProvider("test-key", client, "https://gemini.test/v1beta")

    def upstream(self, request: httpx.Request) -> httpx.Response:
        return FIXTURES(request)

    def error_response(self, status: int, *, retry_after: str | None = None) -> httpx.Response:
        # Gemini sends Google RPC errors and no retry-after header: the delay is in RetryInfo.
        names = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}
        error = {"code": status, "message": f"contract {status}", "status": names.get(status)}
        if retry_after is not None:
            delay = {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{retry_after}s",
            }
            error["details"] = [delay]
        return httpx.Response(status, json={"error": error})
