"""OpenRouter passes the provider contract every adapter must meet."""

from __future__ import annotations

from pathlib import Path

import httpx

from freeway.testing import FixtureUpstream, ProviderContract
from freeway_provider_openrouter.provider import OpenRouterProvider

FIXTURES = FixtureUpstream(
    Path(__file__).parent / "fixtures",
    {
        "GET /models": "models.json",
        "POST /chat/completions": "chat_response.json",
        "POST /chat/completions stream": "stream.sse",
    },
)


class TestOpenRouterContract(ProviderContract):
    model = "deepseek/deepseek-r1"

    def make_provider(self, client: httpx.AsyncClient) -> OpenRouterProvider:
        return OpenRouterProvider(api_key="sk-or-v1-test", client=client)

    def upstream(self, request: httpx.Request) -> httpx.Response:
        return FIXTURES(request)

    def error_response(self, status: int, *, retry_after: str | None = None) -> httpx.Response:
        # OpenRouter's envelope: a numeric ``code`` and optional ``metadata``.
        headers = {"retry-after": retry_after} if retry_after is not None else {}
        body = {"error": {"code": status, "message": f"contract test error {status}"}}
        return httpx.Response(status, json=body, headers=headers)
