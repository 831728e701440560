"""Model resolution: categories, gateway ids, bare upstream ids, fitting, 404."""

from __future__ import annotations

import pytest

from freeway.catalogue import Catalogue
from freeway.errors import NoModelAvailable, ValidationFailed
from freeway.providers.types import ChatRequest, Model, make_model
from freeway.routing import estimate_prompt_tokens, fit_chat, resolve
from freeway.testing import FakeProvider


class FixedRanker:
    """A ranker whose category holds fixed model ids, in that order."""

    def __init__(self, category: str, ids: list[str]) -> None:
        self.category = category
        self.ids = ids

    def rank(self, models: list[Model]) -> list[Model]:
        by_id = {m.id: m for m in models}
        return [by_id[i] for i in self.ids if i in by_id]


PROVIDERS = {name: FakeProvider(name) for name in ("openrouter", "groq", "openai")}
MODELS = [
    make_model("groq", "llama-3.1-8b", context_length=8000, supports_tools=True),
    make_model("openrouter", "llama-3.1-8b", context_length=128_000),
    make_model("openrouter", "google/gemma-3:free", context_length=1000, supports_tools=False),
    make_model("openai", "gpt-4o", input_modalities=["text", "image"]),
    make_model("gone", "old-model"),  # its provider is not running
]
CATALOGUE = Catalogue(
    {
        "free": FixedRanker("free", ["openrouter/google/gemma-3:free", "groq/llama-3.1-8b"]),
        "paid": FixedRanker("paid", ["openai/gpt-4o"]),
        "empty": FixedRanker("empty", []),
    },
    provider_order=["groq", "openrouter", "openai"],
)
CATALOGUE.replace(MODELS, [], None)


def ids(candidates) -> list[str]:
    return [c.gateway_id for c in candidates]


def chat(**fields) -> ChatRequest:
    fields.setdefault("messages", [{"role": "user", "content": "hi"}])
    return ChatRequest(model="x", **fields)


def test_a_category_resolves_to_selection_then_ranked_models():
    assert ids(resolve("free", CATALOGUE, PROVIDERS)) == [
        "openrouter/google/gemma-3:free",
        "groq/llama-3.1-8b",
    ]


def test_a_gateway_id_goes_to_that_provider_then_the_same_model_elsewhere():
    found = resolve("groq/llama-3.1-8b", CATALOGUE, PROVIDERS)
    assert ids(found) == ["groq/llama-3.1-8b", "openrouter/llama-3.1-8b"]
    assert found[0].provider is PROVIDERS["groq"]
    assert found[0].upstream_id == "llama-3.1-8b"


def test_a_bare_upstream_id_goes_to_every_provider_listing_it_in_priority_order():
    assert ids(resolve("llama-3.1-8b", CATALOGUE, PROVIDERS)) == [
        "groq/llama-3.1-8b",
        "openrouter/llama-3.1-8b",
    ]
    # An OpenRouter id with a slash that is not a provider prefix.
    assert ids(resolve("google/gemma-3:free", CATALOGUE, PROVIDERS)) == [
        "openrouter/google/gemma-3:free"
    ]


def test_a_provider_prefixed_id_missing_from_the_catalogue_still_reaches_the_provider():
    (only,) = resolve("openai/gpt-5-preview", CATALOGUE, PROVIDERS)
    assert only.provider is PROVIDERS["openai"] and only.upstream_id == "gpt-5-preview"
    assert only.model is None
    # Without any catalogue (still loading) the same holds.
    assert ids(resolve("groq/llama-3.1-8b", None, PROVIDERS)) == ["groq/llama-3.1-8b"]


@pytest.mark.parametrize("requested", ["no-such-model", "gone/old-model", "nope/x"])
def test_an_unknown_model_is_a_404_naming_it(requested):
    with pytest.raises(NoModelAvailable) as info:
        resolve(requested, CATALOGUE, PROVIDERS)
    assert info.value.status_code == 404
    assert info.value.code == "model_not_found"
    assert info.value.param == "model"
    assert repr(requested) in info.value.message


def test_an_empty_category_says_so():
    with pytest.raises(NoModelAvailable, match="no model is available in category 'empty'"):
        resolve("empty", CATALOGUE, PROVIDERS)


def test_models_too_small_for_the_prompt_are_skipped():
    long_prompt = chat(messages=[{"role": "user", "content": "word " * 2000}], max_tokens=500)
    assert estimate_prompt_tokens(long_prompt) > 1000
    fitted = fit_chat("free", resolve("free", CATALOGUE, PROVIDERS), long_prompt)
    assert ids(fitted) == ["groq/llama-3.1-8b"]


def test_max_completion_tokens_counts_against_the_context():
    request = chat(max_completion_tokens=7999)
    # gemma (1000) and llama on groq (8000) are both too small for 7999 + the prompt.
    with pytest.raises(ValidationFailed) as info:
        fit_chat("free", resolve("free", CATALOGUE, PROVIDERS), request)
    assert info.value.code == "context_length_exceeded"
    assert info.value.param == "messages"
    assert "groq/llama-3.1-8b holds 8000 tokens" in info.value.message


def test_models_without_tools_are_skipped_when_tools_are_sent():
    request = chat(tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}])
    assert ids(fit_chat("free", resolve("free", CATALOGUE, PROVIDERS), request)) == [
        "groq/llama-3.1-8b"
    ]


def test_image_input_needs_a_vision_model_and_the_400_says_which_capability():
    request = chat(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}},
                ],
            }
        ]
    )
    assert ids(fit_chat("paid", resolve("paid", CATALOGUE, PROVIDERS), request)) == [
        "openai/gpt-4o"
    ]
    with pytest.raises(ValidationFailed) as info:
        fit_chat("free", resolve("free", CATALOGUE, PROVIDERS), request)
    assert info.value.code == "unsupported_capability"
    assert "does not take image input" in info.value.message


def test_unknown_models_are_never_filtered_out():
    (only,) = resolve("openai/brand-new", CATALOGUE, PROVIDERS)
    huge = chat(messages=[{"role": "user", "content": "x" * 100_000}])
    assert fit_chat("openai/brand-new", [only], huge) == [only]
