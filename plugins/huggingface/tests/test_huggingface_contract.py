"""Hugging Face passes the provider contract every adapter must meet."""

from __future__ import annotations

from pathlib import Path

import httpx

from freeway.testing import FixtureUpstream, ProviderContract
from freeway_provider_huggingface.provider import HuggingFaceProvider

FIXTURES = FixtureUpstream(
    Path(__file__).parent / "fixtures",
    {
        "GET /models": "models.json",
        "POST /chat/completions": "chat_response.json",
        "POST /chat/completions stream": "stream.sse",
    },
)


class TestHuggingFaceContract(ProviderContract):
    model = "meta-llama/Llama-3.1-8B-Instruct"

    def make_provider(self, client: httpx.AsyncClient) -> HuggingFaceProvider:
        return HuggingFaceProvider(api_key="hf_test", client=client)

    def upstream(self, request: httpx.Request) -> httpx.Response:
        return FIXTURES(request)
