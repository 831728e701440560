"""The Mistral adapter against fixtures written from Mistral's docs (providers.md §5)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

import freeway_provider_mistral as plugin
from freeway.errors import ProviderUnavailable, UpstreamAuthError, UpstreamBadRequest
from freeway.providers import ChatRequest, ImageRequest
from freeway.testing import FixtureUpstream, ProviderContract
from freeway_provider_mistral.provider import DEFAULT_BASE_URL, MistralProvider
from freeway_provider_mistral.translate import mistral_tool_id

FIXTURES = Path(__file__).parent / "fixtures"
ROUTES = {
    "GET /models": "models.json",
    "POST /chat/completions": "chat.json",
    "POST /chat/completions stream": "chat_stream.sse",
}


def serve(**overrides: str) -> FixtureUpstream:
    return FixtureUpstream(FIXTURES, {**ROUTES, **overrides})


def make(upstream, **kw) -> MistralProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    return MistralProvider(api_key="mk-test", client=client, **kw)


def chat(model: str = "mistral-small-latest", **kw) -> ChatRequest:
    kw.setdefault("messages", [{"role": "user", "content": "hi"}])
    return ChatRequest(model=model, **kw)


async def sent_body(request: ChatRequest) -> dict:
    upstream = serve()
    await make(upstream).chat(request)
    return upstream.body()


class TestMistralContract(ProviderContract):
    model = "mistral-small-latest"

    def make_provider(self, client: httpx.AsyncClient) -> MistralProvider:
        return MistralProvider(api_key="mk-test", client=client)

    def upstream(self, request: httpx.Request) -> httpx.Response:
        return serve()(request)


# --- models --------------------------------------------------------------------------


async def test_models_skip_non_chat_and_deprecated_models() -> None:
    ids = [m.upstream_id for m in await make(serve()).list_models()]
    assert ids == [
        "mistral-small-latest",
        "mistral-large-2411",
        "magistral-medium-latest",
        "ft:open-mistral-7b:abc:20240601",
    ]


async def test_models_carry_context_capabilities_and_table_prices() -> None:
    models = {m.upstream_id: m for m in await make(serve()).list_models()}
    small = models["mistral-small-latest"]
    assert small.id == "mistral/mistral-small-latest" and small.context_length == 131072
    assert small.input_modalities == ["text", "image"] and small.supports_tools is True
    assert (small.prompt_price, small.completion_price) == (0.1, 0.3)
    large = models["mistral-large-2411"]
    assert large.input_modalities == ["text"] and (large.prompt_price, large.completion_price) == (
        2.0,
        6.0,
    )
    tuned = models["ft:open-mistral-7b:abc:20240601"]
    assert tuned.name == tuned.upstream_id and tuned.prompt_price is None
    assert tuned.supports_tools is False


async def test_free_tier_lists_models_as_free() -> None:
    models = await make(serve(), free_tier=True).list_models()
    assert all(m.is_free and m.prompt_price == 0 for m in models)


# --- request mapping -----------------------------------------------------------------


async def test_seed_becomes_random_seed() -> None:
    body = await sent_body(chat(seed=42))
    assert body["random_seed"] == 42 and "seed" not in body


async def test_max_completion_tokens_is_sent_as_max_tokens_and_wins() -> None:
    body = await sent_body(chat(max_tokens=10, max_completion_tokens=99))
    assert body["max_tokens"] == 99 and "max_completion_tokens" not in body


async def test_names_nulls_and_empty_assistant_turns_are_removed() -> None:
    body = await sent_body(
        chat(
            messages=[
                {"role": "developer", "content": "be brief"},
                {"role": "user", "content": "hi", "name": "alice"},
                {"role": "assistant", "content": None},
                {"role": "assistant", "content": "hello", "refusal": None},
                {"role": "user", "content": [{"type": "text", "text": "again"}]},
            ]
        )
    )
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": [{"type": "text", "text": "again"}]},
    ]


async def test_fields_mistral_rejects_are_dropped_but_its_own_pass() -> None:
    body = await sent_body(
        chat(
            logprobs=True,
            top_logprobs=3,
            user="u-1",
            extra={"logit_bias": {"1": 2}, "service_tier": "auto", "safe_prompt": True},
        )
    )
    for key in ("logprobs", "top_logprobs", "logit_bias", "service_tier", "user"):
        assert key not in body
    assert body["safe_prompt"] is True


async def test_required_tool_choice_becomes_any() -> None:
    tools = [{"type": "function", "function": {"name": "a", "parameters": {}}}]
    body = await sent_body(chat(tools=tools, tool_choice="required"))
    assert body["tool_choice"] == "any" and body["tools"] == tools


async def test_named_tool_choice_becomes_any_over_that_tool() -> None:
    tools = [
        {"type": "function", "function": {"name": "a", "parameters": {}}},
        {"type": "function", "function": {"name": "b", "parameters": {}}},
    ]
    choice = {"type": "function", "function": {"name": "b"}}
    body = await sent_body(chat(tools=tools, tool_choice=choice))
    assert body["tool_choice"] == "any"
    assert [t["function"]["name"] for t in body["tools"]] == ["b"]


async def test_auto_and_none_tool_choice_pass_unchanged() -> None:
    tools = [{"type": "function", "function": {"name": "a", "parameters": {}}}]
    assert (await sent_body(chat(tools=tools, tool_choice="auto")))["tool_choice"] == "auto"
    assert (await sent_body(chat(tools=tools, tool_choice="none")))["tool_choice"] == "none"


async def test_foreign_tool_call_ids_become_stable_nine_character_ids() -> None:
    call = {
        "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA",
        "type": "function",
        "function": {"name": "get_weather", "arguments": "{}"},
    }
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_DdmO9pD3xa9XTPNJ32zg2hcA", "content": "sunny"},
    ]
    body = await sent_body(chat(messages=messages))
    new_id = body["messages"][1]["tool_calls"][0]["id"]
    assert len(new_id) == 9 and new_id.isalnum()
    assert body["messages"][2]["tool_call_id"] == new_id
    assert "content" not in body["messages"][1]  # null content is stripped
    assert mistral_tool_id("call_DdmO9pD3xa9XTPNJ32zg2hcA") == new_id  # deterministic
    assert mistral_tool_id("D681PevKs") == "D681PevKs"  # Mistral's own ids are kept


async def test_stream_does_not_send_stream_options() -> None:
    upstream = serve()
    [c async for c in make(upstream).stream_chat(chat(stream=True))]
    assert upstream.body()["stream"] is True and "stream_options" not in upstream.body()


def test_base_url_without_v1_gets_it() -> None:
    client = httpx.AsyncClient()
    assert MistralProvider(api_key="k", client=client, base_url="https://api.mistral.ai").url(
        "/models"
    ) == ("https://api.mistral.ai/v1/models")
    assert (
        MistralProvider(api_key="k", client=client, base_url="https://eu.example/v1/").base_url
        == "https://eu.example/v1"
    )


# --- answers -------------------------------------------------------------------------


async def test_model_length_finish_reason_becomes_length() -> None:
    upstream = serve(**{"POST /chat/completions": "chat_model_length.json"})
    response = await make(upstream).chat(chat())
    assert response.choices[0].finish_reason == "length"


async def test_error_finish_reason_is_a_retryable_failure() -> None:
    upstream = serve(**{"POST /chat/completions": "chat_error_finish.json"})
    with pytest.raises(ProviderUnavailable) as caught:
        await make(upstream).chat(chat())
    assert caught.value.retryable


async def test_reasoning_model_list_content_is_flattened() -> None:
    upstream = serve(**{"POST /chat/completions": "chat_magistral.json"})
    message = (await make(upstream).chat(chat("magistral-medium-latest"))).choices[0].message
    assert message.content == "2 + 2 = 4."
    assert message.reasoning == "The user asks 2+2. That is 4."


async def test_streamed_list_content_and_model_length_are_normalized() -> None:
    upstream = serve(**{"POST /chat/completions stream": "stream_magistral.sse"})
    chunks = [c async for c in make(upstream).stream_chat(chat(stream=True))]
    assert chunks[0].choices[0].delta.reasoning == "Adding."
    assert chunks[0].choices[0].delta.content is None
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "4"
    assert chunks[-2].choices[0].finish_reason == "length"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 9


async def test_whole_tool_call_in_one_delta_is_passed_through() -> None:
    upstream = serve(**{"POST /chat/completions stream": "stream_tool_call.sse"})
    chunks = [c async for c in make(upstream).stream_chat(chat(stream=True))]
    calls = [tc for c in chunks for ch in c.choices for tc in ch.delta.tool_calls or []]
    assert len(calls) == 1 and calls[0]["id"] == "Xk3mP9qLz"
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris"}
    assert chunks[-1].usage.completion_tokens == 20


async def test_tool_call_answer_keeps_mistral_ids() -> None:
    upstream = serve(**{"POST /chat/completions": "chat_tool_call.json"})
    response = await make(upstream).chat(chat("mistral-large-latest"))
    assert response.choices[0].message.tool_calls[0]["id"] == "D681PevKs"
    assert response.choices[0].finish_reason == "tool_calls"


async def test_images_are_refused() -> None:
    with pytest.raises(UpstreamBadRequest, match="does not generate images"):
        await make(serve()).images(ImageRequest(prompt="a cat"))


# --- errors --------------------------------------------------------------------------


def answer(status: int, file: str):
    content = (FIXTURES / file).read_bytes()
    return lambda request: httpx.Response(status, content=content)


async def test_422_validation_error_names_the_field_and_is_not_retried() -> None:
    with pytest.raises(UpstreamBadRequest) as caught:
        await make(answer(422, "error_422.json")).chat(chat())
    assert caught.value.retryable is False
    assert "messages.0.user.name: Extra inputs are not permitted" in caught.value.message


async def test_401_is_an_upstream_auth_error() -> None:
    with pytest.raises(UpstreamAuthError, match="Unauthorized"):
        await make(answer(401, "error_401.json")).chat(chat())


# --- the hook ------------------------------------------------------------------------


def test_hook_returns_nothing_without_a_key_and_says_why(make_settings, caplog) -> None:
    with caplog.at_level(logging.INFO):
        assert plugin.freeway_providers(settings=make_settings()) == []
    assert "MISTRAL_API_KEY" in caplog.text


def test_hook_builds_the_provider_from_settings(make_settings) -> None:
    [provider] = plugin.freeway_providers(settings=make_settings(MISTRAL_API_KEY="mk"))
    assert provider.name == "mistral" and provider.base_url == DEFAULT_BASE_URL
    [custom] = plugin.freeway_providers(
        settings=make_settings(
            MISTRAL_API_KEY="mk", MISTRAL_BASE_URL="http://m.test", MISTRAL_FREE_TIER="1"
        )
    )
    assert custom.base_url == "http://m.test/v1" and custom.free_tier is True
