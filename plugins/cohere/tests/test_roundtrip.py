"""Property: OpenAI messages → Cohere v2 body → back gives the same roles, text and calls.

The way back reads the body as Cohere would: assistant turns go through the adapter's
own response reader (as if Cohere had answered them), the rest role by role.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from freeway.providers.types import ChatRequest
from freeway_provider_cohere.translate import from_cohere, to_cohere

text = st.text(min_size=1, max_size=40)
names = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)
args = st.dictionaries(names, st.one_of(st.integers(), st.text(max_size=10)), max_size=3)


@st.composite
def tool_turn(draw: st.DrawFn) -> list[dict[str, Any]]:
    """An assistant turn with 1–3 calls (and maybe a plan), then one result per call."""
    calls = [
        {
            "id": f"{draw(names)}_{i}",
            "type": "function",
            "function": {"name": draw(names), "arguments": json.dumps(draw(args))},
        }
        for i in range(draw(st.integers(1, 3)))
    ]
    turn: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": calls}
    plan = draw(st.one_of(st.none(), text))
    if plan:
        turn["reasoning"] = plan
    results = [{"role": "tool", "tool_call_id": c["id"], "content": draw(text)} for c in calls]
    return [turn, *results]


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


def joined(content: Any) -> str:
    return content if isinstance(content, str) else "".join(b["text"] for b in content)


def expected(messages: list[dict[str, Any]]) -> list[tuple]:
    out: list[tuple] = []
    for m in messages:
        role = "system" if m["role"] == "developer" else m["role"]
        if role == "assistant":
            calls = [
                (c["id"], c["function"]["name"], c["function"]["arguments"])
                for c in m.get("tool_calls") or []
            ]
            out.append(("assistant", m["content"], calls, m.get("reasoning")))
        elif role == "tool":
            out.append(("tool", m["tool_call_id"], m["content"]))
        else:
            out.append((role, joined(m["content"])))
    return out


def back(body: dict[str, Any]) -> list[tuple]:
    out: list[tuple] = []
    for m in body["messages"]:
        if m["role"] == "assistant":
            blocks = [{"type": "text", "text": m["content"]}] if "content" in m else []
            native = {
                "tool_calls": m.get("tool_calls"),
                "tool_plan": m.get("tool_plan"),
                "content": blocks,
            }
            message = (
                from_cohere({"message": native, "finish_reason": "COMPLETE"}, "m")
                .choices[0]
                .message
            )
            calls = [
                (c["id"], c["function"]["name"], c["function"]["arguments"])
                for c in message.tool_calls or []
            ]
            out.append(("assistant", message.content, calls, message.reasoning))
        elif m["role"] == "tool":
            out.append(("tool", m["tool_call_id"], m["content"]))
        else:
            out.append((m["role"], joined(m["content"])))
    return out


@settings(max_examples=200, deadline=None)
@given(conversations)
def test_messages_survive_the_round_trip(messages: list[dict[str, Any]]) -> None:
    body = to_cohere(ChatRequest(model="command-a-03-2025", messages=messages))
    assert back(body) == expected(messages)
    assert {m["role"] for m in body["messages"]} <= {"system", "user", "assistant", "tool"}
