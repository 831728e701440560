"""Built-in rankers and price normalization: known right answers and properties."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from freeway.catalogue.normalize import clean_price, normalize_model
from freeway.catalogue.rankers import (
    FreeRanker,
    ImageRanker,
    PaidRanker,
    builtin_rankers,
    collect_rankers,
)
from freeway.errors import ConfigError, PluginError
from freeway.hookspecs import hookimpl
from freeway.plugins import get_plugin_manager
from freeway.providers.types import Model, make_model


def model(upstream: str, provider: str = "p", **fields: Any) -> Model:
    return normalize_model(provider, make_model(provider, upstream, **fields))  # type: ignore[return-value]


def ids(models: list[Model]) -> list[str]:
    return [m.id for m in models]


# --- known answers ---------------------------------------------------------------


def test_free_ranker_puts_the_largest_context_first():
    models = [
        model("small:free", context_length=8_000),
        model("big:free", context_length=1_000_000),
        model("zero-priced", context_length=128_000, prompt_price=0, completion_price=0),
        model("paid-huge", context_length=2_000_000, prompt_price=1, completion_price=2),
    ]
    assert ids(FreeRanker().rank(models)) == ["p/big:free", "p/zero-priced", "p/small:free"]


def test_free_ranker_breaks_context_ties_by_price_then_id():
    models = [
        model("b:free", context_length=32_000, prompt_price=0, completion_price=0),
        model("a:free", context_length=32_000, prompt_price=0, completion_price=0),
        # ":free" but the listing shows a price: ranks after the truly zero-priced ones
        model("0-listed-price:free", context_length=32_000, prompt_price=0.1, completion_price=0),
    ]
    assert ids(FreeRanker().rank(models)) == ["p/a:free", "p/b:free", "p/0-listed-price:free"]


def test_paid_ranker_puts_the_cheapest_combined_price_first():
    models = [
        model("cheap-prompt", prompt_price=0.01, completion_price=10.0),  # 10.01
        model("balanced", prompt_price=1.0, completion_price=2.0),  # 3.0
        model("cheapest", prompt_price=0.5, completion_price=0.6),  # 1.1
        model("free:free", prompt_price=0, completion_price=0),
    ]
    assert ids(PaidRanker().rank(models)) == ["p/cheapest", "p/balanced", "p/cheap-prompt"]


def test_paid_ranker_breaks_price_ties_by_larger_context_then_id():
    models = [
        model("b", prompt_price=1, completion_price=1, context_length=8_000),
        model("a", prompt_price=1, completion_price=1, context_length=8_000),
        model("c", prompt_price=1.5, completion_price=0.5, context_length=128_000),
    ]
    assert ids(PaidRanker().rank(models)) == ["p/c", "p/a", "p/b"]


def test_image_ranker_puts_the_cheapest_image_first_and_unknown_prices_last():
    models = [
        model("dall-e-3", image_price=0.04, output_modalities=["image"]),
        model("unknown-price", output_modalities=["image"]),
        model("gpt-image-1-mini", image_price=0.011, output_modalities=["image"]),
        model("b-same", image_price=0.02, output_modalities=["image", "text"]),
        model("a-same", image_price=0.02, output_modalities=["image"]),
        model("text-only", image_price=0.001),
    ]
    assert ids(ImageRanker().rank(models)) == [
        "p/gpt-image-1-mini",
        "p/a-same",
        "p/b-same",
        "p/dall-e-3",
        "p/unknown-price",
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("0", 0.0),
        ("0.000002", 0.000002),
        (" 1.5 ", 1.5),
        (-1, None),
        ("-1", None),
        ("abc", None),
        ("", None),
        (float("nan"), None),
        (float("inf"), None),
        (True, None),
        (3, 3.0),
    ],
)
def test_prices_are_cleaned_to_non_negative_floats_or_unknown(raw, expected):
    assert clean_price(raw) == expected


def test_messy_prices_decide_the_category():
    models = [
        model("string-zero", prompt_price="0", completion_price="0"),  # free
        model("string-priced", prompt_price="0.5", completion_price="1.5"),  # paid, 2.0
        model("router", prompt_price=-1, completion_price=-1),  # "varies": neither
        model("missing"),  # no pricing: neither
        model("half-missing", prompt_price=1.0),  # neither
        model("garbage", prompt_price="n/a", completion_price="1"),  # neither
        model("one-negative", prompt_price=0, completion_price=-1),  # neither
    ]
    assert ids(FreeRanker().rank(models)) == ["p/string-zero"]
    assert ids(PaidRanker().rank(models)) == ["p/string-priced"]
    by_id = {m.id: m for m in models}
    assert by_id["p/string-priced"].prompt_price == 0.5
    assert by_id["p/router"].prompt_price is None
    assert by_id["p/router"].is_free is False


def test_an_image_model_charging_per_image_is_not_free():
    priced = model(
        "img", prompt_price=0, completion_price=0, image_price=0.04, output_modalities=["image"]
    )
    assert priced.is_free is False
    assert ids(FreeRanker().rank([priced])) == []


# --- properties --------------------------------------------------------------------

_price = st.one_of(
    st.none(),
    st.floats(min_value=-5, max_value=100),
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.sampled_from(["0", "0.0", "-1", "1.25", "abc", ""]),
    st.integers(min_value=-3, max_value=50),
)
_raw_model = st.builds(
    lambda uid, free, ctx, p, c, img, out: model(
        uid + (":free" if free else ""),
        context_length=ctx,
        prompt_price=p,
        completion_price=c,
        image_price=img,
        output_modalities=out,
    ),
    st.text(alphabet="abcdefgh-", min_size=1, max_size=6),
    st.booleans(),
    st.one_of(st.none(), st.integers(min_value=-10, max_value=2_000_000)),
    _price,
    _price,
    _price,
    st.sampled_from([["text"], ["image"], ["image", "text"]]),
)
_catalogues = st.lists(_raw_model, max_size=30, unique_by=lambda m: m.id)


def _combined(m: Model) -> float:
    return m.prompt_price + m.completion_price  # type: ignore[operator]


def _free_beats(a: Model, b: Model) -> bool:
    """Does ``a`` beat ``b`` under the free rule (context, then price, then id)?"""
    ca, cb = a.context_length or 0, b.context_length or 0
    if ca != cb:
        return ca > cb
    pa = _combined(a) if a.prompt_price is not None and a.completion_price is not None else math.inf
    pb = _combined(b) if b.prompt_price is not None and b.completion_price is not None else math.inf
    if pa != pb:
        return pa < pb
    return a.id < b.id


def _paid_beats(a: Model, b: Model) -> bool:
    if _combined(a) != _combined(b):
        return _combined(a) < _combined(b)
    if (a.context_length or 0) != (b.context_length or 0):
        return (a.context_length or 0) > (b.context_length or 0)
    return a.id < b.id


def _image_beats(a: Model, b: Model) -> bool:
    pa = math.inf if a.image_price is None else a.image_price
    pb = math.inf if b.image_price is None else b.image_price
    return pa < pb if pa != pb else a.id < b.id


@settings(max_examples=300, deadline=None)
@given(_catalogues)
def test_free_ranker_first_is_never_beaten_and_members_are_exactly_the_free_text_models(models):
    ranked = FreeRanker().rank(models)
    expected = {m.id for m in models if m.is_free and "text" in m.output_modalities}
    assert {m.id for m in ranked} == expected
    for m in models:
        if m.is_free:
            assert m.upstream_id.endswith(":free") or (
                m.prompt_price == 0 and m.completion_price == 0
            )
    if ranked:
        assert not any(_free_beats(other, ranked[0]) for other in ranked[1:])


@settings(max_examples=300, deadline=None)
@given(_catalogues)
def test_paid_ranker_first_is_never_beaten_and_only_valid_prices_are_members(models):
    ranked = PaidRanker().rank(models)
    for m in ranked:
        assert not m.is_free
        assert m.prompt_price is not None and m.prompt_price >= 0
        assert m.completion_price is not None and m.completion_price >= 0
        assert math.isfinite(_combined(m))
    expected = {
        m.id
        for m in models
        if not m.is_free
        and "text" in m.output_modalities
        and m.prompt_price is not None
        and m.completion_price is not None
    }
    assert {m.id for m in ranked} == expected
    if ranked:
        assert not any(_paid_beats(other, ranked[0]) for other in ranked[1:])


@settings(max_examples=300, deadline=None)
@given(_catalogues)
def test_image_ranker_first_is_never_beaten(models):
    ranked = ImageRanker().rank(models)
    assert {m.id for m in ranked} == {m.id for m in models if "image" in m.output_modalities}
    if ranked:
        assert not any(_image_beats(other, ranked[0]) for other in ranked[1:])
        assert all(m.image_price is None or m.image_price >= 0 for m in ranked)


# --- registration ------------------------------------------------------------------


class FastRanker:
    category = "fast"

    def rank(self, models: list[Model]) -> list[Model]:
        return sorted(models, key=lambda m: m.id)


class OtherFree:
    category = "free"

    def rank(self, models: list[Model]) -> list[Model]:
        return []


class RankerPlugin:
    def __init__(self, *rankers: Any) -> None:
        self.rankers = list(rankers)

    @hookimpl
    def freeway_rankers(self) -> list[Any]:
        return self.rankers


def test_core_registers_free_paid_and_image(make_settings):
    settings_ = make_settings(FREEWAY_PLUGINS="core")
    rankers = collect_rankers(get_plugin_manager(settings_), settings_)
    assert set(rankers) == {"free", "paid", "image"}
    assert [r.category for r in builtin_rankers()] == ["free", "paid", "image"]


def test_a_plugin_ranker_adds_a_category(make_settings):
    settings_ = make_settings(FREEWAY_PLUGINS="core")
    pm = get_plugin_manager(settings_, extra_plugins=[("speedy", RankerPlugin(FastRanker()))])
    assert set(collect_rankers(pm, settings_)) == {"free", "paid", "image", "fast"}


def test_two_rankers_for_one_category_fail_startup_naming_both_plugins(make_settings):
    settings_ = make_settings(FREEWAY_PLUGINS="core")
    pm = get_plugin_manager(settings_, extra_plugins=[("rival", RankerPlugin(OtherFree()))])
    with pytest.raises(ConfigError) as info:
        collect_rankers(pm, settings_)
    message = info.value.message
    assert "'free'" in message and "'core'" in message and "'rival'" in message
    assert "[rankers] free" in message


def test_config_chooses_between_two_rankers(make_settings, tmp_path):
    toml = tmp_path / "freeway.toml"
    toml.write_text('[rankers]\nfree = "rival"\n')
    settings_ = make_settings(FREEWAY_PLUGINS="core", FREEWAY_CONFIG=str(toml))
    rival = OtherFree()
    pm = get_plugin_manager(settings_, extra_plugins=[("rival", RankerPlugin(rival))])
    assert collect_rankers(pm, settings_)["free"] is rival


def test_config_naming_a_plugin_without_that_ranker_is_an_error(make_settings, tmp_path):
    toml = tmp_path / "freeway.toml"
    toml.write_text('[rankers]\npaid = "rival"\n')
    settings_ = make_settings(FREEWAY_PLUGINS="core", FREEWAY_CONFIG=str(toml))
    pm = get_plugin_manager(settings_, extra_plugins=[("rival", RankerPlugin(FastRanker()))])
    with pytest.raises(ConfigError, match="'rival': that plugin has no ranker for 'paid'"):
        collect_rankers(pm, settings_)


def test_a_ranker_with_a_bad_category_names_its_plugin(make_settings):
    class Bad:
        category = "has/slash"

        def rank(self, models):
            return models

    settings_ = make_settings(FREEWAY_PLUGINS="core")
    pm = get_plugin_manager(settings_, extra_plugins=[("broken", RankerPlugin(Bad()))])
    with pytest.raises(PluginError, match="'broken'"):
        collect_rankers(pm, settings_)
