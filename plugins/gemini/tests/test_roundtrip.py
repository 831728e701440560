"""Property: OpenAI messages → Gemini body → back gives the same roles, text and calls.

The way back reads the body as Gemini would: ``systemInstruction`` parts are the
system messages, ``model`` turns go through the adapter's own response reader, and
``functionResponse`` parts are the tool results (named after the recovered call).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from freeway.providers.types import ChatRequest
from freeway_provider_gemini.translate import from_gemini, to_gemini

text = st.text(min_size=1, max_size=40)
names = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)
args = st.dictionaries(
    names, st.one_of(st.integers(), st.text(max_size=10), st.booleans()), max_size=3
)


@st.composite
def tool_turn(draw: st.DrawFn) -> list[dict[str, Any]]:
    """An assistant turn with 1–3 calls followed by one result per call."""
    count = draw(st.integers(1, 3))
    calls = [
        {
            "id": f"call_{draw(names)}_{i}",
            "type": "function",
            "function": {"name": draw(names), "arguments": json.dumps(draw(args))},
        }
        for i in range(count)
    ]
    prose = draw(st.one_of(st.none(), text))
    results = [{"role": "tool", "tool_call_id": c["id"], "content": draw(text)} for c in calls]
    return [{"role": "assistant", "content": prose, "tool_calls": calls}, *results]


simple = st.one_of(
    st.builds(lambda t: [{"role": "system", "content": t}], text),
    st.builds(lambda t: [{"role": "developer", "content": t}], text),
    st.builds(lambda t: [{"role": "user", "content": t}], text),
    st.builds(
        lambda ts: [{"role": "user", "content": [{"type": "text", "text": t} for t in ts]}],
        st.lists(text, min_size=1, max_size=3),
    ),
    st.builds(lambda t: [{"role": "assistant", "content": t}], text),
)
conversations = st.lists(st.one_of(simple, tool_turn()), min_size=1, max_size=8).map(
    lambda turns: [m for turn in turns for m in turn]
)


def content_text(content: Any) -> str:
    return content if isinstance(content, str) else "".join(p["text"] for p in content)


def expected(messages: list[dict[str, Any]]) -> tuple[list[str], list[tuple]]:
    """(system texts, the rest as comparable tuples), in the original order."""
    system = [content_text(m["content"]) for m in messages if m["role"] in ("system", "developer")]
    names: dict[str, str] = {}  # the latest call with an id names its result
    rest: list[tuple] = []
    for m in messages:
        names.update({c["id"]: c["function"]["name"] for c in m.get("tool_calls") or []})
        if m["role"] == "user":
            rest.append(("user", content_text(m["content"])))
        elif m["role"] == "assistant":
            calls = [
                (c["function"]["name"], json.loads(c["function"]["arguments"]))
                for c in m.get("tool_calls") or []
            ]
            rest.append(("assistant", m["content"], calls))
        elif m["role"] == "tool":
            rest.append(("tool", names[m["tool_call_id"]], m["content"]))
    return system, rest


def back(body: dict[str, Any]) -> tuple[list[str], list[tuple]]:
    system = [p["text"] for p in body.get("systemInstruction", {}).get("parts", [])]
    rest: list[tuple] = []
    for content in body["contents"]:
        if content["role"] == "model":
            answer = from_gemini(
                {"candidates": [{"content": content, "finishReason": "STOP"}]}, "m"
            )
            message = answer.choices[0].message
            calls = [
                (c["function"]["name"], json.loads(c["function"]["arguments"]))
                for c in message.tool_calls or []
            ]
            rest.append(("assistant", message.content, calls))
            continue
        assert content["role"] == "user"
        texts = [p["text"] for p in content["parts"] if "text" in p]
        if texts:
            rest.append(("user", "".join(texts)))
        for part in content["parts"]:
            if "functionResponse" in part:
                response = part["functionResponse"]["response"]
                result = response["result"] if set(response) == {"result"} else json.dumps(response)
                rest.append(("tool", part["functionResponse"]["name"], result))
    return system, rest


@settings(max_examples=200, deadline=None)
@given(conversations)
def test_messages_survive_the_round_trip(messages: list[dict[str, Any]]) -> None:
    body = to_gemini(ChatRequest(model="gemini-2.5-flash", messages=messages))
    assert back(body) == expected(messages)
    roles = [c["role"] for c in body["contents"]]
    assert set(roles) <= {"user", "model"}
    # tool results of one assistant turn share a single user turn
    for content in body["contents"]:
        kinds = {"functionResponse" in p for p in content["parts"]}
        assert len(kinds) == 1


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(names, st.one_of(st.integers(), st.text(max_size=5)), min_size=1, max_size=4)
)
def test_json_object_tool_results_are_sent_as_objects(result: dict[str, Any]) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": json.dumps(result)},
    ]
    body = to_gemini(ChatRequest(model="gemini-2.5-flash", messages=messages))
    assert body["contents"][2]["parts"][0]["functionResponse"]["response"] == result
