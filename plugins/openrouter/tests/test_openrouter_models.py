"""Model listing: both OpenRouter listings merged, prices normalized to USD per 1M tokens."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freeway_provider_openrouter.models import parse_model, per_million, per_unit


async def test_list_models_also_asks_for_image_generators(provider, upstream) -> None:
    models = {m.upstream_id: m for m in await provider.list_models()}

    queries = sorted(str(r.url.query, "ascii") for r in upstream.requests)
    assert queries == ["", "output_modalities=image"]
    # Only in the image listing: hidden by the default /models answer.
    flux = models["black-forest-labs/flux.2-pro"]
    assert flux.output_modalities == ["image"]
    assert flux.makes_images
    assert flux.image_price == pytest.approx(0.03)
    assert flux.is_free is False, "zero token prices but a per-image price is not free"
    # Listed by both: appears once.
    ids = [m.upstream_id for m in await provider.list_models()]
    assert ids.count("google/gemini-2.5-flash-image") == 1


async def test_paid_model_prices_are_per_million_tokens(provider) -> None:
    models = {m.id: m for m in await provider.list_models()}
    mini = models["openrouter/openai/gpt-4o-mini"]

    assert mini.provider == "openrouter"
    assert mini.prompt_price == pytest.approx(0.15)
    assert mini.completion_price == pytest.approx(0.6)
    assert mini.context_length == 128000
    assert mini.input_modalities == ["text", "image", "file"]
    assert mini.output_modalities == ["text"]
    assert mini.supports_tools is True
    assert mini.image_price is None, "pricing.image of a text model prices input images"
    assert mini.is_free is False
    assert mini.name == "OpenAI: GPT-4o-mini"
    assert mini.raw["canonical_slug"] == "openai/gpt-4o-mini"


async def test_free_variant_is_free(provider) -> None:
    models = {m.upstream_id: m for m in await provider.list_models()}
    gemma = models["google/gemma-3-27b-it:free"]

    assert gemma.is_free is True
    assert gemma.prompt_price == 0 and gemma.completion_price == 0
    assert gemma.supports_tools is False


async def test_meta_router_minus_one_price_is_unknown_not_negative(provider) -> None:
    models = {m.upstream_id: m for m in await provider.list_models()}
    auto = models["openrouter/auto"]

    assert auto.prompt_price is None and auto.completion_price is None
    assert auto.is_free is False
    assert auto.supports_tools is None  # empty supported_parameters says nothing


async def test_odd_records_give_unknowns_not_errors(provider) -> None:
    models = {m.upstream_id: m for m in await provider.list_models()}

    r1 = models["deepseek/deepseek-r1"]
    assert r1.prompt_price == pytest.approx(0.4)
    assert r1.completion_price is None  # "variable" is not a number
    assert r1.context_length == 163840  # missing top-level: the top provider's

    bare = models["mystery/no-pricing"]
    assert bare.prompt_price is None and bare.completion_price is None
    assert bare.context_length is None
    assert bare.input_modalities == ["text"] and bare.output_modalities == ["text"]
    assert bare.is_free is False


def test_price_strings_are_parsed_as_decimals() -> None:
    # 0.1 + 0.2 style float noise must not leak into the per-million figure.
    assert per_million("0.0000001") == 0.1
    assert per_million("0.0000025") == 2.5
    assert per_million("0") == 0.0
    assert per_million("-1") is None
    assert per_million("") is None
    assert per_million("NaN") is None
    assert per_million("Infinity") is None
    assert per_million(None) is None
    assert per_million(True) is None
    assert per_million(0.000002) == pytest.approx(2.0)
    assert per_unit("0.03") == pytest.approx(0.03)
    assert per_million(1e303) is None  # finite string, infinite once scaled
    assert per_unit("1e400") is None


PRICE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
)


@given(PRICE_VALUES)
def test_price_parser_never_fails_and_never_goes_negative(value: Any) -> None:
    for result in (per_million(value), per_unit(value)):
        assert result is None or (result >= 0 and math.isfinite(result))


@given(st.decimals(min_value=0, max_value=1, allow_nan=False, places=12))
def test_price_parser_scales_any_decimal_string_exactly(price: Decimal) -> None:
    assert per_million(str(price)) == float(price * 1_000_000)


@given(st.decimals(max_value=Decimal("-0.000000001"), allow_nan=False, allow_infinity=False))
def test_negative_prices_are_unknown(price: Decimal) -> None:
    assert per_million(str(price)) is None


@given(
    st.dictionaries(
        st.sampled_from(["prompt", "completion", "request", "image"]), PRICE_VALUES, max_size=4
    ),
    st.sampled_from(["a/b", "a/b:free"]),
    st.sampled_from([["text"], ["image"], ["image", "text"]]),
)
def test_any_pricing_record_gives_a_valid_model(
    pricing: dict[str, Any], model_id: str, outputs: list[str]
) -> None:
    raw = {"id": model_id, "pricing": pricing, "architecture": {"output_modalities": outputs}}
    model = parse_model("openrouter", raw)
    for price in (model.prompt_price, model.completion_price, model.image_price):
        assert price is None or price >= 0
    if model.is_free:
        assert not model.prompt_price and not model.completion_price and not model.image_price
    other_prices = (per_unit(pricing.get("request")), model.image_price)
    if model.prompt_price == 0 and model.completion_price == 0 and not any(other_prices):
        assert model.is_free
