"""The router: fallback on retryable failures, errors passed through, breakers, deadline."""

from __future__ import annotations

import asyncio

import pytest

from freeway.errors import (
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    UpstreamAuthError,
    UpstreamBadRequest,
)
from freeway.providers.types import ChatRequest, ImageRequest, make_model
from freeway.routing import Attempt, CircuitBreaker, Router, chat_cost, image_cost
from freeway.routing.resolve import Candidate
from freeway.testing import FakeProvider


def setup(*names: str, **kw):
    providers = {n: FakeProvider(n) for n in names}
    router = Router(providers, **kw)
    return providers, router, [Candidate(p, "m") for p in providers.values()]


def request(**fields) -> ChatRequest:
    return ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}], **fields)


def far() -> float:
    return asyncio.get_running_loop().time() + 30


@pytest.mark.parametrize(
    "error",
    [
        RateLimited("a: slow down", retry_after=3),
        ProviderTimeout("a: upstream timed out"),
        ProviderUnavailable("a: 503"),
        ProviderUnavailable("a: cannot reach upstream (ConnectError)"),
    ],
    ids=["429", "timeout", "5xx", "connect"],
)
async def test_a_retryable_failure_falls_back_to_the_next_candidate(error):
    providers, router, candidates = setup("a", "b")
    a, b = providers["a"], providers["b"]
    a.fail_next(error)
    attempt = Attempt()
    response = await router.chat(request(), candidates, attempt, far())
    assert response.choices[0].message.content == b.reply
    assert attempt.candidate is candidates[1]
    assert attempt.fallbacks == 1
    assert b.calls[0].model == "m"


@pytest.mark.parametrize(
    "error", [UpstreamBadRequest("a: bad field 'x'"), UpstreamAuthError("a: invalid key")]
)
async def test_a_non_retryable_error_goes_back_to_the_client_without_fallback(error):
    providers, router, candidates = setup("a", "b")
    providers["a"].fail_next(error)
    attempt = Attempt()
    with pytest.raises(type(error)) as info:
        await router.chat(request(), candidates, attempt, far())
    assert info.value.message == error.message
    assert providers["b"].calls == []
    assert attempt.fallbacks == 0
    assert router.provider_states()["a"] == "closed"


async def test_when_every_candidate_fails_the_last_upstream_error_is_returned():
    providers, router, candidates = setup("a", "b", "c")
    providers["a"].fail_next(ProviderUnavailable("a: 502"))
    providers["b"].fail_next(ProviderTimeout("b: timed out"))
    providers["c"].fail_next(RateLimited("c: rate limited", retry_after=7))
    attempt = Attempt()
    with pytest.raises(RateLimited) as info:
        await router.chat(request(), candidates, attempt, far())
    assert info.value.retry_after == 7
    assert attempt.fallbacks == 2
    assert attempt.candidate is candidates[2]


async def test_an_adapter_bug_is_treated_as_an_unavailable_provider():
    providers, router, candidates = setup("a", "b")
    providers["a"].fail_next(KeyError("choices"))
    response = await router.chat(request(), candidates, Attempt(), far())
    assert response.choices[0].message.content == providers["b"].reply


async def test_the_deadline_bounds_the_whole_request_including_fallbacks():
    providers, router, candidates = setup("a", "b")
    providers["a"].latency = 5
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ProviderTimeout) as info:
        await router.chat(request(), candidates, Attempt(), loop.time() + 0.2)
    assert loop.time() - started < 1
    assert info.value.code == "deadline_exceeded"
    assert providers["b"].calls == []


async def test_the_breaker_opens_after_repeated_failures_and_skips_the_provider():
    providers, router, candidates = setup("a", "b", breaker_threshold=3, breaker_cooldown=60)
    providers["a"].fail_next(ProviderUnavailable("a: 503"), times=3)
    for _ in range(3):
        await router.chat(request(), candidates, Attempt(), far())
    assert router.provider_states() == {"a": "open", "b": "closed"}
    attempt = Attempt()
    await router.chat(request(), candidates, attempt, far())
    assert len(providers["a"].calls) == 3  # skipped, not called
    assert attempt.fallbacks == 0


async def test_only_open_circuits_left_fails_fast_with_503_style_error():
    providers, router, candidates = setup("a", breaker_threshold=1, breaker_cooldown=60)
    providers["a"].fail_next(ProviderUnavailable("a: 503"))
    with pytest.raises(ProviderUnavailable):
        await router.chat(request(), candidates, Attempt(), far())
    with pytest.raises(ProviderUnavailable) as info:
        await router.chat(request(), candidates, Attempt(), far())
    assert info.value.code == "circuit_open"
    assert "circuit open: a" in info.value.message


def test_breaker_half_opens_after_cooldown_with_a_single_probe():
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown=10, clock=lambda: now[0])
    breaker.failure()
    assert breaker.allow()
    breaker.failure()
    assert breaker.current() == "open" and not breaker.allow()
    now[0] = 10
    assert breaker.current() == "half_open"
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one at a time
    breaker.failure()  # probe failed: open for another cool-down
    assert breaker.current() == "open"
    now[0] = 20
    assert breaker.allow()
    breaker.success()
    assert breaker.current() == "closed" and breaker.allow() and breaker.allow()


def test_a_success_resets_the_consecutive_failure_count():
    breaker = CircuitBreaker(threshold=2, cooldown=10)
    breaker.failure()
    breaker.success()
    breaker.failure()
    assert breaker.current() == "closed"


async def test_a_stream_that_fails_before_its_first_chunk_falls_back():
    providers, router, candidates = setup("a", "b")
    providers["a"].fail_next(RateLimited("a: 429"))
    attempt = Attempt()
    first, rest = await router.open_stream(request(stream=True), candidates, attempt, far())
    chunks = [first] + [c async for c in rest]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == providers["b"].reply
    assert chunks[-1].usage is not None
    assert attempt.fallbacks == 1 and attempt.candidate is candidates[1]
    # The upstream is always asked for usage, whatever the client asked.
    assert providers["b"].calls[0].stream_options.include_usage is True


async def test_image_category_models_get_image_output_modalities_on_chat():
    provider = FakeProvider("or")
    router = Router({"or": provider})
    model = make_model("or", "img", output_modalities=["image", "text"])
    await router.chat(request(), [Candidate(provider, "img", model)], Attempt(), far())
    assert provider.calls[0].modalities == ["image", "text"]


async def test_images_fall_back_too():
    providers, router, candidates = setup("a", "b")
    providers["a"].fail_next(ProviderUnavailable("a: 500"))
    response = await router.images(ImageRequest(prompt="a cat", n=2), candidates, Attempt(), far())
    assert len(response.data) == 2


def test_cost_uses_prices_per_million_tokens_and_per_image():
    model = make_model("p", "m", prompt_price=0.5, completion_price=1.5, image_price=0.04)
    assert chat_cost(model, 1000, 2000) == pytest.approx((500 + 3000) / 1e6)
    assert chat_cost(None, 1000, 2000) == 0
    assert chat_cost(make_model("p", "free"), 10, 10) == 0
    assert image_cost(model, 3) == pytest.approx(0.12)


def test_configured_fallbacks_follow_the_model_own_candidates_without_repeats():
    providers = {n: FakeProvider(n) for n in ("a", "b")}
    router = Router(
        providers,
        fallbacks={"a/x": ["b/y", "a/x", "nobody/z"], "gone/model": ["b/y"]},
    )
    assert [c.gateway_id for c in router.candidates("a/x")] == ["a/x", "b/y"]
    # A model that no longer resolves still has its configured fallbacks.
    assert [c.gateway_id for c in router.candidates("gone/model")] == ["b/y"]
    assert [c.gateway_id for c in router.candidates("b/y")] == ["b/y"]


async def test_a_configured_fallback_serves_when_the_model_fails():
    providers = {n: FakeProvider(n) for n in ("a", "b")}
    router = Router(providers, fallbacks={"a/x": ["b/y"]})
    providers["a"].fail_next(ProviderUnavailable("a: 503"))
    attempt = Attempt()
    await router.chat(request(), router.candidates("a/x"), attempt, far())
    assert attempt.candidate.gateway_id == "b/y" and providers["b"].calls[0].model == "y"
