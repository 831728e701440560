"""Router model listing: per-provider context and prices folded into one model."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freeway_provider_huggingface.models import parse_model, price


async def test_listing_is_authenticated_so_gated_models_show(provider, router) -> None:
    await provider.list_models()
    [call] = router.requests
    assert str(call.url) == "https://router.huggingface.co/v1/models"
    assert call.headers["authorization"] == "Bearer hf_test"


async def test_live_providers_fold_into_one_model(provider) -> None:
    models = {m.id: m for m in await provider.list_models()}
    qwen = models["huggingface/Qwen/Qwen3-8B"]

    # The staging provider (131072 tokens, 0.01 $/1M) is ignored.
    assert qwen.context_length == 32768, "the smallest live context, so any provider fits"
    assert qwen.prompt_price == pytest.approx(0.05)
    assert qwen.completion_price == pytest.approx(0.25)
    assert qwen.supports_tools is True
    assert qwen.is_free is False
    assert [p["provider"] for p in qwen.raw["providers"]] == [
        "together",
        "nscale",
        "featherless-ai",
    ]


async def test_prices_are_already_per_million_tokens(provider) -> None:
    # Unlike OpenRouter (USD per token), the router lists USD per 1M tokens: no scaling.
    models = {m.upstream_id: m for m in await provider.list_models()}
    llama = models["meta-llama/Llama-3.1-8B-Instruct"]
    assert llama.prompt_price == pytest.approx(0.05)
    assert llama.completion_price == pytest.approx(0.08)
    assert llama.context_length == 131072  # hf-inference lists none; groq's is used


async def test_string_prices_and_modalities_are_read(provider) -> None:
    models = {m.upstream_id: m for m in await provider.list_models()}
    gemma = models["google/gemma-3-27b-it"]
    assert gemma.prompt_price == pytest.approx(0.1)
    assert gemma.completion_price == pytest.approx(0.3)
    assert gemma.input_modalities == ["text", "image"]
    assert gemma.supports_tools is False


async def test_model_with_only_staging_providers_is_not_listed(provider) -> None:
    ids = {m.upstream_id for m in await provider.list_models()}
    assert "acme/staging-only-model" not in ids
    assert "Qwen/Qwen3-8B" in ids


async def test_zero_priced_model_is_free_and_unknowns_stay_unknown(provider) -> None:
    models = {m.upstream_id: m for m in await provider.list_models()}
    smol = models["HuggingFaceTB/SmolLM3-3B"]
    assert smol.is_free is True
    assert smol.prompt_price == 0 and smol.completion_price == 0
    assert smol.supports_tools is None
    assert smol.input_modalities == ["text"] and smol.output_modalities == ["text"]


async def test_configured_image_models_are_listed_as_image_generators(provider) -> None:
    models = {m.upstream_id: m for m in await provider.list_models()}
    flux = models["black-forest-labs/FLUX.1-schnell"]
    assert flux.makes_images
    assert flux.output_modalities == ["image"]
    assert flux.prompt_price is None and flux.is_free is False


def test_price_accepts_numbers_and_numeric_strings_only() -> None:
    assert price(0.2) == 0.2
    assert price("0.3") == 0.3
    assert price(0) == 0.0
    for bad in (None, True, "free", "-1", -0.5, "nan", "inf", [1], {"a": 1}):
        assert price(bad) is None, bad


PRICES = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-5, max_value=5),
    st.text(max_size=6),
)
PROVIDER = st.fixed_dictionaries(
    {"provider": st.sampled_from(["together", "groq", "nebius"])},
    optional={
        "status": st.sampled_from(["live", "staging", "error"]),
        "context_length": st.one_of(st.none(), st.integers(min_value=-10, max_value=10**6)),
        "pricing": st.fixed_dictionaries({}, optional={"input": PRICES, "output": PRICES}),
        "supports_tools": st.one_of(st.none(), st.booleans()),
    },
)


@given(st.lists(PROVIDER, max_size=4))
def test_any_provider_list_gives_a_valid_model_or_none(providers: list[dict[str, Any]]) -> None:
    model = parse_model("huggingface", {"id": "org/model", "providers": providers})
    live = [p for p in providers if p.get("status", "live") == "live"]
    if not live:
        assert model is None
        return
    assert model is not None
    for value in (model.prompt_price, model.completion_price):
        assert value is None or value >= 0
    assert model.context_length is None or model.context_length > 0
    if model.is_free:
        assert model.prompt_price == 0 and model.completion_price == 0
