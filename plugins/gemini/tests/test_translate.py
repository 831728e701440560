"""OpenAI request → Gemini body: every mapping and refusal in providers.md §3.2/§3.8."""

from __future__ import annotations

from typing import Any

import pytest

from freeway.errors import ValidationFailed
from freeway.providers.types import ChatRequest
from freeway_provider_gemini.translate import gemini_schema, to_gemini

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "city": {"type": "string", "format": "hostname"},
                "unit": {"type": ["string", "null"], "enum": ["c", "f", None]},
                "when": {"$ref": "#/$defs/Day"},
            },
            "required": ["city"],
            "$defs": {"Day": {"type": "string", "format": "date-time", "examples": ["x"]}},
        },
        "strict": True,
    },
}


def body(**fields: Any) -> dict[str, Any]:
    fields.setdefault("messages", [{"role": "user", "content": "Hi"}])
    return to_gemini(ChatRequest(model="gemini-2.5-flash", **fields))


def rejected(param: str, **fields: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        body(**fields)
    assert caught.value.param == param
    assert param in caught.value.message
    assert caught.value.status_code == 400
    return caught.value


def test_assistant_role_becomes_model() -> None:
    sent = body(
        messages=[
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": [{"type": "text", "text": "Bye"}]},
        ]
    )
    assert [c["role"] for c in sent["contents"]] == ["user", "model", "user"]
    assert sent["contents"][1]["parts"] == [{"text": "Hello"}]
    assert "assistant" not in str(sent)


def test_every_system_and_developer_message_goes_to_system_instruction() -> None:
    sent = body(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Use French."}]},
            {"role": "user", "content": "Hi"},
            {"role": "system", "content": "Never swear."},
            {"role": "assistant", "content": "Salut"},
        ]
    )
    assert sent["systemInstruction"] == {
        "parts": [{"text": "Be brief."}, {"text": "Use French."}, {"text": "Never swear."}]
    }
    assert [c["role"] for c in sent["contents"]] == ["user", "model"]


def test_system_message_with_an_image_is_refused() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    rejected("messages[0].content", messages=[{"role": "system", "content": [image]}])


def tool_history(*results: str) -> list[dict[str, Any]]:
    calls = [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        },
        {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
    ]
    return [
        {"role": "user", "content": "Weather and time in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": "call_1", "content": results[0]},
        {"role": "tool", "tool_call_id": "call_2", "content": results[1]},
    ]


def test_tool_calls_become_function_calls_with_object_args() -> None:
    sent = body(messages=tool_history("sunny", "noon"))
    model_turn = sent["contents"][1]
    assert model_turn == {
        "role": "model",
        "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
            {"functionCall": {"name": "get_time", "args": {}}},
        ],
    }


def test_consecutive_tool_results_merge_into_one_user_turn_with_names() -> None:
    sent = body(messages=tool_history("sunny", '{"time": "12:00"}'))
    assert len(sent["contents"]) == 3
    results = sent["contents"][2]
    assert results["role"] == "user"
    assert results["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}},
        {"functionResponse": {"name": "get_time", "response": {"time": "12:00"}}},
    ]


def test_tool_result_for_an_unknown_call_names_the_field() -> None:
    messages = [
        *tool_history("a", "b")[:2],
        {"role": "tool", "tool_call_id": "nope", "content": "x"},
    ]
    rejected("messages[2].tool_call_id", messages=messages)


def test_tool_call_arguments_that_are_not_an_object_are_refused() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1, 2]"}}
    messages = [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [call]}]
    rejected("messages[1].tool_calls[0].function.arguments", messages=messages)


def test_thought_signature_in_the_tool_call_id_is_sent_back_on_the_part() -> None:
    call = {
        "id": "call_abc__thought__CpwCsig==",
        "type": "function",
        "function": {"name": "f", "arguments": "{}"},
    }
    messages = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "ok"},
    ]
    part = body(messages=messages)["contents"][1]["parts"][0]
    assert part["thoughtSignature"] == "CpwCsig=="
    assert body(messages=messages)["contents"][2]["parts"][0]["functionResponse"]["name"] == "f"


def test_generation_config_maps_sampling_fields() -> None:
    sent = body(
        temperature=0.2,
        top_p=0.9,
        max_tokens=100,
        max_completion_tokens=50,
        stop="END",
        n=2,
        seed=7,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
    )
    assert sent["generationConfig"] == {
        "temperature": 0.2,
        "topP": 0.9,
        "maxOutputTokens": 50,
        "stopSequences": ["END"],
        "candidateCount": 2,
        "seed": 7,
        "presencePenalty": 0.5,
        "frequencyPenalty": -0.5,
    }


def test_plain_request_sends_no_generation_config() -> None:
    assert body() == {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}


def test_more_than_five_stop_sequences_are_refused() -> None:
    rejected("stop", stop=["a", "b", "c", "d", "e", "f"])


def test_json_object_response_format_sets_the_mime_type() -> None:
    sent = body(response_format={"type": "json_object"})
    assert sent["generationConfig"] == {"responseMimeType": "application/json"}


def test_json_schema_response_format_sends_a_cleaned_schema() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"a": {"type": "integer"}},
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema, "strict": True}}
    config = body(response_format=fmt)["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"] == {"type": "object", "properties": {"a": {"type": "integer"}}}


def test_unknown_response_format_is_refused() -> None:
    rejected("response_format.type", response_format={"type": "xml"})


def test_tools_become_function_declarations_without_rejected_schema_keywords() -> None:
    sent = body(tools=[WEATHER])
    declaration = sent["tools"][0]["functionDeclarations"][0]
    assert declaration == {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "nullable": True, "enum": ["c", "f", None]},
                "when": {"type": "string", "format": "date-time"},
            },
            "required": ["city"],
        },
    }
    text = str(sent)
    for keyword in ("additionalProperties", "$schema", "strict", "$ref", "$defs", "examples"):
        assert keyword not in text


def test_a_tool_without_parameters_sends_no_empty_object_schema() -> None:
    tool = {
        "type": "function",
        "function": {"name": "now", "parameters": {"type": "object", "properties": {}}},
    }
    assert body(tools=[tool])["tools"] == [{"functionDeclarations": [{"name": "now"}]}]


def test_unresolvable_schema_ref_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        gemini_schema({"type": "object", "properties": {"a": {"$ref": "#/$defs/Missing"}}})


def test_recursive_schema_ref_is_refused_not_looped() -> None:
    schema = {
        "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
        "$ref": "#/$defs/Node",
    }
    with pytest.raises(ValidationFailed):
        gemini_schema(schema)


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("none", {"mode": "NONE"}),
        ("auto", {"mode": "AUTO"}),
        ("required", {"mode": "ANY"}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"mode": "ANY", "allowedFunctionNames": ["get_weather"]},
        ),
    ],
)
def test_tool_choice_maps_to_function_calling_mode(choice: Any, config: dict) -> None:
    sent = body(tools=[WEATHER], tool_choice=choice)
    assert sent["toolConfig"] == {"functionCallingConfig": config}


def test_required_tool_choice_without_tools_is_refused() -> None:
    rejected("tool_choice", tool_choice="required")


def test_data_url_image_becomes_inline_data() -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ", "detail": "low"},
        },
    ]
    parts = body(messages=[{"role": "user", "content": content}])["contents"][0]["parts"]
    assert parts == [
        {"text": "What is this?"},
        {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
    ]


def test_http_image_url_is_refused_with_how_to_fix() -> None:
    content = [
        {"type": "text", "text": "x"},
        {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
    ]
    error = rejected(
        "messages[0].content[1].image_url.url", messages=[{"role": "user", "content": content}]
    )
    assert "data: URL" in error.message


def test_audio_input_becomes_inline_data() -> None:
    content = [{"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]
    parts = body(messages=[{"role": "user", "content": content}])["contents"][0]["parts"]
    assert parts == [{"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}}]


@pytest.mark.parametrize(
    ("field", "value"),
    [("logprobs", True), ("top_logprobs", 3), ("modalities", ["text", "audio"])],
)
def test_fields_gemini_cannot_honour_are_refused(field: str, value: Any) -> None:
    rejected(field, **{field: value})


def test_unknown_extra_field_is_refused_by_name() -> None:
    request = ChatRequest(model="gemini-2.5-flash", messages=[{"role": "user", "content": "x"}])
    request.extra = {"provider": {"order": ["x"]}}
    with pytest.raises(ValidationFailed) as caught:
        to_gemini(request)
    assert caught.value.param == "provider"


def test_logit_bias_is_refused_unless_empty() -> None:
    request = ChatRequest(model="gemini-2.5-flash", messages=[{"role": "user", "content": "x"}])
    request.extra = {"logit_bias": {}}
    to_gemini(request)
    request.extra = {"logit_bias": {"50256": -100}}
    with pytest.raises(ValidationFailed, match="logit_bias"):
        to_gemini(request)


def test_metadata_fields_are_dropped() -> None:
    request = ChatRequest(
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": "x"}],
        user="u-1",
        parallel_tool_calls=False,
    )
    request.extra = {"service_tier": "auto", "store": False, "metadata": {"a": "b"}}
    assert to_gemini(request) == {"contents": [{"role": "user", "parts": [{"text": "x"}]}]}


@pytest.mark.parametrize(
    ("model", "thinking"),
    [
        ("gemini-2.5-flash", {"thinkingBudget": 1024}),
        ("gemini-3-pro-preview", {"thinkingLevel": "low"}),
    ],
)
def test_reasoning_effort_sets_thinking_config(model: str, thinking: dict) -> None:
    request = ChatRequest(model=model, messages=[{"role": "user", "content": "x"}])
    request.extra = {"reasoning_effort": "low"}
    assert to_gemini(request)["generationConfig"] == {"thinkingConfig": thinking}


def test_image_modality_asks_for_image_output() -> None:
    sent = body(modalities=["text", "image"])
    assert sent["generationConfig"] == {"responseModalities": ["TEXT", "IMAGE"]}
