"""OpenAI request → Cohere v2 body: every mapping and refusal in providers.md §6.2/§6.7."""

from __future__ import annotations

from typing import Any

import pytest

from freeway.errors import ValidationFailed
from freeway.providers.types import ChatRequest
from freeway_provider_cohere.translate import to_cohere

MODEL = "command-a-03-2025"


def tool(name: str, strict: bool | None = None) -> dict[str, Any]:
    function: dict[str, Any] = {
        "name": name,
        "description": f"{name} tool",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    }
    if strict is not None:
        function["strict"] = strict
    return {"type": "function", "function": function}


def body(**fields: Any) -> dict[str, Any]:
    fields.setdefault("messages", [{"role": "user", "content": "Hi"}])
    extra = fields.pop("extra", {})
    request = ChatRequest(model=MODEL, **fields)
    request.extra = extra
    return to_cohere(request)


def rejected(param: str, **fields: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        body(**fields)
    assert caught.value.param == param and param in caught.value.message
    assert caught.value.status_code == 400
    return caught.value


def test_plain_request_is_model_and_v2_messages() -> None:
    assert body() == {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}


def test_roles_stay_lowercase_v2_and_developer_is_system() -> None:
    sent = body(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "Use French."},
            {"role": "user", "content": "Hi", "name": "ann"},
            {"role": "assistant", "content": "Salut"},
        ]
    )
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "system", "content": "Use French."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Salut"},
    ]
    text = str(sent)
    for v1 in ("CHATBOT", "USER", "SYSTEM", "chat_history", "preamble"):
        assert v1 not in text


def test_content_parts_become_typed_blocks() -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "high"}},
    ]
    sent = body(messages=[{"role": "user", "content": content}])
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]


def test_audio_input_is_refused_by_field() -> None:
    content = [{"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]
    rejected("messages[0].content[0].type", messages=[{"role": "user", "content": content}])


def test_assistant_tool_calls_and_tool_results_keep_openai_shape() -> None:
    calls = [
        {
            "id": "c1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'},
        }
    ]
    sent = body(
        messages=[
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": calls,
                "reasoning": "I will look it up.",
            },
            {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "sunny"}]},
        ]
    )
    assert sent["messages"][1] == {
        "role": "assistant",
        "tool_calls": calls,
        "tool_plan": "I will look it up.",
    }
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": "c1", "content": "sunny"}


def test_tool_message_without_a_call_id_is_refused() -> None:
    rejected(
        "messages[1].tool_call_id",
        messages=[{"role": "user", "content": "x"}, {"role": "tool", "content": "y"}],
    )


def test_sampling_fields_are_renamed() -> None:
    sent = body(
        temperature=0.3,
        top_p=0.75,
        max_tokens=100,
        max_completion_tokens=60,
        stop=["END", "STOP"],
        seed=11,
        frequency_penalty=0.1,
        presence_penalty=0.2,
        extra={"top_k": 40},
    )
    assert {k: v for k, v in sent.items() if k not in ("model", "messages")} == {
        "temperature": 0.3,
        "p": 0.75,
        "max_tokens": 60,
        "stop_sequences": ["END", "STOP"],
        "seed": 11,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.2,
        "k": 40,
    }
    assert "top_p" not in sent and "stop" not in sent


def test_single_stop_string_becomes_a_list() -> None:
    assert body(stop="END")["stop_sequences"] == ["END"]


def test_more_than_five_stop_sequences_are_refused() -> None:
    rejected("stop", stop=list("abcdef"))


def test_several_choices_are_refused() -> None:
    rejected("n", n=2)
    assert "n" not in body(n=1)


@pytest.mark.parametrize(("choice", "sent"), [("none", "NONE"), ("required", "REQUIRED")])
def test_tool_choice_is_uppercase(choice: str, sent: str) -> None:
    assert body(tools=[tool("a")], tool_choice=choice)["tool_choice"] == sent


def test_auto_tool_choice_is_sent_by_omitting_the_field() -> None:
    sent = body(tools=[tool("a")], tool_choice="auto")
    assert "tool_choice" not in sent and len(sent["tools"]) == 1


def test_named_tool_choice_filters_tools_and_requires_a_call() -> None:
    sent = body(
        tools=[tool("a"), tool("b")], tool_choice={"type": "function", "function": {"name": "b"}}
    )
    assert sent["tool_choice"] == "REQUIRED"
    assert [t["function"]["name"] for t in sent["tools"]] == ["b"]


def test_named_tool_choice_for_a_missing_tool_is_refused() -> None:
    rejected(
        "tool_choice.function.name",
        tools=[tool("a")],
        tool_choice={"type": "function", "function": {"name": "zz"}},
    )


def test_strict_moves_out_of_the_function_to_strict_tools() -> None:
    sent = body(tools=[tool("a", strict=True), tool("b")])
    assert sent["strict_tools"] is True
    assert all("strict" not in t["function"] for t in sent["tools"])
    assert "strict_tools" not in body(tools=[tool("a", strict=False)])


def test_json_object_and_json_schema_response_formats() -> None:
    assert body(response_format={"type": "json_object"})["response_format"] == {
        "type": "json_object"
    }
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema, "strict": True}}
    assert body(response_format=fmt)["response_format"] == {
        "type": "json_object",
        "json_schema": schema,
    }
    assert "response_format" not in body(response_format={"type": "text"})


def test_unknown_response_format_is_refused() -> None:
    rejected("response_format.type", response_format={"type": "yaml"})


@pytest.mark.parametrize(
    ("effort", "thinking"),
    [("none", {"type": "disabled"}), ("high", {"type": "enabled", "token_budget": 24576})],
)
def test_reasoning_effort_becomes_thinking(effort: str, thinking: dict) -> None:
    assert body(extra={"reasoning_effort": effort})["thinking"] == thinking


def test_cohere_native_fields_pass_through() -> None:
    docs = [{"id": "d1", "data": {"text": "Paris is in France."}}]
    sent = body(
        extra={"documents": docs, "safety_mode": "STRICT", "citation_options": {"mode": "FAST"}}
    )
    assert sent["documents"] == docs and sent["safety_mode"] == "STRICT"
    assert sent["citation_options"] == {"mode": "FAST"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("logprobs", True), ("top_logprobs", 2), ("modalities", ["text", "image"])],
)
def test_fields_cohere_cannot_honour_are_refused(field: str, value: Any) -> None:
    rejected(field, **{field: value})


def test_unknown_extra_field_is_refused_and_metadata_dropped() -> None:
    rejected("provider", extra={"provider": {"order": ["x"]}})
    sent = body(
        user="u1", parallel_tool_calls=True, extra={"service_tier": "auto", "logit_bias": {}}
    )
    assert sent == {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}
    rejected("logit_bias", extra={"logit_bias": {"1": 5}})
